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

/// Bytes counted for `DJOPT_TIMINGS`: what each phase tokenized and parsed.
#[derive(Clone, Copy)]
pub enum Bytes {
    /// Phase 1: parsed (the statements that can define models, or whole files).
    IndexParsed,
    /// Phase 2: statements tokenized by the prefilter (their bytes hold a queryset source and a
    /// loop, a prefetch, a thrown-away queryset method or a serializer over rows).
    Scanned,
    /// Phase 2: the parts parsed for the rules.
    Kept,
    /// Phase 2: the rest of files with findings, parsed to prove they parse.
    Rest,
    /// Phase 2: files parsed whole.
    Whole,
}

static BYTES: [std::sync::atomic::AtomicUsize; 5] =
    [const { std::sync::atomic::AtomicUsize::new(0) }; 5];

/// Count `n` bytes of `what` (with `DJOPT_TIMINGS`).
pub fn count(what: Bytes, n: usize) {
    if start().is_some() {
        BYTES[what as usize].fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Bytes counted so far, in MB: phase 1 parsed; phase 2 scanned, kept, rest, whole.
pub fn counted_mb() -> [f64; 5] {
    BYTES
        .each_ref()
        .map(|b| b.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e6)
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
