//! `switchboard config check`: validates tenant configuration files and prints every
//! problem found, with file, line, column and field.

use std::path::PathBuf;
use std::process::ExitCode;

/// Checks each file; fails if any file has an error.
pub fn check(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for file in files {
        match sb_config::check_file(file) {
            Ok((config, report)) => {
                for diagnostic in &report.diagnostics {
                    say!("{diagnostic}");
                }
                let warnings = match report.warning_count() {
                    0 => String::new(),
                    1 => ", 1 warning".to_string(),
                    n => format!(", {n} warnings"),
                };
                say!("{}: ok ({}){warnings}", file.display(), config.summary());
            }
            Err(report) => {
                say!("{report}");
                failed = true;
            }
        }
    }
    if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
