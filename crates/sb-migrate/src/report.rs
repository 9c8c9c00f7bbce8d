//! The translation report.

use std::fmt;

/// How one legacy object or setting fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Carried over with the same meaning.
    Mapped,
    /// Carried over with a meaning close to, but not the same as, the legacy one.
    Approximated,
    /// Left out: Switchboard has no counterpart, or it needs a decision of the user.
    NotTranslated,
    /// The line could not be read; nothing was taken from it.
    Rejected,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Mapped => "mapped",
            Outcome::Approximated => "approximated",
            Outcome::NotTranslated => "not translated",
            Outcome::Rejected => "rejected",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The legacy object, such as `queue support` or `member PJSIP/1001 of support`.
    pub object: String,
    pub outcome: Outcome,
    /// What became of it, or why not.
    pub detail: String,
    /// Where it was read: file and line.
    pub source: Option<(String, usize)>,
}

/// Everything an import did, in the order it was done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub items: Vec<Item>,
}

impl Report {
    pub(crate) fn add(
        &mut self,
        object: &str,
        outcome: Outcome,
        detail: impl Into<String>,
        source: Option<(&str, usize)>,
    ) {
        self.items.push(Item {
            object: object.to_owned(),
            outcome,
            detail: detail.into(),
            source: source.map(|(file, line)| (file.to_owned(), line)),
        });
    }

    /// Adds an item unless one for the same object and place is there already (a step that
    /// several translated flows reach is reported once).
    pub(crate) fn add_once(
        &mut self,
        object: &str,
        outcome: Outcome,
        detail: impl Into<String>,
        source: Option<(&str, usize)>,
    ) {
        let place = source.map(|(file, line)| (file.to_owned(), line));
        if !self.items.iter().any(|i| i.object == object && i.source == place) {
            self.add(object, outcome, detail, source);
        }
    }

    /// How many items had `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.items.iter().filter(|i| i.outcome == outcome).count()
    }
}

/// The report as text: one line an item, grouped by outcome, then the totals.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for outcome in [Outcome::Rejected, Outcome::NotTranslated, Outcome::Approximated, Outcome::Mapped] {
            let mut items: Vec<&Item> = self.items.iter().filter(|i| i.outcome == outcome).collect();
            // In file order; items without a place last (the sort is stable).
            items.sort_by_key(|i| i.source.clone().map_or((1, String::new(), 0), |(file, line)| (0, file, line)));
            if items.is_empty() {
                continue;
            }
            writeln!(f, "{} ({}):", outcome.label(), items.len())?;
            for item in items {
                let at = item.source.as_ref().map(|(file, line)| format!("{file}:{line}: ")).unwrap_or_default();
                writeln!(f, "  {at}{}: {}", item.object, item.detail)?;
            }
        }
        write!(
            f,
            "{} mapped, {} approximated, {} not translated, {} rejected",
            self.count(Outcome::Mapped),
            self.count(Outcome::Approximated),
            self.count(Outcome::NotTranslated),
            self.count(Outcome::Rejected)
        )
    }
}
