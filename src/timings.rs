//! `DJOPT_TIMINGS=1`: the wall time of each phase on standard error, for profiling
//! (`docs/performance.md`). Nothing is measured or printed otherwise.

use std::sync::OnceLock;
use std::time::Instant;

fn start() -> Option<&'static Instant> {
    static START: OnceLock<Option<Instant>> = OnceLock::new();
    START
        .get_or_init(|| std::env::var_os("DJOPT_TIMINGS").map(|_| Instant::now()))
        .as_ref()
}

/// Start the clock (the first call does; later calls change nothing).
pub fn begin() {
    start();
}

/// Print how long the run has taken when `what` is done.
pub fn mark(what: &str) {
    if let Some(start) = start() {
        eprintln!(
            "djopt timings: {:>8.1} ms  {what}",
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
}
