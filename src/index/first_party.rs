//! Which top-level module names are the project's own ("first-party", as isort and ruff sort
//! imports), from the paths of its Python files.
//!
//! A file is imported from its source root: the first folder above it that is not a package
//! (has no `__init__.py`). Its top-level name there is the package right below the root, or
//! the module itself. The names of every source root of one project count for each of its
//! files: a project is the nearest folder holding `pyproject.toml`, `setup.py`, `setup.cfg`,
//! `manage.py` or `.git` (the root of the run at the latest), so that `tests/` sees `src/`'s
//! packages, and a folder of several projects side by side keeps them apart.

use rustc_hash::{FxHashMap, FxHashSet};
use std::path::{Path, PathBuf};

const PROJECT_MARKERS: &[&str] = &[
    "pyproject.toml",
    "setup.py",
    "setup.cfg",
    "manage.py",
    ".git",
];

#[derive(Debug, Default)]
pub struct FirstParty {
    /// A module (as `module_name` spells it) → its project.
    by_module: FxHashMap<String, usize>,
    /// Each project's top-level names.
    names: Vec<FxHashSet<String>>,
}

impl FirstParty {
    /// From the files' paths relative to `root` (the run's project root, where they are read).
    pub fn new(root: &Path, relative: &[PathBuf]) -> FirstParty {
        let packages: FxHashSet<&Path> = relative
            .iter()
            .filter(|p| p.file_name().is_some_and(|n| n == "__init__.py"))
            .filter_map(|p| p.parent())
            .collect();
        let mut project_of_dir: FxHashMap<PathBuf, usize> = FxHashMap::default();
        let mut project_ids: FxHashMap<PathBuf, usize> = FxHashMap::default();
        let mut out = FirstParty::default();
        for rel in relative {
            let Some(parent) = rel.parent() else { continue };
            // The source root, and the top-level name below it.
            let mut source = parent;
            let mut top: Option<&std::ffi::OsStr> = None;
            while packages.contains(source) {
                top = source.file_name();
                match source.parent() {
                    Some(up) => source = up,
                    None => break,
                }
            }
            let name = match top {
                Some(dir) => dir.to_string_lossy().into_owned(),
                None => match rel.file_stem() {
                    Some(stem) => stem.to_string_lossy().into_owned(),
                    None => continue,
                },
            };
            let project = match project_of_dir.get(source) {
                Some(&id) => id,
                None => {
                    let dir = project_dir(root, source);
                    let next = project_ids.len();
                    let id = *project_ids.entry(dir).or_insert(next);
                    if id == out.names.len() {
                        out.names.push(FxHashSet::default());
                    }
                    project_of_dir.insert(source.to_path_buf(), id);
                    id
                }
            };
            out.names[project].insert(name);
            out.by_module
                .insert(crate::index::module_name(rel), project);
        }
        out
    }

    /// Is `name` (a top-level module name) one of the project's own, for the file of `module`?
    pub fn contains(&self, module: &str, name: &str) -> bool {
        self.by_module
            .get(module)
            .is_some_and(|&p| self.names[p].contains(name))
    }
}

/// The nearest folder from `dir` up (relative to `root`, not above it) that marks a project.
fn project_dir(root: &Path, dir: &Path) -> PathBuf {
    let mut at = dir;
    loop {
        if at.as_os_str().is_empty() {
            return PathBuf::new();
        }
        let abs = root.join(at);
        if PROJECT_MARKERS.iter().any(|m| abs.join(m).exists()) {
            return at.to_path_buf();
        }
        match at.parent() {
            Some(up) => at = up,
            None => return PathBuf::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packages_and_modules_of_one_project() {
        let dir = tempfile::tempdir().unwrap();
        for d in ["site/a", "site/b"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        std::fs::write(dir.path().join("site/a/pyproject.toml"), "").unwrap();
        std::fs::write(dir.path().join("site/b/setup.py"), "").unwrap();
        let files: Vec<PathBuf> = [
            "site/a/src/shop/__init__.py",
            "site/a/src/shop/models/__init__.py",
            "site/a/src/shop/models/book.py",
            "site/a/tests/test_shop.py",
            "site/a/manage_tool.py",
            "site/b/django/__init__.py",
            "site/b/django/db/__init__.py",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let fp = FirstParty::new(dir.path(), &files);
        let test_module = "site.a.tests.test_shop";
        assert!(fp.contains(test_module, "shop"));
        assert!(fp.contains(test_module, "test_shop"));
        assert!(fp.contains(test_module, "manage_tool"));
        assert!(fp.contains("site.a.src.shop.models.book", "shop"));
        // Another project beside it.
        assert!(!fp.contains(test_module, "django"));
        assert!(fp.contains("site.b.django.db", "django"));
        assert!(!fp.contains("unknown.module", "shop"));
        // A package's folder is not a top-level name.
        assert!(!fp.contains(test_module, "models"));
    }
}
