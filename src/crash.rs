//! When djopt itself fails: a panic names the file being processed and asks for a bug report,
//! and costs only that file (it is left unchanged and reported; the run goes on and exits 2).
//! Work runs on threads with room for deeply nested code (see `parse::MAX_NESTING`).

use crate::problem::FileProblem;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

/// Stack for the threads that analyse files: the walkers of phase 1 and 2 recurse once or twice
/// per level of nesting. Only the pages used are committed.
pub const STACK_SIZE: usize = 64 * 1024 * 1024;

thread_local! {
    static CURRENT_FILE: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
}

/// Print the file being processed and a bug-report request on a panic (before the default
/// message, which stays).
pub fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        let file = CURRENT_FILE
            .try_with(|f| f.try_borrow().ok().and_then(|f| f.clone()))
            .ok()
            .flatten();
        let subject = match &file {
            Some(path) => format!("while processing {}", path.display()),
            None => "outside any file".to_string(),
        };
        eprintln!(
            "djopt: internal error {subject}. This is a bug in djopt: please report it with {}, the command you ran and the output of `djopt --version`.",
            if file.is_some() {
                "that file (or a small copy that still shows the error)"
            } else {
                "the paths you gave"
            }
        );
    }));
}

/// Run `work` for one file: a panic inside becomes a fatal problem for that file only.
pub fn guard_file<T>(
    path: &Path,
    work: impl FnOnce() -> Result<T, FileProblem>,
) -> Result<T, FileProblem> {
    let _current = CurrentFile::set(path);
    let work = || {
        test_panic(path);
        work()
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(result) => result,
        Err(_) => Err(FileProblem {
            path: path.to_path_buf(),
            message: "djopt crashed on this file (details above) and left it unchanged; this is a bug in djopt, please report it".into(),
            fatal: true,
        }),
    }
}

/// Test hook, only in debug builds: panic on the file named by `DJOPT_TEST_PANIC_IN`.
fn test_panic(path: &Path) {
    if cfg!(debug_assertions)
        && let Some(name) = std::env::var_os("DJOPT_TEST_PANIC_IN")
        && path.file_name() == Some(name.as_os_str())
    {
        panic!("test panic (DJOPT_TEST_PANIC_IN)");
    }
}

/// Phase 1 for one file: a panic skips the file (the hook has said which and why).
pub fn guard_index<T>(path: &Path, work: impl FnOnce() -> Option<T>) -> Option<T> {
    let _current = CurrentFile::set(path);
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
        .ok()
        .flatten()
}

/// The file named in panic messages on this thread, until dropped (then the previous one).
struct CurrentFile(Option<PathBuf>);

impl CurrentFile {
    fn set(path: &Path) -> CurrentFile {
        CurrentFile(CURRENT_FILE.with(|f| f.borrow_mut().replace(path.to_path_buf())))
    }
}

impl Drop for CurrentFile {
    fn drop(&mut self) {
        let previous = self.0.take();
        let _ = CURRENT_FILE.try_with(|f| *f.borrow_mut() = previous);
    }
}

/// Run `main` on a thread with [`STACK_SIZE`] of stack, rayon's workers too. A panic that
/// escapes `main` (none should) exits with status 101 after the hook's message.
pub fn run_with_stack(main: fn() -> std::process::ExitCode) -> std::process::ExitCode {
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_SIZE)
        .build_global();
    match std::thread::Builder::new()
        .name("main".into())
        .stack_size(STACK_SIZE)
        .spawn(main)
    {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|_| std::process::ExitCode::from(101)),
        // No thread to be had: run here, with the main thread's stack.
        Err(_) => main(),
    }
}
