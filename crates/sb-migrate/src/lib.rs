//! Importers from legacy contact centers: their configuration turned into a Switchboard
//! tenant file, with a translation report that says, object by object, what mapped, what
//! was approximated, what could not be translated and why, and which lines were rejected.
//!
//! Importers are pure functions of the files' text: nothing here reads files or the clock,
//! so every importer is tested on fixtures with snapshots of its tenant file and report.
//!
//! Configuration: Asterisk `queues.conf` ([`asterisk`]) and `extensions.conf`
//! ([`dialplan`]), Cisco UCCX ([`uccx`]) and the generic CSV ([`generic`]), all written by
//! [`draft`]. History: Asterisk `queue_log` ([`queue_log`]) and `Master.csv` ([`cdr_csv`]), Cisco CUCM
//! CDRs ([`cucm`]), Avaya CM CDRs ([`avaya_cdr`]) and CMS intervals ([`cms`]),
//! with the baseline KPIs of imported history ([`history`]) and the cutover's gates
//! ([`cutover`]).

pub mod asterisk;
pub mod avaya;
pub mod avaya_cdr;
pub mod cdr_csv;
pub mod cms;
pub mod csv;
pub mod cucm;
pub mod cutover;
pub mod dialplan;
pub mod draft;
mod flowgen;
pub mod generic;
pub mod history;
pub mod queue_log;
mod report;
pub mod uccx;
mod yaml;

pub use report::{Item, Outcome, Report};

/// The tenant the imported configuration becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantInfo {
    pub id: String,
    pub name: String,
    pub time_zone: String,
}

/// An importer's result: the tenant file's text, which `sb_config` accepts, and the report.
#[derive(Debug, Clone)]
pub struct Import {
    pub tenant_yaml: String,
    pub report: Report,
}

/// Makes a Switchboard id (lowercase letters, digits and '-') of a legacy name: lowercase,
/// other characters become '-', repeated and edge dashes go, and at most 63 characters.
pub fn slug_of(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_matches('-');
    let slug: String = slug.chars().take(63).collect();
    if slug.is_empty() { "unnamed".to_owned() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_of_legacy_names() {
        assert_eq!(slug_of("Sales & Support"), "sales-support");
        assert_eq!(slug_of("PJSIP/1001"), "pjsip-1001");
        assert_eq!(slug_of("--Über__Team--"), "ber-team");
        assert_eq!(slug_of("***"), "unnamed");
        assert_eq!(slug_of(&"a".repeat(100)).len(), 63);
    }
}
