//! Which files to read: the `ignore` crate's parallel walker, `.gitignore` respected, the
//! default excludes skipped; files named on the command line always included.

use crate::settings::{DEFAULT_EXCLUDES, Settings};
use anyhow::{Result, bail};
use ignore::{WalkBuilder, WalkState};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub fn python_files(paths: &[PathBuf], settings: &Settings) -> Result<Vec<PathBuf>> {
    Ok(walk(paths, settings)?.files)
}

/// What one walk finds.
#[derive(Debug, Default)]
pub struct Walk {
    /// The Python files, sorted.
    pub files: Vec<PathBuf>,
    /// Every folder named `templates` on the way, sorted (the cache watches what they hold).
    pub template_dirs: Vec<PathBuf>,
}

pub fn walk(paths: &[PathBuf], settings: &Settings) -> Result<Walk> {
    let mut out = Walk::default();
    for path in paths {
        if !path.exists() && path.symlink_metadata().is_err() {
            bail!("{}: no such file or directory", path.display());
        }
        if !path.is_dir() {
            out.files.push(path.clone());
            continue;
        }
        walk_dir(path, settings, &mut out);
    }
    out.files.sort();
    out.files.dedup();
    out.template_dirs.sort();
    out.template_dirs.dedup();
    Ok(out)
}

fn walk_dir(root: &Path, settings: &Settings, out: &mut Walk) {
    let found = Mutex::new(Vec::new());
    let templates = Mutex::new(Vec::new());
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .git_global(false)
        .require_git(false)
        .filter_entry(|entry| {
            let name = entry.file_name().to_string_lossy();
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !(is_dir && entry.depth() > 0 && DEFAULT_EXCLUDES.contains(&name.as_ref()))
        })
        .threads(rayon::current_num_threads().min(8))
        .build_parallel();
    walker.run(|| {
        let found = &found;
        let templates = &templates;
        Box::new(move |entry| {
            let Ok(entry) = entry else {
                return WalkState::Continue;
            };
            let path = entry.path();
            let is_file = entry.file_type().is_some_and(|t| t.is_file());
            if is_file && path.extension().is_some_and(|e| e == "py") {
                let relative = settings.relative(path);
                if !settings.is_excluded(&relative) {
                    // `./shop/views.py` → `shop/views.py` in every message.
                    let shown = path.strip_prefix(".").unwrap_or(path).to_path_buf();
                    found.lock().expect("walker lock").push(shown);
                }
            } else if entry.file_type().is_some_and(|t| t.is_dir()) && entry.depth() > 0 {
                let relative = settings.relative(path);
                if settings.is_excluded(&relative) {
                    return WalkState::Skip;
                }
                if entry.file_name() == "templates" {
                    templates
                        .lock()
                        .expect("walker lock")
                        .push(path.to_path_buf());
                }
            }
            WalkState::Continue
        })
    });
    out.files.extend(found.into_inner().expect("walker lock"));
    out.template_dirs
        .extend(templates.into_inner().expect("walker lock"));
}
