//! The promises every fix keeps, checked on any input at all: the fuzz target (`fuzz/`) feeds it
//! mutated Python, and the test suite runs it over the fixtures so it always compiles and holds.
//!
//! For any bytes: reading them as a source file gives them back unchanged; phase 1 and phase 2
//! finish; and when djopt fixes the file, the fixed text parses, a second fix changes nothing,
//! and the same file with CRLF line endings gets the same fix with CRLF line endings. A fix that
//! breaks the syntax or does not settle is reported by `fix_source` as a bug (a fatal problem):
//! here that is a violation too.

use crate::fix::Applicability;
use crate::index;
use crate::project::{FixedFile, Project};
use crate::settings::{Overrides, Settings};
use crate::source::SourceFile;
use crate::syntax::parse::{error_count, parse};
use anyhow::Result;
use std::path::{Path, PathBuf};

/// Checks inputs against two projects: the fixture project's models (rich, so loops over them
/// find something) and an index built from the input alone (so phase 1 sees the input too).
pub struct Harness {
    fixtures: Project,
    root: PathBuf,
    /// Where the input pretends to live, inside the fixture project.
    path: PathBuf,
}

impl Harness {
    /// `fixture_root` is `tests/fixtures` (its models and `pyproject.toml`).
    pub fn new(fixture_root: &Path) -> Result<Harness> {
        let fixtures = Project::load(&[fixture_root.to_path_buf()], &Overrides::default())?;
        Ok(Harness {
            fixtures,
            root: fixture_root.to_path_buf(),
            path: fixture_root.join("ORM101").join("fuzz_input.py"),
        })
    }

    /// Every promise for one input; `Err` describes the first one broken.
    pub fn check(&self, bytes: &[u8]) -> Result<(), String> {
        let Ok(source) = SourceFile::from_bytes(self.path.clone(), bytes.to_vec()) else {
            return Ok(()); // Not UTF-8, or binary: reported and skipped, nothing to fix.
        };
        if source.to_bytes() != bytes {
            return Err("reading and writing back the unchanged file changes its bytes".into());
        }
        let alone = self.project_of_input(&source)?;
        for project in [&self.fixtures, &alone] {
            for level in [Applicability::Safe, Applicability::Unsafe] {
                check_fix(project, &source, level)?;
            }
        }
        Ok(())
    }

    /// A project whose index holds only the input's own definitions.
    fn project_of_input(&self, source: &SourceFile) -> Result<Project, String> {
        let settings = Settings::load(std::slice::from_ref(&self.root), &Overrides::default())
            .map_err(|e| format!("fixture settings: {e:#}"))?;
        let mut facts = Vec::new();
        if let Some(tree) = parse(&source.text) {
            let relative = settings.relative(&source.path).into_owned();
            facts.push(index::extract_file(&relative, &source.text, &tree));
        }
        let mut index = index::build_index(&facts);
        let templates = index::frameworks::templates::TemplateSet::load(&facts, &self.root);
        let maps = index::frameworks::ClassMaps::new(&facts);
        index::frameworks::attach(&mut index, &facts, maps, templates);
        Ok(Project {
            settings,
            index,
            targets: Vec::new(),
            outlines: Default::default(),
            needles: None,
        })
    }
}

fn check_fix(project: &Project, source: &SourceFile, level: Applicability) -> Result<(), String> {
    let Some(fixed) = fix(project, source, level)? else {
        return Ok(());
    };
    if fixed.fixed == source.text {
        return Ok(());
    }
    let broken = parse(&fixed.fixed).is_none_or(|tree| error_count(&tree) > 0);
    if broken {
        return Err(format!(
            "the {} fix does not parse:\n{}",
            level.as_str(),
            fixed.fixed
        ));
    }
    let again = fix(project, &source.with_text(fixed.fixed.clone()), level)?
        .ok_or("the fixed text is refused on a second run")?;
    if again.fixed != fixed.fixed {
        return Err(format!(
            "the {} fix is not idempotent: a second run changes\n{}\ninto\n{}",
            level.as_str(),
            fixed.fixed,
            again.fixed
        ));
    }
    if level == Applicability::Safe && !source.text.contains('\r') {
        let crlf = source.with_text(source.text.replace('\n', "\r\n"));
        let crlf_fixed = fix(project, &crlf, level)?.ok_or("the CRLF copy is refused")?;
        if crlf_fixed.fixed != fixed.fixed.replace('\n', "\r\n") {
            return Err(format!(
                "the CRLF copy is fixed differently:\n{:?}\nnot\n{:?}",
                crlf_fixed.fixed,
                fixed.fixed.replace('\n', "\r\n")
            ));
        }
    }
    Ok(())
}

/// The fix, `None` when djopt declines the file (syntax errors, too deep), `Err` for a bug.
fn fix(
    project: &Project,
    source: &SourceFile,
    level: Applicability,
) -> Result<Option<FixedFile>, String> {
    match project.fix_source(source.clone(), level) {
        Ok(fixed) => Ok(Some(fixed)),
        Err(problem) if problem.fatal => {
            Err(format!("{} fix: {}", level.as_str(), problem.message))
        }
        Err(_) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn harness() -> Harness {
        Harness::new(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"))
            .expect("fixture project loads")
    }

    #[test]
    fn fixtures_keep_every_promise() {
        let harness = harness();
        let mut checked = 0;
        for path in &harness.fixtures.targets {
            let bytes = std::fs::read(path).unwrap();
            if let Err(violation) = harness.check(&bytes) {
                panic!("{}: {violation}", path.display());
            }
            checked += 1;
        }
        assert!(checked >= 20, "only {checked} fixture files found");
    }

    /// Inputs the fuzz target once failed on (`fuzz/regressions/`).
    #[test]
    fn fuzz_regressions_keep_every_promise() {
        let harness = harness();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
        let mut checked = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if let Err(violation) = harness.check(&std::fs::read(&path).unwrap()) {
                panic!("{}: {violation}", path.display());
            }
            checked += 1;
        }
        assert!(checked >= 1, "no regression inputs in {}", dir.display());
    }

    #[test]
    fn odd_inputs_keep_every_promise() {
        let harness = harness();
        let loop_ = "from library.models import Book\n\ndef f():\n    for b in Book.objects.all():\n        print(b.author.name)\n";
        let inputs: Vec<Vec<u8>> = vec![
            Vec::new(),
            b"\xef\xbb\xbf".to_vec(),
            b"\n\r\n\r".to_vec(),
            b"for".to_vec(),
            b"\xff\xfe".to_vec(),
            loop_.as_bytes().to_vec(),
            loop_.replace("    ", "\t").into_bytes(),
            loop_.replacen('\n', "\r\n", 2).into_bytes(),
            loop_.replace('\n', "\r").into_bytes(),
            format!("\u{feff}{loop_}").into_bytes(),
            loop_.as_bytes()[..loop_.len() - 12].to_vec(),
        ];
        for input in inputs {
            if let Err(violation) = harness.check(&input) {
                panic!("{:?}: {violation}", String::from_utf8_lossy(&input));
            }
        }
    }
}
