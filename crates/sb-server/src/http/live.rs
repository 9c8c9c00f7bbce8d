//! The live event stream: a WebSocket per subscriber, filtered by who subscribed.

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use tokio::sync::broadcast;

use super::{ApiError, Caller};
use crate::auth::{Role, TokenKind};
use crate::dispatcher::LiveEvent;

/// The event kinds a chat customer sees of their own conversation.
const CUSTOMER_KINDS: [&str; 6] = ["message", "accepted", "completed", "abandoned", "lost", "offer_timed_out"];

/// The event kinds after which an interaction is no longer with the agent they name.
const LEAVING: [&str; 6] =
    ["rejected", "offer_timed_out", "offer_cancelled", "transferred", "completed", "wrap_up_ended"];

/// What one subscriber may see.
#[derive(Debug)]
enum Filter {
    /// Supervisors and administrators: everything of the tenant.
    All,
    /// An agent: events about them, and everything about interactions once offered to them.
    Agent { agent: String, theirs: HashSet<u64> },
    /// A chat customer: their conversation's messages and milestones.
    Customer { interaction: u64 },
}

impl Filter {
    fn admits(&mut self, event: &LiveEvent) -> bool {
        match self {
            Filter::All => true,
            Filter::Agent { agent, theirs } => {
                let own = event.agent.as_deref() == Some(agent.as_str());
                if event.offered_to.as_deref() == Some(agent.as_str())
                    && let Some(id) = event.interaction
                {
                    theirs.insert(id);
                }
                let admitted = own || event.interaction.is_some_and(|i| theirs.contains(&i));
                // Once the interaction leaves the agent, its later events are someone else's.
                if own && LEAVING.contains(&event.kind) {
                    event.interaction.map(|i| theirs.remove(&i));
                }
                admitted
            }
            Filter::Customer { interaction } => {
                event.interaction == Some(*interaction) && CUSTOMER_KINDS.contains(&event.kind)
            }
        }
    }
}

/// The live event stream: a WebSocket on which every event is sent as it is stored, one
/// JSON text message each: `{"at_ms": ..., "event": {"kind": "offered", ...}}`, in the format
/// of the event log. Supervisors see the whole tenant; agents what concerns them and the
/// interactions offered to them; a chat customer their conversation. A subscriber too slow
/// to keep up gets `{"missed": N}` and goes on. Browsers pass the credential as
/// `?access_token=` or the session cookie.
#[utoipa::path(get, path = "/api/v1/events", tag = "events",
    responses((status = 101, description = "Switching to the WebSocket protocol; events follow as text messages"),
        (status = 400, description = "Not a WebSocket upgrade request"), (status = 401, body = super::ErrorBody)))]
pub(super) async fn events(caller: Caller, upgrade: WebSocketUpgrade) -> Result<Response, ApiError> {
    let filter = if caller.who.kind == TokenKind::Customer {
        Filter::Customer { interaction: caller.who.interaction.unwrap_or_default() }
    } else if caller.who.at_least(Role::Supervisor) {
        Filter::All
    } else {
        match caller.who.agent.clone() {
            Some(agent) => Filter::Agent { agent, theirs: HashSet::new() },
            None => return Err(ApiError::forbidden("this user is neither a supervisor nor an agent")),
        }
    };
    let live = caller.tenant.live.subscribe();
    Ok(upgrade.on_upgrade(move |socket| follow(socket, live, filter)))
}

/// Forwards admitted live events to one WebSocket until either side closes.
async fn follow(mut socket: WebSocket, mut live: broadcast::Receiver<Arc<LiveEvent>>, mut filter: Filter) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let text = tokio::select! {
            event = live.recv() => match event {
                Ok(event) if filter.admits(&event) => event.json.clone(),
                Ok(_) => continue,
                Err(RecvError::Lagged(missed)) => format!("{{\"missed\":{missed}}}").into(),
                Err(RecvError::Closed) => break,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
        };
        if socket.send(Message::Text(text)).await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &'static str, interaction: Option<u64>, agent: Option<&str>, offered_to: Option<&str>) -> LiveEvent {
        LiveEvent {
            json: "{}".into(),
            kind,
            interaction,
            agent: agent.map(str::to_string),
            offered_to: offered_to.map(str::to_string),
        }
    }

    #[test]
    fn agents_see_their_own_and_customers_their_conversation() {
        let mut alice = Filter::Agent { agent: "alice".into(), theirs: HashSet::new() };
        assert!(!alice.admits(&event("created", Some(1), None, None)), "a new interaction is not hers yet");
        assert!(!alice.admits(&event("offered", Some(1), Some("bob"), Some("bob"))));
        assert!(!alice.admits(&event("message", Some(1), None, None)));
        assert!(alice.admits(&event("offered", Some(2), Some("alice"), Some("alice"))));
        assert!(alice.admits(&event("message", Some(2), None, None)), "the customer's message in her chat");
        assert!(alice.admits(&event("agent_state", None, Some("alice"), None)));
        assert!(!alice.admits(&event("agent_state", None, Some("bob"), None)));
        // After she rejects it (or transfers, completes...), its messages are not hers.
        assert!(alice.admits(&event("rejected", Some(2), Some("alice"), None)));
        assert!(!alice.admits(&event("message", Some(2), None, None)));
        assert!(!alice.admits(&event("disposition", Some(2), Some("bob"), None)));

        let mut customer = Filter::Customer { interaction: 2 };
        assert!(customer.admits(&event("message", Some(2), Some("alice"), None)));
        assert!(customer.admits(&event("accepted", Some(2), Some("alice"), None)));
        assert!(!customer.admits(&event("disposition", Some(2), Some("alice"), None)), "notes are internal");
        assert!(!customer.admits(&event("message", Some(3), None, None)));
        assert!(Filter::All.admits(&event("disposition", Some(2), Some("alice"), None)));
    }
}
