//! The smallest project with a finding: two models and one view with an ORM101 N+1 query (a
//! safe `select_related` fix). Shared by the CLI, robustness and cache tests.

use assert_cmd::Command;
use std::fs;
use std::path::Path;

pub const MODELS: &str = r#"from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, related_name="books", on_delete=models.CASCADE)
"#;

pub const VIEWS: &str = r#"from shop.models import Book


def titles():
    return [(b.title, b.author.name) for b in Book.objects.all()]
"#;

/// The fix wraps the line it makes longer than 88 columns, as ruff format would.
pub const FIXED_VIEWS: &str = r#"from shop.models import Book


def titles():
    return [
        (b.title, b.author.name) for b in Book.objects.all().select_related("author")
    ]
"#;

/// A temporary project: `manage.py`, `shop/models.py` (MODELS), `shop/views.py` (VIEWS).
pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("manage.py"), "").unwrap();
    fs::create_dir_all(root.join("shop")).unwrap();
    fs::write(root.join("shop/__init__.py"), "").unwrap();
    fs::write(root.join("shop/models.py"), MODELS).unwrap();
    fs::write(root.join("shop/views.py"), VIEWS).unwrap();
    dir
}

/// The binary, run in `dir`, without colors.
pub fn djopt(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("djopt").unwrap();
    cmd.current_dir(dir).env("NO_COLOR", "1");
    cmd
}
