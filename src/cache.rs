//! `check`'s results kept between runs, keyed by content: a repeated `check` of an unchanged
//! tree reads and hashes the files and prints what it found last time, parsing nothing.
//!
//! `.djopt_cache/check.json` in the project root (the folder also holds a `.gitignore` of `*`
//! and a `CACHEDIR.TAG`) has a key for everything a file's findings depend on besides the file
//! itself, and per file (by its path relative to the root) the hash of its content and its
//! findings, or why it could not be checked.
//!
//! The key covers djopt's version and binary, the settings, the prefilter switch, and phase 1's
//! inputs: the path and content of every file phase 1 reads (those `index::phase1_reads`
//! accepts: models and the like, re-exports, module-level functions), and the content of every file in the template folders (those named `templates`,
//! and those the settings' `TEMPLATES` pointed to last time). When it changes, every entry is
//! stale (the index may differ); when only another file changes, only its entry is.
//! `--no-cache` neither reads nor writes it.

use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, Edit, Fix};
use crate::problem::FileProblem;
use crate::project::{CheckedFile, Project, Walked};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

/// The folder, in the project root.
pub const DIR: &str = ".djopt_cache";
const FILE: &str = "check.json";
/// Bumped when what is stored changes meaning.
const FORMAT: u32 = 1;

/// `check` through the cache: the project (its index built only when some target must be
/// analyzed: when every result comes from the cache the index is empty), the checked files
/// with findings, and the problems, in the targets' order. `analyze` checks the targets given
/// and returns the files with findings and the problems: any other target had no finding.
pub fn check(
    walked: Walked,
    enabled: bool,
    analyze: impl FnOnce(&Project, &[PathBuf]) -> (Vec<CheckedFile>, Vec<FileProblem>),
) -> (Project, Vec<CheckedFile>, Vec<FileProblem>) {
    if !enabled {
        let project = walked.index();
        let (checked, problems) = analyze(&project, &project.targets);
        return (project, checked, problems);
    }
    let root = walked.settings.project_root.clone();
    let stored = read(&root);
    let hashes = hash_files(&walked);
    let template_dirs = walked.template_dirs.clone();
    let watched_dirs = |recorded: &[String]| -> Vec<PathBuf> {
        let mut dirs = template_dirs.clone();
        dirs.extend(recorded.iter().map(|d| root.join(d)));
        dirs.sort();
        dirs.dedup();
        dirs
    };
    let recorded = stored
        .as_ref()
        .map(|s| s.template_dirs.clone())
        .unwrap_or_default();
    let files_key = files_key(&walked, &hashes);
    let key = finish_key(
        files_key.clone(),
        &walked.settings,
        &watched_dirs(&recorded),
    );
    // Each target: its path relative to the root, its content hash, what the cache says of it.
    let mut known: Vec<(PathBuf, String, Option<u128>, Option<&StoredResult>)> = Vec::new();
    for path in &walked.targets {
        let rel = walked
            .settings
            .relative(path)
            .to_string_lossy()
            .into_owned();
        let hash = hashes.get(path).map(|h| h.content);
        let hit = stored
            .as_ref()
            .filter(|s| s.key == key)
            .and_then(|s| s.files.get(&rel))
            .filter(|f| hash.is_some_and(|h| f.hash == hex(h)))
            .map(|f| &f.result);
        known.push((path.clone(), rel, hash, hit));
    }
    let misses: Vec<PathBuf> = known
        .iter()
        .filter(|(_, _, _, hit)| hit.is_none())
        .map(|(p, _, _, _)| p.clone())
        .collect();
    let (project, mut fresh) = if misses.is_empty() {
        let project = Project {
            settings: walked.settings,
            index: Default::default(),
            targets: walked.targets,
            outlines: Default::default(),
            needles: None,
        };
        (project, HashMap::new())
    } else {
        let project = walked.index();
        let (checked, problems) = analyze(&project, &misses);
        let mut fresh: HashMap<PathBuf, Result<CheckedFile, FileProblem>> = HashMap::new();
        for file in checked {
            fresh.insert(file.source.path.clone(), Ok(file));
        }
        for problem in problems {
            fresh.insert(problem.path.clone(), Err(problem));
        }
        (project, fresh)
    };
    // The new cache: this run's results, under the key of what this run read.
    let dirs: Vec<String> = if misses.is_empty() {
        recorded.clone()
    } else {
        project
            .index
            .frameworks
            .templates
            .dirs
            .iter()
            .map(|d| d.to_string_lossy().into_owned())
            .collect()
    };
    let new_key = if dirs == recorded {
        key
    } else {
        finish_key(files_key, &project.settings, &watched_dirs(&dirs))
    };
    // Entries of files this run did not check (`djopt check one.py`, a pre-commit hook) stay
    // while the key is the same.
    let kept = stored
        .as_ref()
        .filter(|old| old.key == new_key)
        .map(|old| old.files.clone())
        .unwrap_or_default();
    let mut store = Stored {
        format: FORMAT,
        key: new_key,
        template_dirs: dirs,
        files: kept,
    };
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for (path, rel, hash, hit) in known {
        match hit {
            Some(StoredResult::Findings(diagnostics)) => {
                store.files.insert(
                    rel,
                    StoredFile {
                        hash: hex(hash.expect("a hit has a hash")),
                        result: StoredResult::Findings(diagnostics.clone()),
                    },
                );
                if !diagnostics.is_empty() {
                    match project.read(&path) {
                        Ok(source) => checked.push(CheckedFile {
                            source,
                            diagnostics: diagnostics.iter().filter_map(restore).collect(),
                        }),
                        Err(problem) => problems.push(problem),
                    }
                }
            }
            Some(StoredResult::Problem(message)) => {
                store.files.insert(
                    rel,
                    StoredFile {
                        hash: hex(hash.expect("a hit has a hash")),
                        result: StoredResult::Problem(message.clone()),
                    },
                );
                problems.push(FileProblem {
                    path,
                    message: message.clone(),
                    fatal: false,
                });
            }
            // Analyzed now. The hash stored is the one taken before: if the file changed in
            // between, the next run misses and analyzes it again.
            None => match fresh.remove(&path) {
                Some(Ok(file)) => {
                    if let Some(hash) = hash {
                        store.files.insert(
                            rel,
                            StoredFile {
                                hash: hex(hash),
                                result: StoredResult::Findings(
                                    file.diagnostics.iter().map(keep).collect(),
                                ),
                            },
                        );
                    }
                    checked.push(file);
                }
                Some(Err(problem)) => {
                    if !problem.fatal
                        && let Some(hash) = hash
                    {
                        store.files.insert(
                            rel,
                            StoredFile {
                                hash: hex(hash),
                                result: StoredResult::Problem(problem.message.clone()),
                            },
                        );
                    }
                    problems.push(problem);
                }
                // `analyze` leaves out the files without findings.
                None => {
                    if let Some(hash) = hash {
                        store.files.insert(
                            rel,
                            StoredFile {
                                hash: hex(hash),
                                result: StoredResult::Findings(Vec::new()),
                            },
                        );
                    }
                }
            },
        }
    }
    write(&root, &store);
    (project, checked, problems)
}

#[derive(Serialize, Deserialize)]
struct Stored {
    format: u32,
    key: String,
    /// Template folders the last full run read (relative to the root).
    template_dirs: Vec<String>,
    files: BTreeMap<String, StoredFile>,
}

#[derive(Serialize, Deserialize, Clone)]
struct StoredFile {
    hash: String,
    result: StoredResult,
}

#[derive(Serialize, Deserialize, Clone)]
enum StoredResult {
    Findings(Vec<StoredDiagnostic>),
    /// Why the file could not be checked (syntax error, not UTF-8...): reported again.
    Problem(String),
}

#[derive(Serialize, Deserialize, Clone)]
struct StoredDiagnostic {
    rule: String,
    message: String,
    start: usize,
    end: usize,
    also_suppressed_at: Vec<usize>,
    fix: Option<StoredFix>,
    suggestion: bool,
}

#[derive(Serialize, Deserialize, Clone)]
struct StoredFix {
    edits: Vec<(usize, usize, String)>,
    applicability: String,
    message: String,
    group: Option<String>,
}

fn keep(d: &Diagnostic) -> StoredDiagnostic {
    StoredDiagnostic {
        rule: d.rule.to_string(),
        message: d.message.clone(),
        start: d.start,
        end: d.end,
        also_suppressed_at: d.also_suppressed_at.clone(),
        fix: d.fix.as_ref().map(|f| StoredFix {
            edits: f
                .edits
                .iter()
                .map(|e| (e.start, e.end, e.content.clone()))
                .collect(),
            applicability: f.applicability.as_str().to_string(),
            message: f.message.clone(),
            group: f.group.clone(),
        }),
        suggestion: d.kind == crate::diagnostic::Kind::Suggestion,
    }
}

/// A stored finding as djopt reports it (None for a rule this djopt does not have).
fn restore(d: &StoredDiagnostic) -> Option<Diagnostic> {
    let rule = crate::rules::registry().by_code(&d.rule)?;
    let applicability = |a: &str| match a {
        "safe" => Some(Applicability::Safe),
        "unsafe" => Some(Applicability::Unsafe),
        "suggestion" => Some(Applicability::Suggestion),
        _ => None,
    };
    let fix = match &d.fix {
        Some(f) => Some(Fix {
            edits: f
                .edits
                .iter()
                .map(|(start, end, content)| Edit::replacement(*start, *end, content.clone()))
                .collect(),
            applicability: applicability(&f.applicability)?,
            message: f.message.clone(),
            group: f.group.clone(),
        }),
        None => None,
    };
    Some(Diagnostic {
        kind: if d.suggestion {
            crate::diagnostic::Kind::Suggestion
        } else {
            crate::diagnostic::Kind::Finding
        },
        rule: rule.meta.code.as_str(),
        message: d.message.clone(),
        start: d.start,
        end: d.end,
        also_suppressed_at: d.also_suppressed_at.clone(),
        fix,
    })
}

struct Hashed {
    content: u128,
    /// Phase 1 reads it: part of the key.
    indexed: bool,
}

/// Every target and project file, read and hashed in parallel.
fn hash_files(walked: &Walked) -> HashMap<PathBuf, Hashed> {
    let mut paths: Vec<&PathBuf> = walked.index_files.iter().chain(&walked.targets).collect();
    paths.sort();
    paths.dedup();
    paths
        .par_iter()
        .filter_map(|path| {
            let bytes = std::fs::read(path).ok()?;
            Some((
                (*path).clone(),
                Hashed {
                    content: content_hash(&bytes),
                    indexed: crate::index::phase1_reads(path, &bytes),
                },
            ))
        })
        .collect()
}

/// The key's part for phase 1's files: their paths and contents.
fn files_key(walked: &Walked, hashes: &HashMap<PathBuf, Hashed>) -> KeyHasher {
    // By path relative to the root, sorted: the same files give the same key however they were
    // named on the command line.
    let mut files: Vec<(String, u128)> = walked
        .index_files
        .iter()
        .filter_map(|path| {
            let h = hashes.get(path).filter(|h| h.indexed)?;
            Some((
                walked
                    .settings
                    .relative(path)
                    .to_string_lossy()
                    .into_owned(),
                h.content,
            ))
        })
        .collect();
    files.sort();
    files.dedup();
    let mut key = KeyHasher::default();
    key.add(&files);
    key
}

fn finish_key(
    mut key: KeyHasher,
    settings: &crate::settings::Settings,
    template_dirs: &[PathBuf],
) -> String {
    key.add(&FORMAT);
    key.add(env!("CARGO_PKG_VERSION"));
    // Rebuilding djopt (same version, other rules) must not reuse results.
    if let Ok(exe) = std::env::current_exe()
        && let Ok(meta) = std::fs::metadata(exe)
    {
        key.add(&meta.len());
        key.add(&meta.modified().ok());
    }
    key.add(&format!("{settings:?}"));
    key.add(&crate::prefilter::disabled());
    for dir in template_dirs {
        key.add(dir);
        let mut files = Vec::new();
        list_files(dir, &mut files, 0);
        files.sort();
        for file in files {
            key.add(&file);
            key.add(&std::fs::read(&file).ok().map(|b| content_hash(&b)));
        }
    }
    hex(key.finish())
}

fn list_files(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        match entry.file_type() {
            Ok(t) if t.is_dir() && depth < 32 => list_files(&path, out, depth + 1),
            Ok(t) if t.is_file() => out.push(path),
            _ => {}
        }
    }
}

/// Two SipHash-1-3 hashes (the standard library's) of differently salted input: 128 bits.
#[derive(Default, Clone)]
struct KeyHasher {
    a: std::hash::DefaultHasher,
    b: std::hash::DefaultHasher,
    started: bool,
}

impl KeyHasher {
    fn add<T: Hash + ?Sized>(&mut self, value: &T) {
        if !self.started {
            0x000d_10b7_u32.hash(&mut self.b);
            self.started = true;
        }
        value.hash(&mut self.a);
        value.hash(&mut self.b);
    }

    fn finish(&self) -> u128 {
        (u128::from(self.a.finish()) << 64) | u128::from(self.b.finish())
    }
}

fn content_hash(bytes: &[u8]) -> u128 {
    let mut h = KeyHasher::default();
    h.add(bytes);
    h.finish()
}

fn hex(h: u128) -> String {
    format!("{h:032x}")
}

fn read(root: &Path) -> Option<Stored> {
    let text = std::fs::read(root.join(DIR).join(FILE)).ok()?;
    let stored: Stored = serde_json::from_slice(&text).ok()?;
    (stored.format == FORMAT).then_some(stored)
}

/// Best effort: a project folder djopt cannot write to just has no cache.
fn write(root: &Path, stored: &Stored) {
    let dir = root.join(DIR);
    if std::fs::create_dir_all(&dir).is_err() {
        return;
    }
    let _ = std::fs::write(dir.join(".gitignore"), "# Created by djopt.\n*\n");
    let _ = std::fs::write(
        dir.join("CACHEDIR.TAG"),
        "Signature: 8a477f597d28d172789f06886806bc55\n# This file is a cache directory tag created by djopt.\n",
    );
    let Ok(text) = serde_json::to_vec(stored) else {
        return;
    };
    let Ok(mut temp) = tempfile::NamedTempFile::new_in(&dir) else {
        return;
    };
    use std::io::Write;
    if temp.write_all(&text).is_ok() {
        let _ = temp.persist(dir.join(FILE));
    }
}
