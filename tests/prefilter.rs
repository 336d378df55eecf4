//! The prefilters lose nothing: phase 1 parsing only the statements that can define models
//! (and knowing the other classes from their outline), phase 2 skipping files with no queryset
//! source (see `src/prefilter.rs`). On the fixture project, the e2e project and the bundled
//! example, `djopt check --format json` (findings, fixes, warnings) and `djopt models --json`
//! print the same as with `DJOPT_NO_PREFILTER=1`, which parses every file whole.
//! `bench/compare-prefilter` does the same on the benchmark corpus.

mod common;

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

/// Shapes the statement-by-statement prefilter must not lose: loops in class bodies, a loop
/// whose rows come from a statement of the class body, a view nested in a test class, a
/// docstring saying "for", module-level loops over names bound at module level, a loop in a
/// method of a class whose other methods hold the source.
#[test]
fn class_and_module_shapes_same_with_and_without_prefilters() {
    let dir = common::small::project();
    let root = dir.path();
    std::fs::create_dir_all(root.join("shop/templates/shop")).unwrap();
    std::fs::write(
        root.join("shop/templates/shop/book_list.html"),
        "{% for book in object_list %}{{ book.author.name }}{% endfor %}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("shop/reports.py"),
        r#"from django.views.generic import ListView

from shop.models import Book

ALL = Book.objects.all()
NAMES = [b.author.name for b in ALL]
for b in Book.objects.filter(title="x"):
    print(b.author.name)


class Report:
    """Reports for Book.objects, one row for each book."""

    names = [b.author.name for b in Book.objects.all()]
    rows = Book.objects.all()
    titles = [(b.title, b.author.name) for b in rows]

    def count(self):
        return len(self.names)


class Split:
    def rows(self):
        return Book.objects.all()

    def names(self, rows):
        return [b.author.name for b in rows]

    def loop(self):
        for b in Book.objects.all():
            print(b.author.name)


class ReportTests:
    class Listing(ListView):
        model = Book
        template_name = "shop/book_list.html"

    def test_nothing(self):
        """Nothing for the loop rules here."""
        return 1
"#,
    )
    .unwrap();
    // Only a statement of a class body can hold a finding in this file.
    std::fs::write(
        root.join("shop/attrs.py"),
        "from shop.models import Book\n\n\nclass Names:\n    names = [b.author.name for b in Book.objects.all()]\n\n    def count(self):\n        return len(self.names)\n",
    )
    .unwrap();
    same_both_ways(root);
}
