//! A small Django project for the CLI tests: models, and views with safe, unsafe and
//! unfixable findings of two rules.
#![allow(dead_code)]

pub mod small;

use std::fs;
use std::path::Path;

pub const MODELS: &str = r#"from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=100)


class Tag(models.Model):
    name = models.CharField(max_length=30)


class Book(models.Model):
    title = models.CharField(max_length=100)
    author = models.ForeignKey(Author, related_name="books", on_delete=models.CASCADE)
    tags = models.ManyToManyField(Tag)
"#;

/// Line 5: ORM101 with a safe fix; line 9: ORM102 with a safe fix; line 13: ORM101 without a
/// fix (`union()`); line 18: ORM101 with an unsafe fix (the queryset escapes).
pub const VIEWS: &str = r#"from shop.models import Book


def titles():
    return [(b.title, b.author.name) for b in Book.objects.all()]


def tag_names():
    return [[t.name for t in b.tags.all()] for b in Book.objects.all()]


def combined():
    return [b.author.name for b in Book.objects.filter(title="a").union(Book.objects.all())]


def passed_on(helper):
    books = Book.objects.all()
    names = [b.author.name for b in books]
    return names, helper(books)
"#;

/// One more file with one safe ORM101 finding on line 5.
pub const REPORTS: &str = r#"from shop.models import Book


def report():
    for book in Book.objects.filter(title__startswith="A"):
        print(book.author.name)
"#;

pub fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_project(dir.path());
    dir
}

pub fn write_project(root: &Path) {
    fs::write(root.join("manage.py"), "").unwrap();
    fs::create_dir_all(root.join("shop")).unwrap();
    fs::write(root.join("shop/__init__.py"), "").unwrap();
    fs::write(root.join("shop/models.py"), MODELS).unwrap();
    fs::write(root.join("shop/views.py"), VIEWS).unwrap();
    fs::write(root.join("shop/reports.py"), REPORTS).unwrap();
}

pub fn djopt(dir: &Path) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("djopt").unwrap();
    cmd.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    cmd
}
