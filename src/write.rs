//! Writing a fixed file: atomically, keeping permissions, refusing a file that changed since
//! it was read.

use crate::problem::FileProblem;
use crate::source::SourceFile;
use std::path::Path;

/// Write the new bytes of a file atomically: temp file beside it, same permissions, rename.
/// Refuses when the file changed on disk since it was read, was deleted, is read-only, or djopt
/// was interrupted. A symbolic link is followed: the file it points to is replaced, the link kept.
/// Another djopt writing the same file waits for this one (a lock on the file), then sees that
/// the file changed and refuses.
pub fn write_atomic(source: &SourceFile, new_text: &str) -> Result<(), FileProblem> {
    let path = &source.path;
    let problem = |message: String| FileProblem {
        path: path.clone(),
        message,
        fatal: true,
    };
    let gone = |e: std::io::Error, doing: &str| {
        if e.kind() == std::io::ErrorKind::NotFound {
            problem("file was deleted while djopt was working; not recreated (run djopt again if it comes back)".into())
        } else {
            problem(format!("cannot {doing}: {e}"))
        }
    };
    let changed = || {
        problem("file changed on disk while djopt was working; not fixed (run djopt again)".into())
    };
    if crate::interrupt::interrupted() {
        return Err(problem(crate::interrupt::NOT_WRITTEN.into()));
    }
    // The real file behind any symbolic link: renaming onto the link would replace the link.
    let target = std::fs::canonicalize(path).map_err(|e| gone(e, "resolve the path"))?;
    let meta = std::fs::metadata(&target).map_err(|e| gone(e, "stat"))?;
    if meta.permissions().readonly() {
        return Err(problem(
            "file is read-only; not fixed (make it writable and run again)".into(),
        ));
    }
    let locked = std::fs::File::open(&target).map_err(|e| gone(e, "open"))?;
    // Best effort: a file system without locks still has the checks below.
    let _ = locked.lock();
    let current = std::fs::read(&target).map_err(|e| gone(e, "re-read"))?;
    if current != *source.original() {
        return Err(changed());
    }
    let updated = source.with_text(new_text.to_string());
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".djopt-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| problem(format!("cannot create a temporary file beside it: {e}")))?;
    let _tracked = crate::interrupt::track_temp(temp.path());
    use std::io::Write;
    temp.write_all(&updated.to_bytes())
        .and_then(|_| temp.as_file().sync_all())
        .map_err(|e| problem(format!("cannot write the temporary file: {e}")))?;
    std::fs::set_permissions(temp.path(), meta.permissions())
        .map_err(|e| problem(format!("cannot copy permissions: {e}")))?;
    crate::interrupt::test_pause_before_rename(path);
    // Last look before the rename: still what we read?
    let current = std::fs::read(&target).map_err(|e| gone(e, "re-read"))?;
    if current != *source.original() {
        return Err(changed());
    }
    temp.persist(&target)
        .map_err(|e| problem(format!("cannot replace the file: {}", e.error)))?;
    // Make the rename itself durable (best effort: not every system can sync a folder).
    if let Ok(folder) = std::fs::File::open(dir) {
        let _ = folder.sync_all();
    }
    Ok(())
}
