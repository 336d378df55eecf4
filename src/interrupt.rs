//! SIGINT, SIGTERM and SIGHUP while djopt writes files.
//!
//! While `fix` writes (see [`defer`]), the first signal lets the write in progress finish (the
//! rename that ends it is atomic) and stops before the next file, so every file is either wholly
//! old or wholly new; the command then exits with 128 + the signal's number. A second signal, or
//! a signal while nothing is being written, exits at once, after removing the temporary file of
//! any write in progress ([`track_temp`]), so no `.djopt-*.tmp` file is left behind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

/// The first signal received (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);
/// How many writing runs are under way (more than 0: the first signal waits for the write).
static DEFERRING: AtomicUsize = AtomicUsize::new(0);
/// Temporary files of writes in progress.
static TEMP_FILES: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());

/// Handle the signals on a thread of their own (Unix; elsewhere the defaults stay).
pub fn install() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return; // Could not register: the default (exit at once) is still safe.
        };
        let spawned = std::thread::Builder::new()
            .name("djopt-signals".into())
            .spawn(move || {
                for signal in signals.forever() {
                    on_signal(signal);
                }
            });
        drop(spawned); // No thread: the default behaviour stays, which is still safe.
    }
}

#[cfg_attr(not(unix), allow(dead_code))]
fn on_signal(signal: i32) {
    let first = RECEIVED
        .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok();
    if first && DEFERRING.load(Ordering::SeqCst) > 0 {
        eprintln!(
            "djopt: interrupted: finishing the file being written, then stopping (interrupt again to stop at once)"
        );
        return;
    }
    remove_temp_files();
    std::process::exit(128 + signal);
}

#[cfg_attr(not(unix), allow(dead_code))]
fn remove_temp_files() {
    let temps = TEMP_FILES.lock().unwrap_or_else(|e| e.into_inner());
    for path in temps.iter() {
        let _ = std::fs::remove_file(path);
    }
}

/// The problem `write_atomic` reports for a file it did not write because of a signal.
pub const NOT_WRITTEN: &str = "not fixed: djopt was interrupted";

/// True once a signal has asked djopt to stop: write nothing more.
pub fn interrupted() -> bool {
    RECEIVED.load(Ordering::SeqCst) != 0
}

/// The exit status after an interruption (128 + the signal's number), if there was one.
pub fn exit_status() -> Option<u8> {
    match RECEIVED.load(Ordering::SeqCst) {
        0 => None,
        signal => u8::try_from(128 + signal).ok(),
    }
}

/// While the returned value lives, the first signal stops djopt between two writes instead of at
/// once.
pub fn defer() -> Deferred {
    DEFERRING.fetch_add(1, Ordering::SeqCst);
    Deferred(())
}

pub struct Deferred(());

impl Drop for Deferred {
    fn drop(&mut self) {
        DEFERRING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Remember a temporary file until the returned value is dropped, so that an exit on a signal
/// removes it.
pub fn track_temp(path: &Path) -> TrackedTemp {
    let path = path.to_path_buf();
    TEMP_FILES
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.clone());
    TrackedTemp(path)
}

pub struct TrackedTemp(PathBuf);

impl Drop for TrackedTemp {
    fn drop(&mut self) {
        TEMP_FILES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.0);
    }
}

/// Test hook, only in debug builds: with `DJOPT_TEST_PAUSE_DIR` set, the first write of the run
/// stops after its temporary file is written and before its last check and rename, creates
/// `paused` in that folder (holding the path being written) and waits until `resume` exists
/// there (60 s at most). Tests use it to change, delete or signal at exactly that moment.
#[cfg(debug_assertions)]
pub fn test_pause_before_rename(path: &Path) {
    use std::sync::atomic::AtomicBool;
    static PAUSED_ONCE: AtomicBool = AtomicBool::new(false);
    let Some(dir) = std::env::var_os("DJOPT_TEST_PAUSE_DIR") else {
        return;
    };
    if PAUSED_ONCE.swap(true, Ordering::SeqCst) {
        return;
    }
    let dir = PathBuf::from(dir);
    // Written aside and renamed: a test sees `paused` only with the path in it (it read an
    // empty file once, between the creation and the write).
    let _ = std::fs::write(dir.join("paused.tmp"), path.as_os_str().as_encoded_bytes());
    let _ = std::fs::rename(dir.join("paused.tmp"), dir.join("paused"));
    let resume = dir.join("resume");
    for _ in 0..6000 {
        if resume.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

#[cfg(not(debug_assertions))]
pub fn test_pause_before_rename(_path: &Path) {}
