//! Rule fixtures: every `tests/fixtures/<CODE>/*.py` is checked and fixed against the shared
//! fixture models, snapshotted (findings, diff, fixed file) into `snapshots/`, and held to the
//! invariants every fix obeys: converges, parses, idempotent, same result with CRLF and BOM.
//! A fixture named `ok_*.py` must give no finding of its folder's rule; any other must give one.

use djopt::fix::Applicability;
use djopt::project::Project;
use djopt::render::{self, Report};
use djopt::settings::Overrides;
use djopt::source::SourceFile;
use std::path::{Path, PathBuf};

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn project() -> Project {
    Project::load(&[fixtures_root()], &Overrides::default()).expect("fixture project loads")
}

fn fixture_files(project: &Project) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for path in &project.targets {
        let rel = path.strip_prefix(fixtures_root()).unwrap();
        let mut parts = rel.components();
        let dir = parts
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .into_owned();
        if dir.starts_with("ORM") {
            out.push((dir, path.clone()));
        }
    }
    out
}

fn fix_text(project: &Project, path: &Path, bytes: Vec<u8>, level: Applicability) -> SourceFile {
    let source = SourceFile::from_bytes(path.to_path_buf(), bytes).expect("fixture reads");
    let fixed = project
        .fix_source(source.clone(), level)
        .unwrap_or_else(|p| panic!("{}: {}", path.display(), p.message));
    source.with_text(fixed.fixed)
}

#[test]
fn rule_fixtures() {
    let project = project();
    let files = fixture_files(&project);
    assert!(files.len() >= 10, "fixtures not found");
    let mut failures = Vec::new();
    for (code, path) in &files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let rel = path.strip_prefix(fixtures_root()).unwrap().to_path_buf();
        let original = std::fs::read(path).unwrap();
        let source = SourceFile::from_bytes(rel.clone(), original.clone()).unwrap();
        let diagnostics = project
            .analyze_text(path, &source.text)
            .unwrap_or_else(|p| panic!("{}: {}", rel.display(), p.message));
        let own: Vec<_> = diagnostics.iter().filter(|d| d.rule == code).collect();
        if name.starts_with("ok_") && !own.is_empty() {
            failures.push(format!(
                "noisy: {} reports {code} on good code",
                rel.display()
            ));
        }
        if !name.starts_with("ok_") && own.is_empty() {
            failures.push(format!("missing: {} has no {code} finding", rel.display()));
        }
        let reports: Vec<Report> = diagnostics
            .iter()
            .map(|d| Report {
                path: rel.clone(),
                source: &source,
                diagnostic: d,
                measured: None,
            })
            .collect();

        let safe = fix_text(&project, path, original.clone(), Applicability::Safe);
        let unsafe_ = fix_text(&project, path, original.clone(), Applicability::Unsafe);

        // Idempotent: a second run changes nothing.
        for (label, fixed, level) in [
            ("safe", &safe, Applicability::Safe),
            ("unsafe", &unsafe_, Applicability::Unsafe),
        ] {
            let again = fix_text(&project, path, fixed.to_bytes(), level);
            if again.text != fixed.text {
                failures.push(format!("not idempotent ({label}): {}", rel.display()));
            }
            // Converged: nothing of this level is left to fix.
            let left = project.analyze_text(path, &fixed.text).unwrap();
            if left
                .iter()
                .any(|d| d.fix.as_ref().is_some_and(|f| f.applicability >= level))
            {
                failures.push(format!("did not converge ({label}): {}", rel.display()));
            }
        }
        // CRLF: the same fixes, with the file's line endings.
        let crlf = source.text.replace('\n', "\r\n").into_bytes();
        let fixed_crlf = fix_text(&project, path, crlf, Applicability::Unsafe);
        if fixed_crlf.text != unsafe_.text.replace('\n', "\r\n") {
            failures.push(format!("CRLF variant differs: {}", rel.display()));
        }
        // BOM: kept, and the same fixes.
        let mut bom = vec![0xef, 0xbb, 0xbf];
        bom.extend_from_slice(&original);
        let fixed_bom = fix_text(&project, path, bom, Applicability::Unsafe);
        if !fixed_bom.bom || fixed_bom.text != unsafe_.text {
            failures.push(format!("BOM variant differs: {}", rel.display()));
        }

        let mut snap = String::new();
        snap.push_str("## findings\n\n");
        snap.push_str(&render::text::render(&reports, true));
        snap.push_str("## diff (djopt fix)\n\n");
        snap.push_str(&render::diff::unified(&rel, &source.text, &safe.text));
        if unsafe_.text != safe.text {
            snap.push_str("\n## diff (djopt fix --unsafe-fixes)\n\n");
            snap.push_str(&render::diff::unified(&rel, &source.text, &unsafe_.text));
        }
        if unsafe_.text != source.text {
            snap.push_str("\n## fixed file (--unsafe-fixes)\n\n");
            snap.push_str(&unsafe_.text);
        }
        let snapshot_name = format!("{code}__{name}");
        insta::with_settings!({
            snapshot_path => Path::new(env!("CARGO_MANIFEST_DIR")).join("snapshots"),
            prepend_module_to_snapshot => false,
            omit_expression => true,
        }, {
            insta::assert_snapshot!(snapshot_name, snap);
        });
    }
    assert!(
        failures.is_empty(),
        "fixture invariants failed:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_rule_has_fixtures_and_documentation() {
    let registry = djopt::rules::registry();
    for rule in &registry.rules {
        let dir = fixtures_root().join(&rule.meta.code);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| {
                panic!("{} has no fixture folder {}", rule.meta.code, dir.display())
            })
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("ok_")),
            "{}: no ok_ fixture",
            rule.meta.code
        );
        assert!(
            names.iter().any(|n| !n.starts_with("ok_")),
            "{}: no finding fixture",
            rule.meta.code
        );
        let docs = &rule.meta.docs;
        for (field, text) in [
            ("what", &docs.what),
            ("why", &docs.why),
            ("example", &docs.example),
            ("fixed", &docs.fixed),
            ("safety", &docs.safety),
        ] {
            assert!(
                text.trim().len() > 20,
                "{}: docs.{field} is empty",
                rule.meta.code
            );
        }
    }
}

#[test]
fn rule_examples_are_what_the_rules_do() {
    // The documented example, fixed by djopt, gives the documented fixed code.
    let project = project();
    for rule in &djopt::rules::registry().rules {
        let example = format!(
            "from library.models import *\n{}",
            rule.meta.docs.example.trim_start()
        );
        let expected = format!(
            "from library.models import *\n{}",
            rule.meta.docs.fixed.trim_start()
        );
        let path = fixtures_root().join("doc_example.py");
        let fixed = if rule.max_applicability == Applicability::Suggestion {
            // Suggestions are never applied by `fix`: apply this rule's own edits by hand.
            let findings = project.analyze_text(&path, &example).unwrap();
            let fixes: Vec<&djopt::fix::Fix> = findings
                .iter()
                .filter(|d| d.rule == rule.meta.code)
                .filter_map(|d| d.fix.as_ref())
                .collect();
            assert!(
                !fixes.is_empty(),
                "{}: the example gives no suggestion",
                rule.meta.code
            );
            let (text, _) = djopt::fix::apply_fixes(&example, &fixes);
            SourceFile::new(path.clone(), text, false, Vec::new())
        } else {
            // An unsafe-only rule documents what `--unsafe-fixes` does.
            let level = rule.max_applicability.max(Applicability::Unsafe);
            fix_text(&project, &path, example.into_bytes(), level)
        };
        assert_eq!(
            fixed.text, expected,
            "{}: docs example and fix disagree",
            rule.meta.code
        );
    }
}
