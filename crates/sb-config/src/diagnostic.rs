//! Diagnostics: the problems found in a configuration file, each with its place.
//!
//! Loading never stops at the first problem. Every stage (YAML reading, decoding, cross-checks)
//! pushes [`Diagnostic`]s into a [`Sink`]; the caller gets them back as a [`Report`] sorted in
//! file order, whose `Display` is what `switchboard config check` prints.

use std::fmt;

use crate::yaml::Pos;

/// How bad a [`Diagnostic`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The configuration cannot be used.
    Error,
    /// The configuration can be used, but probably does not do what its author meant.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// One problem, located by file, line, column and field path.
///
/// Displays as `file:line:column: severity: path: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file name as given by the caller (for example `examples/demo.yaml`).
    pub file: String,
    /// The line, counted from 1; 0 when the problem concerns the whole file (it could not be
    /// read, for instance).
    pub line: u32,
    /// The column, counted from 1; 0 together with `line`.
    pub column: u32,
    /// The field path of the offending node, such as `queues[1].skills.billng`; empty for the
    /// document as a whole.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.file)?;
        if self.line > 0 {
            write!(f, "{}:{}:", self.line, self.column)?;
        }
        write!(f, " {}: ", self.severity)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// Every diagnostic found in one file, in file order.
///
/// Displays as one line per diagnostic followed by a summary line such as
/// `2 errors, 1 warning`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
}

impl Report {
    /// Whether any diagnostic is an error, which means no configuration was produced.
    pub fn has_errors(&self) -> bool {
        self.error_count() > 0
    }

    pub fn error_count(&self) -> usize {
        self.count(Severity::Error)
    }

    pub fn warning_count(&self) -> usize {
        self.count(Severity::Warning)
    }

    /// Whether there is nothing to report at all.
    pub fn is_empty(&self) -> bool {
        self.diagnostics.is_empty()
    }

    /// The summary line: `2 errors, 1 warning`, `1 warning`, or `no problems found`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let errors = self.error_count();
        if errors > 0 {
            parts.push(plural(errors, "error", "errors"));
        }
        let warnings = self.warning_count();
        if warnings > 0 {
            parts.push(plural(warnings, "warning", "warnings"));
        }
        if parts.is_empty() { "no problems found".to_owned() } else { parts.join(", ") }
    }

    fn count(&self, severity: Severity) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == severity).count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for diagnostic in &self.diagnostics {
            writeln!(f, "{diagnostic}")?;
        }
        f.write_str(&self.summary())
    }
}

/// `1 error`, `2 errors`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// Collects diagnostics for one file while it is being loaded.
#[derive(Debug)]
pub struct Sink {
    file: String,
    diagnostics: Vec<Diagnostic>,
}

impl Sink {
    pub fn new(file: &str) -> Sink {
        Sink { file: file.to_owned(), diagnostics: Vec::new() }
    }

    pub fn error(&mut self, pos: Pos, path: &str, message: impl Into<String>) {
        self.push(Severity::Error, pos, path, message.into());
    }

    pub fn warning(&mut self, pos: Pos, path: &str, message: impl Into<String>) {
        self.push(Severity::Warning, pos, path, message.into());
    }

    /// Reports a problem with the file as a whole, such as failing to read it.
    pub fn file_error(&mut self, message: impl Into<String>) {
        self.push(Severity::Error, Pos { line: 0, column: 0 }, "", message.into());
    }

    /// The number of errors so far; decoders compare it before and after an item to learn
    /// whether the item is clean.
    pub fn error_count(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.severity == Severity::Error).count()
    }

    /// The report, sorted by position; diagnostics at the same position keep their order.
    pub fn into_report(mut self) -> Report {
        self.diagnostics.sort_by_key(|d| (d.line, d.column));
        Report { diagnostics: self.diagnostics }
    }

    fn push(&mut self, severity: Severity, pos: Pos, path: &str, message: String) {
        self.diagnostics.push(Diagnostic {
            severity,
            file: self.file.clone(),
            line: pos.line,
            column: pos.column,
            path: path.to_owned(),
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_print_in_file_order_with_a_summary() {
        let mut sink = Sink::new("bad.yaml");
        sink.warning(Pos { line: 30, column: 5 }, "agents[3]", "agent \"dave\" is a member of no queue");
        sink.error(
            Pos { line: 14, column: 9 },
            "queues[1].skills.billng",
            "unknown skill \"billng\" (did you mean \"billing\"?)",
        );
        sink.error(Pos { line: 1, column: 1 }, "", "something at the top");
        let report = sink.into_report();
        assert_eq!(
            report.to_string(),
            "bad.yaml:1:1: error: something at the top\n\
             bad.yaml:14:9: error: queues[1].skills.billng: unknown skill \"billng\" (did you mean \"billing\"?)\n\
             bad.yaml:30:5: warning: agents[3]: agent \"dave\" is a member of no queue\n\
             2 errors, 1 warning"
        );
    }

    #[test]
    fn summaries() {
        let check = |errors: usize, warnings: usize, expect: &str| {
            let mut sink = Sink::new("f");
            for _ in 0..errors {
                sink.error(Pos::START, "", "e");
            }
            for _ in 0..warnings {
                sink.warning(Pos::START, "", "w");
            }
            assert_eq!(sink.into_report().summary(), expect);
        };
        check(0, 0, "no problems found");
        check(1, 0, "1 error");
        check(0, 2, "2 warnings");
        check(3, 1, "3 errors, 1 warning");
    }

    #[test]
    fn file_errors_have_no_position() {
        let mut sink = Sink::new("missing.yaml");
        sink.file_error("cannot read the file: not found");
        assert_eq!(
            sink.into_report().diagnostics[0].to_string(),
            "missing.yaml: error: cannot read the file: not found"
        );
    }
}
