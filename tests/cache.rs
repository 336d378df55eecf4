//! The cache of `check` results (`.djopt_cache/`): a repeated run prints what the last one found
//! without analyzing again, and anything a file's findings depend on invalidates it: the file,
//! the models of other files (the index), the templates, the configuration.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

mod common;
use common::small::{MODELS, VIEWS, project};

fn check(root: &Path, extra: &[&str]) -> String {
    let out = Command::cargo_bin("djopt")
        .unwrap()
        .current_dir(root)
        .args(["check", "--format", "json", "--quiet"])
        .args(extra)
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Marks every cached finding, so a run that prints the mark read the cache.
fn mark_cache(root: &Path) {
    let path = root.join(".djopt_cache/check.json");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.contains("author"), "{text}");
    fs::write(
        &path,
        text.replace("\"message\":\"", "\"message\":\"CACHED "),
    )
    .unwrap();
}

#[test]
fn a_second_run_reads_the_cache_and_gets_the_same_findings() {
    let dir = project();
    let root = dir.path();
    let first = check(root, &[]);
    assert!(first.contains("ORM101"), "{first}");
    assert_eq!(check(root, &[]), first);
    let cache = root.join(".djopt_cache");
    assert_eq!(
        fs::read_to_string(cache.join(".gitignore"))
            .unwrap()
            .trim_end()
            .lines()
            .last(),
        Some("*")
    );
    assert!(cache.join("CACHEDIR.TAG").exists());
    mark_cache(root);
    assert!(check(root, &[]).contains("CACHED"));
    // --no-cache neither reads it...
    assert_eq!(check(root, &["--no-cache"]), first);
    // ...nor writes it.
    let fresh = project();
    check(fresh.path(), &["--no-cache"]);
    assert!(!fresh.path().join(".djopt_cache").exists());
}

#[test]
fn editing_the_file_invalidates_its_entry() {
    let dir = project();
    let root = dir.path();
    check(root, &[]);
    mark_cache(root);
    fs::write(
        root.join("shop/views.py"),
        VIEWS.replace("b.author.name", "b.title.upper()"),
    )
    .unwrap();
    let out = check(root, &[]);
    assert!(!out.contains("ORM101"), "{out}");
}

#[test]
fn editing_a_model_invalidates_every_file_that_uses_it() {
    let dir = project();
    let root = dir.path();
    check(root, &[]);
    mark_cache(root);
    // `author` is no longer a relation: the unchanged view has nothing left to load.
    fs::write(
        root.join("shop/models.py"),
        MODELS.replace(
            "models.ForeignKey(Author, related_name=\"books\", on_delete=models.CASCADE)",
            "models.CharField(max_length=100)",
        ),
    )
    .unwrap();
    let out = check(root, &[]);
    assert!(!out.contains("ORM101"), "{out}");
    assert!(!out.contains("CACHED"), "{out}");
}

#[test]
fn editing_a_helper_function_invalidates_the_files_that_call_it() {
    // `shop/utils.py` defines no model: phase 1 still reads its functions (a loop handing a
    // row to one reads what it reads), so its content is part of the key.
    let dir = project();
    let root = dir.path();
    fs::write(
        root.join("shop/utils.py"),
        "def label(b):\n    return b.title\n",
    )
    .unwrap();
    fs::write(
        root.join("shop/lists.py"),
        "from shop.models import Book\nfrom shop.utils import label\n\n\ndef labels():\n    return [label(b) for b in Book.objects.all()]\n",
    )
    .unwrap();
    let first = check(root, &[]);
    assert!(!first.contains("lists.py"), "{first}");
    mark_cache(root);
    fs::write(
        root.join("shop/utils.py"),
        "def label(b):\n    return b.author.name\n",
    )
    .unwrap();
    let out = check(root, &[]);
    assert!(out.contains("lists.py"), "{out}");
    assert!(!out.contains("CACHED"), "{out}");
}

#[test]
fn other_settings_do_not_reuse_results() {
    let dir = project();
    let root = dir.path();
    check(root, &[]);
    mark_cache(root);
    assert!(!check(root, &["--ignore", "ORM101"]).contains("ORM101"));
    fs::write(
        root.join("pyproject.toml"),
        "[tool.djopt]\nignore = [\"ORM101\"]\n",
    )
    .unwrap();
    let out = check(root, &[]);
    assert!(!out.contains("ORM101"), "{out}");
}

#[test]
fn editing_a_template_invalidates_the_views_that_render_it() {
    let dir = project();
    let root = dir.path();
    fs::write(
        root.join("shop/settings.py"),
        "INSTALLED_APPS = [\"shop\"]\nTEMPLATES = [{\"BACKEND\": \"django.template.backends.django.DjangoTemplates\", \"APP_DIRS\": True}]\n",
    )
    .unwrap();
    fs::write(
        root.join("shop/views.py"),
        "from django.shortcuts import render\nfrom shop.models import Book\n\n\ndef books(request):\n    return render(request, \"shop/books.html\", {\"books\": Book.objects.all()})\n",
    )
    .unwrap();
    fs::create_dir_all(root.join("shop/templates/shop")).unwrap();
    let template = root.join("shop/templates/shop/books.html");
    fs::write(&template, "{% for b in books %}{{ b.title }}{% endfor %}\n").unwrap();
    let quiet = check(root, &[]);
    assert!(!quiet.contains("ORM303"), "{quiet}");
    fs::write(
        &template,
        "{% for b in books %}{{ b.author.name }}{% endfor %}\n",
    )
    .unwrap();
    let out = check(root, &[]);
    assert!(out.contains("ORM303"), "{out}");
}

#[test]
fn a_file_that_cannot_be_checked_is_reported_again() {
    let dir = project();
    let root = dir.path();
    fs::write(
        root.join("shop/broken.py"),
        "from shop.models import Book\n\n\ndef f(:\n    for b in Book.objects.all():\n        pass\n",
    )
    .unwrap();
    for _ in 0..2 {
        let out = Command::cargo_bin("djopt")
            .unwrap()
            .current_dir(root)
            .args(["check", "--quiet"])
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert!(stderr.contains("broken.py"), "{stderr}");
    }
}

#[test]
fn checking_one_file_keeps_the_other_files_results() {
    let dir = project();
    let root = dir.path();
    let first = check(root, &[]);
    mark_cache(root);
    // A pre-commit hook checks the files of the commit only.
    check(root, &["shop/models.py"]);
    let out = check(root, &[]);
    assert!(out.contains("CACHED"), "{out}");
    assert_eq!(out.replace("CACHED ", ""), first);
}
