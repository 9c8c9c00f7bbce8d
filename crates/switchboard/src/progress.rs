//! Progress bars on the terminal for long jobs; hidden when standard error is not a terminal.

use indicatif::{ProgressBar, ProgressStyle};

/// Follows the phases a long job reports, one bar per phase.
#[derive(Default, Debug)]
pub struct PhaseBars {
    bar: Option<ProgressBar>,
}

impl PhaseBars {
    pub fn phase(&mut self, name: &str, total: u64) {
        self.finish();
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{prefix:>32} [{bar:30}] {pos}/{len} ({eta})")
                .expect("a valid template")
                .progress_chars("=> "),
        );
        bar.set_prefix(name.to_string());
        self.bar = Some(bar);
    }

    pub fn advance(&mut self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
