//! What the importers' tests share.

use sb_migrate::{Outcome, Report};

/// The line numbers of a report's rejected items, in ascending order.
pub fn rejected_lines(report: &Report) -> Vec<usize> {
    let mut lines: Vec<usize> = report
        .items
        .iter()
        .filter(|i| i.outcome == Outcome::Rejected)
        .filter_map(|i| i.source.as_ref().map(|(_, line)| *line))
        .collect();
    lines.sort_unstable();
    lines
}
