//! One run over a project: walk, phase 1 (the index), then per-file analysis and fixes.

use crate::analysis::FileContext;
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, apply_fixes};
use crate::index::{self, ProjectIndex};
use crate::prefilter::{self, Needles};
use crate::settings::{Overrides, Settings};
use crate::source::SourceFile;
use crate::suppression::Suppressions;
use crate::syntax::parse::{
    MAX_NESTING, error_count, first_error, nesting_depth, parse, parse_ranges,
};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// How many fix passes a file gets before we give up on it.
pub const MAX_PASSES: usize = 10;

pub struct Project {
    pub settings: Settings,
    pub index: ProjectIndex,
    /// The Python files to check, sorted.
    pub targets: Vec<PathBuf>,
    /// Phase 1's outlines, for phase 2 to reuse on the same text (see [`Outlines`]).
    pub outlines: Outlines,
    /// The names phase 2 looks for before parsing a file (`None`: parse every file).
    pub needles: Option<Needles>,
}

pub use crate::phase1::Outlines;
pub use crate::problem::FileProblem;
pub use crate::write::write_atomic;

pub struct CheckedFile {
    pub source: SourceFile,
    pub diagnostics: Vec<Diagnostic>,
}

pub struct FixedFile {
    pub source: SourceFile,
    /// The text after every applicable fix (same as the source's if nothing applied).
    pub fixed: String,
    /// Fixes applied, by rule code.
    pub applied: Vec<&'static str>,
    /// Findings left after fixing (no fix, or a fix not allowed at this level).
    pub remaining: Vec<Diagnostic>,
}

/// A run's files before anything is parsed: the settings, the targets and the files phase 1
/// reads (the whole project, also when checking one file).
pub struct Walked {
    pub settings: Settings,
    /// The Python files to check, sorted.
    pub targets: Vec<PathBuf>,
    /// The Python files of the whole project (and the targets), sorted.
    pub index_files: Vec<PathBuf>,
    /// The project's folders named `templates`, sorted.
    pub template_dirs: Vec<PathBuf>,
}

impl Walked {
    pub fn new(paths: &[PathBuf], overrides: &Overrides) -> Result<Walked> {
        let paths: Vec<PathBuf> = if paths.is_empty() {
            vec![PathBuf::from(".")]
        } else {
            paths.to_vec()
        };
        crate::timings::begin();
        let settings = Settings::load(&paths, overrides)?;
        let walk = crate::walk::walk(&paths, &settings)?;
        let targets = walk.files;
        // Models may live outside the paths being checked: index the whole project.
        let root = settings.project_root.clone();
        let (index_files, template_dirs) = if paths.iter().all(|p| same_dir(p, &root)) {
            (targets.clone(), walk.template_dirs)
        } else {
            let whole = crate::walk::walk(std::slice::from_ref(&root), &settings)?;
            let mut all = whole.files;
            // A target named `shop/views.py` is the walk's `/project/shop/views.py`: once.
            let seen: std::collections::HashSet<PathBuf> = all
                .iter()
                .filter_map(|p| std::path::absolute(p).ok().map(|a| normalize(&a)))
                .collect();
            all.extend(
                targets
                    .iter()
                    .filter(|t| {
                        std::path::absolute(t).map_or(true, |a| !seen.contains(&normalize(&a)))
                    })
                    .cloned(),
            );
            all.sort();
            all.dedup();
            (all, whole.template_dirs)
        };
        crate::timings::mark("walk");
        Ok(Walked {
            settings,
            targets,
            index_files,
            template_dirs,
        })
    }

    /// Phase 1: the project with its index.
    pub fn index(self) -> Project {
        // Phase 2 needs the rules' queries: compiled meanwhile, not after.
        rayon::spawn(|| crate::rules::registry().prepare());
        let (index, outlines, needles) = crate::phase1::build(&self.index_files, &self.settings);
        Project {
            settings: self.settings,
            index,
            targets: self.targets,
            outlines,
            needles,
        }
    }
}

impl Project {
    pub fn load(paths: &[PathBuf], overrides: &Overrides) -> Result<Project> {
        Ok(Walked::new(paths, overrides)?.index())
    }

    pub fn relative(&self, path: &Path) -> PathBuf {
        self.settings.relative(path).into_owned()
    }

    /// Read a target file, or say why it cannot be checked.
    pub fn read(&self, path: &Path) -> Result<SourceFile, FileProblem> {
        SourceFile::read(path).map_err(|e| FileProblem {
            path: path.to_path_buf(),
            fatal: matches!(
                e,
                crate::source::SourceError::Io(_) | crate::source::SourceError::NotAFile
            ),
            message: e.to_string(),
        })
    }

    /// Findings for one file's current text.
    pub fn analyze_text(&self, path: &Path, text: &str) -> Result<Vec<Diagnostic>, FileProblem> {
        if !prefilter::may_have_findings(text, self.needles.as_ref()) {
            return Ok(Vec::new());
        }
        // First only the parts that can hold a finding, when that is less than the file. Found
        // something? Then the rest is parsed too: findings are only reported, and fixed, in a
        // file that parses. They are the same as the whole file's (the parts left out cannot
        // change them: tests/prefilter.rs and bench/compare-prefilter compare both).
        use crate::timings::{Bytes, count};
        let parts = self.needles.as_ref().and_then(|needles| {
            prefilter::analysis_ranges(text, needles, &self.index, self.outlines.get(path, text))
        });
        if parts.as_ref().is_some_and(|parts| parts.keep.is_empty()) {
            return Ok(Vec::new());
        }
        let whole = || {
            count(Bytes::Whole, text.len());
            parse(text).ok_or_else(|| FileProblem {
                path: path.to_path_buf(),
                message: "tree-sitter could not parse the file".into(),
                fatal: false,
            })
        };
        if let Some(parts) = parts
            && let Some(tree) = {
                count(Bytes::Kept, parts.keep.iter().map(|r| r.len()).sum());
                parse_ranges(text, &parts.keep).filter(|tree| !tree.root_node().has_error())
            }
        {
            let found = self.analyze_tree(path, text, &tree)?;
            // When the rest does not prove that the whole parses, the whole file is parsed, to
            // say where the error is.
            let proven = || {
                count(Bytes::Rest, parts.rest.iter().map(|r| r.len()).sum());
                parts.rest_proves_whole(text, &tree)
            };
            if !found.is_empty() && !proven() {
                self.check_tree(path, &whole()?)?;
            }
            return Ok(found);
        }
        self.analyze_tree(path, text, &whole()?)
    }

    /// A file djopt can analyze: no syntax error, not nested deeper than its walkers go.
    fn check_tree(&self, path: &Path, tree: &tree_sitter::Tree) -> Result<(), FileProblem> {
        if let Some(error) = first_error(tree) {
            let pos = error.start_position();
            return Err(FileProblem {
                path: path.to_path_buf(),
                message: format!(
                    "syntax error at line {}, column {}; fix it first (djopt leaves this file alone)",
                    pos.row + 1,
                    pos.column + 1
                ),
                fatal: false,
            });
        }
        if nesting_depth(tree, MAX_NESTING) > MAX_NESTING {
            return Err(FileProblem {
                path: path.to_path_buf(),
                message: format!(
                    "nested more than {MAX_NESTING} levels deep, deeper than Python itself compiles; djopt leaves this file alone (exclude it if it is generated)"
                ),
                fatal: false,
            });
        }
        Ok(())
    }

    /// Findings in a parsed file (or part of one).
    fn analyze_tree(
        &self,
        path: &Path,
        text: &str,
        tree: &tree_sitter::Tree,
    ) -> Result<Vec<Diagnostic>, FileProblem> {
        self.check_tree(path, tree)?;
        let relative = self.relative(path);
        let module = index::module_name(&relative);
        let is_package = path.file_name().is_some_and(|n| n == "__init__.py");
        let ctx = FileContext::new(&self.index, text, tree, module, is_package);
        let enabled = |code: &str| self.settings.rule_enabled(code, &relative);
        let mut diagnostics = crate::rules::run_rules(&ctx, &enabled, !prefilter::disabled());
        let suppressions = Suppressions::parse(text);
        // Line numbers by binary search: counting newlines per finding is quadratic in big files.
        let newlines: Vec<usize> = if diagnostics.is_empty() {
            Vec::new()
        } else {
            memchr::memchr_iter(b'\n', text.as_bytes()).collect()
        };
        let line_of = |offset: usize| newlines.partition_point(|&n| n < offset) + 1;
        diagnostics.retain(|d| {
            !suppressions.is_suppressed(line_of(d.start), d.rule)
                && !d
                    .also_suppressed_at
                    .iter()
                    .any(|&o| suppressions.is_suppressed(line_of(o), d.rule))
        });
        // A fix keeps the project's line length: what it makes too long, it wraps.
        let layout = crate::fix::wrap::Layout::new(text, self.settings.line_length);
        for fix in diagnostics.iter_mut().filter_map(|d| d.fix.as_mut()) {
            crate::fix::wrap::wrap_fix(text, fix, &layout);
        }
        Ok(diagnostics)
    }

    pub fn check_file(&self, path: &Path) -> Result<CheckedFile, FileProblem> {
        crate::crash::guard_file(path, || {
            let source = self.read(path)?;
            let diagnostics = self.analyze_text(path, &source.text)?;
            Ok(CheckedFile {
                source,
                diagnostics,
            })
        })
    }

    /// Apply fixes to a fixpoint. Every pass is re-parsed; a pass that breaks the syntax is
    /// rolled back and reported as a bug in the rules it applied; a file that does not converge
    /// is left as it was.
    pub fn fix_file(&self, path: &Path, level: Applicability) -> Result<FixedFile, FileProblem> {
        let source = self.read(path)?;
        self.fix_source(source, level)
    }

    pub fn fix_source(
        &self,
        source: SourceFile,
        level: Applicability,
    ) -> Result<FixedFile, FileProblem> {
        self.fix_source_where(source, level, &|_, _| true)
    }

    /// `fix_source` restricted to the findings `wanted` accepts, given the text of the pass
    /// (one rule for `djopt pr`, one finding for `djopt fix -i`); the others are left and come
    /// back in `remaining`.
    pub fn fix_source_where(
        &self,
        source: SourceFile,
        level: Applicability,
        wanted: &dyn Fn(&str, &Diagnostic) -> bool,
    ) -> Result<FixedFile, FileProblem> {
        let path = source.path.clone();
        crate::crash::guard_file(&path, || self.fix_passes(source, level, wanted))
    }

    fn fix_passes(
        &self,
        source: SourceFile,
        level: Applicability,
        wanted: &dyn Fn(&str, &Diagnostic) -> bool,
    ) -> Result<FixedFile, FileProblem> {
        let path = source.path.clone();
        let mut text = source.text.clone();
        let mut applied_codes = Vec::new();
        // After a pass, the whole fixed text has been parsed to check the fixes: the next pass
        // reads that tree instead of parsing parts of the text again (the same findings: the
        // prefilter only leaves out what cannot hold one).
        let mut parsed: Option<tree_sitter::Tree> = None;
        for _ in 0..MAX_PASSES {
            let diagnostics = match &parsed {
                Some(tree) => self.analyze_tree(&path, &text, tree)?,
                None => self.analyze_text(&path, &text)?,
            };
            let fixes: Vec<(&'static str, &crate::fix::Fix)> = diagnostics
                .iter()
                .filter(|d| wanted(&text, d))
                .filter_map(|d| d.fix.as_ref().map(|f| (d.rule, f)))
                .filter(|(_, f)| {
                    f.applicability >= level && f.applicability > Applicability::Suggestion
                })
                .collect();
            let fix_refs: Vec<&crate::fix::Fix> = fixes.iter().map(|(_, f)| *f).collect();
            let (new_text, applied) = apply_fixes(&text, &fix_refs);
            if applied.is_empty() || new_text == text {
                return Ok(FixedFile {
                    source,
                    fixed: text,
                    applied: applied_codes,
                    remaining: diagnostics,
                });
            }
            let tree = parse(&new_text).filter(|tree| error_count(tree) == 0);
            let Some(tree) = tree else {
                let mut codes: Vec<&str> = applied.iter().map(|&i| fixes[i].0).collect();
                codes.sort();
                codes.dedup();
                return Err(FileProblem {
                    path,
                    fatal: true,
                    message: format!(
                        "a fix by {} would break the syntax; the file is left unchanged. This is a bug in djopt: please report it with this file",
                        codes.join(", ")
                    ),
                });
            };
            applied_codes.extend(applied.iter().map(|&i| fixes[i].0));
            text = new_text;
            parsed = Some(tree);
        }
        Err(FileProblem {
            path,
            fatal: true,
            message: format!(
                "fixes did not settle after {MAX_PASSES} passes; the file is left unchanged (a bug in djopt: please report it)"
            ),
        })
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::path::absolute(a), std::path::absolute(b)) {
        (Ok(a), Ok(b)) => normalize(&a) == normalize(&b),
        _ => false,
    }
}

fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    memchr::memchr_iter(b'\n', &text.as_bytes()[..offset]).count() + 1
}
