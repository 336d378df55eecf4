//! The prefilters lose nothing: phase 1 parsing only the statements that can define models
//! (and knowing the other classes from their outline), phase 2 skipping files with no queryset
//! source (see `src/prefilter.rs`). On the fixture project, the e2e project and the bundled
//! example, `djopt check --format json` (findings, fixes, warnings) and `djopt models --json`
//! print the same as with `DJOPT_NO_PREFILTER=1`, which parses every file whole.
//! `bench/compare-prefilter` does the same on the benchmark corpus.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// (stdout, stderr) of djopt with `args`, with or without the prefilters.
fn djopt(args: &[&str], path: &Path, prefilter: bool) -> (String, String) {
    let mut cmd = Command::cargo_bin("djopt").unwrap();
    cmd.args(args).arg(path);
    if args[0] == "check" {
        cmd.arg("--no-cache");
    }
    if prefilter {
        cmd.env_remove("DJOPT_NO_PREFILTER");
    } else {
        cmd.env("DJOPT_NO_PREFILTER", "1");
    }
    let out = cmd.output().unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn same_both_ways(path: &Path) {
    for args in [
        &["check", "--format", "json", "--quiet"][..],
        &["check", "--format", "json", "--quiet", "--unsafe-fixes"],
    ] {
        let with = djopt(args, path, true);
        let without = djopt(args, path, false);
        assert!(
            with.0.contains("\"rule\""),
            "{}: expected findings to compare, got {}",
            path.display(),
            with.0
        );
        assert_eq!(with, without, "{}: {args:?} differs", path.display());
    }
    let models = ["models", "--json"];
    let with = djopt(&models, path, true);
    let without = djopt(&models, path, false);
    assert!(with.0.len() > 100, "{}: no models", path.display());
    assert_eq!(with, without, "{}: models --json differs", path.display());
}

#[test]
fn fixture_project_same_with_and_without_prefilters() {
    same_both_ways(&root().join("tests/fixtures"));
}

#[test]
fn e2e_project_same_with_and_without_prefilters() {
    same_both_ways(&root().join("tests/e2e/project"));
}

#[test]
fn example_same_with_and_without_prefilters() {
    same_both_ways(&root().join("examples/bookshop"));
}
