//! Threshold alerts: a queue whose oldest waiting interaction has waited longer than the
//! tenant's `alerts.longest_wait` is in alert. The dispatcher checks after every step; each
//! change (raised, cleared) is POSTed as JSON to the tenant's webhook, if it has one, by a
//! thread of its own so that a slow receiver never holds routing up.

use std::sync::mpsc;
use std::time::Duration;

use sb_config::Webhook;

/// How long the webhook client waits to connect, to send and for the answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Which queues are in alert, and where changes go.
#[derive(Debug)]
pub struct Watch {
    threshold: Duration,
    in_alert: Vec<bool>,
    notices: Option<mpsc::Sender<String>>,
}

impl Watch {
    pub fn new(tenant: &str, queues: usize, threshold: Duration, webhook: Option<Webhook>) -> Watch {
        let notices = webhook.map(|hook| {
            let (tx, rx) = mpsc::channel::<String>();
            let name = format!("webhook-{tenant}");
            std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    for body in rx {
                        if let Err(e) = post(&hook, &body) {
                            tracing::warn!(url = %hook.url, error = %e, "the alert webhook failed");
                        }
                    }
                })
                .expect("starting the webhook thread");
            tx
        });
        Watch { threshold, in_alert: vec![false; queues], notices }
    }

    pub fn threshold(&self) -> Duration {
        self.threshold
    }

    /// Updates a queue's alert from its longest wait; on a change, sends the notice.
    pub fn check(&mut self, tenant: &str, queue: usize, name: &str, longest_wait: Option<Duration>, at_ms: i64) {
        let alert = longest_wait.is_some_and(|w| w > self.threshold);
        if alert == self.in_alert[queue] {
            return;
        }
        self.in_alert[queue] = alert;
        tracing::info!(tenant, queue = name, alert, "queue alert changed");
        if let Some(tx) = &self.notices {
            let body = serde_json::json!({
                "tenant": tenant,
                "queue": name,
                "alert": "longest_wait",
                "state": if alert { "raised" } else { "cleared" },
                "longest_wait_seconds": longest_wait.map(|w| w.as_secs()),
                "threshold_seconds": self.threshold.as_secs(),
                "at_ms": at_ms,
            });
            let _ = tx.send(body.to_string());
        }
    }

    pub fn in_alert(&self, queue: usize) -> bool {
        self.in_alert[queue]
    }
}

/// POSTs `body` as JSON and checks for a 2xx answer.
fn post(hook: &Webhook, body: &str) -> Result<(), String> {
    let answer = crate::http_client::request("POST", hook, Some(body), TIMEOUT)?;
    if (200..300).contains(&answer.status) { Ok(()) } else { Err(format!("answered {}", answer.status)) }
}
