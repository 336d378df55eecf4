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

/// Print how long the run has taken when `what` is done (and the CPU time of all threads so
/// far, where the system says: Linux).
pub fn mark(what: &str) {
    if let Some(start) = start() {
        let cpu = cpu_ms()
            .map(|ms| format!("  cpu {ms:>6} ms"))
            .unwrap_or_default();
        eprintln!(
            "djopt timings: {:>8.1} ms{cpu}  {what}",
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
}

/// Print a line of facts about the run (with `DJOPT_TIMINGS`).
pub fn note(what: &str) {
    if start().is_some() {
        eprintln!("djopt timings: {what}");
    }
}

/// User and system time of the process, from `/proc/self/stat` (in clock ticks, 100 a second
/// on Linux).
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut fields = rest.split(' ').skip(11); // fields 14 and 15: utime, stime
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) * 10)
}
