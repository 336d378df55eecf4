//! A progress bar on stderr for long runs: hidden until the run has taken a moment, and never
//! drawn when stderr is not a terminal (`indicatif` checks) or the user asked for quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Runs shorter than this never show a bar.
const SHOW_AFTER: Duration = Duration::from_millis(400);

pub struct Progress {
    bar: ProgressBar,
    start: Instant,
    may_show: bool,
    shown: AtomicBool,
}

impl Progress {
    pub fn new(files: usize, quiet: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(files as u64), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} files ({elapsed})")
                .expect("progress template is valid")
                .progress_chars("=> "),
        );
        Progress {
            bar,
            start: Instant::now(),
            may_show: !quiet && std::io::stderr().is_terminal(),
            shown: AtomicBool::new(false),
        }
    }

    pub fn message(&self, message: &'static str) {
        self.bar.set_message(message);
    }

    /// One more file done; shows the bar once the run has become long.
    pub fn inc(&self) {
        self.bar.inc(1);
        if self.may_show
            && self.start.elapsed() >= SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(100));
        }
    }

    /// Wipe the bar before the results are printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
