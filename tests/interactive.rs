//! `djopt fix -i` driven through a real pseudo-terminal: one key per fix, files written with
//! exactly the fixes accepted.
#![cfg(unix)]

mod common;

use common::{REPORTS, VIEWS, djopt, project};
use predicates::prelude::*;
use rexpect::session::{PtySession, spawn_command};
use std::fs;
use std::path::Path;
use std::process::Command;

const TIMEOUT_MS: u64 = 30_000;

const REPORTS_FIXED: &str = r#"from shop.models import Book


def report():
    for book in Book.objects.filter(title__startswith="A").select_related("author"):
        print(book.author.name)
"#;

/// The views with the ORM101 and ORM102 fixes, each wrapped at 88 columns as ruff would.
fn views_with(select: bool, prefetch: bool) -> String {
    let mut text = VIEWS.to_string();
    if select {
        text = text.replace(
            "    return [(b.title, b.author.name) for b in Book.objects.all()]\n",
            "    return [\n        (b.title, b.author.name) for b in Book.objects.all().select_related(\"author\")\n    ]\n",
        );
    }
    if prefetch {
        text = text.replace(
            "    return [[t.name for t in b.tags.all()] for b in Book.objects.all()]\n",
            "    return [\n        [t.name for t in b.tags.all()]\n        for b in Book.objects.all().prefetch_related(\"tags\")\n    ]\n",
        );
    }
    text
}

/// `djopt fix -i` in a pseudo-terminal, colors off unless `color`.
fn interactive(dir: &Path, color: bool) -> PtySession {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_djopt"));
    cmd.args(["fix", "-i"])
        .current_dir(dir)
        .env("TERM", "xterm");
    if color {
        cmd.env_remove("NO_COLOR");
    } else {
        cmd.env("NO_COLOR", "1");
    }
    spawn_command(cmd, Some(TIMEOUT_MS)).unwrap()
}

fn answer(p: &mut PtySession, expect: &str, key: &str) {
    p.exp_string(expect)
        .unwrap_or_else(|e| panic!("waiting for {expect:?}: {e}"));
    p.exp_string("Apply this fix [y,n,a,d,s,q,?]?").unwrap();
    p.send(key).unwrap();
    p.flush().unwrap();
}

fn finish(mut p: PtySession) -> String {
    let rest = p.exp_eof().unwrap();
    let status = p.process().wait().unwrap();
    // nix's WaitStatus, which rexpect does not re-export: `Exited(Pid(..), 0)`.
    let status = format!("{status:?}");
    assert!(
        status.starts_with("Exited(") && status.ends_with(", 0)"),
        "{status}\n{rest}"
    );
    rest
}

fn read(dir: &Path, path: &str) -> String {
    fs::read_to_string(dir.join(path)).unwrap()
}

#[test]
fn yes_and_no_write_exactly_the_accepted_fixes() {
    let dir = project();
    let mut p = interactive(dir.path(), false);
    // One fix alone: its rule, message, safety, place and diff.
    p.exp_string("shop/reports.py:6:15: ORM101 `book.author` runs a query")
        .unwrap();
    p.exp_string("= fix (safe): Add `.select_related(\"author\")`")
        .unwrap();
    p.exp_string(
        "+    for book in Book.objects.filter(title__startswith=\"A\").select_related(\"author\"):",
    )
    .unwrap();
    answer(&mut p, "", "?");
    answer(
        &mut p,
        "a - apply this fix and every other fix in this file",
        "y",
    );
    // The findings without a fix to apply are listed, not asked about.
    p.exp_string("shop/views.py:13:13: ORM101").unwrap();
    p.exp_string("no automatic fix").unwrap();
    p.exp_string("shop/views.py:18:14: ORM101").unwrap();
    p.exp_string("its fix is unsafe: run with --unsafe-fixes")
        .unwrap();
    answer(&mut p, "shop/views.py:5:23: ORM101", "n");
    answer(&mut p, "shop/views.py:9:30: ORM102", "y");
    let rest = finish(p);
    assert!(
        rest.contains("Applied 2 fixes, declined 1, suppressed 0; 2 findings without a fix to apply; 2 files written"),
        "{rest}"
    );
    assert_eq!(read(dir.path(), "shop/reports.py"), REPORTS_FIXED);
    assert_eq!(read(dir.path(), "shop/views.py"), views_with(false, true));
}

#[test]
fn quit_keeps_this_files_accepted_fixes_and_leaves_later_files_alone() {
    let dir = project();
    fs::write(dir.path().join("shop/zz_later.py"), REPORTS).unwrap();
    let mut p = interactive(dir.path(), false);
    answer(&mut p, "shop/reports.py:6:15", "n");
    answer(&mut p, "shop/views.py:5:23", "y");
    // The wrapped fix above made two lines more.
    answer(&mut p, "shop/views.py:11:30", "q");
    let rest = finish(p);
    assert!(rest.contains("1 file written"), "{rest}");
    assert!(!rest.contains("zz_later"), "{rest}");
    assert_eq!(read(dir.path(), "shop/reports.py"), REPORTS);
    assert_eq!(read(dir.path(), "shop/views.py"), views_with(true, false));
    assert_eq!(read(dir.path(), "shop/zz_later.py"), REPORTS);
}

#[test]
fn skip_file_then_all_in_file() {
    let dir = project();
    let mut p = interactive(dir.path(), false);
    answer(&mut p, "shop/reports.py:6:15", "d");
    answer(&mut p, "shop/views.py:5:23", "a");
    let rest = finish(p);
    assert!(rest.contains("Applied 2 fixes"), "{rest}");
    assert_eq!(read(dir.path(), "shop/reports.py"), REPORTS);
    // All the safe fixes of the file; the unsafe one is not offered without --unsafe-fixes.
    assert_eq!(read(dir.path(), "shop/views.py"), views_with(true, true));
}

#[test]
fn suppress_writes_the_comment_with_the_files_line_ending() {
    let dir = project();
    let crlf = REPORTS.replace('\n', "\r\n");
    fs::write(dir.path().join("shop/reports.py"), &crlf).unwrap();
    let mut p = interactive(dir.path(), false);
    answer(&mut p, "shop/reports.py:6:15", "s");
    answer(&mut p, "shop/views.py:5:23", "q");
    let rest = finish(p);
    assert!(rest.contains("suppressed 1"), "{rest}");
    let expected = crlf.replace(
        "print(book.author.name)\r\n",
        "print(book.author.name)  # djopt: ignore[ORM101]\r\n",
    );
    assert_eq!(read(dir.path(), "shop/reports.py"), expected);
    djopt(dir.path())
        .args(["check", "shop/reports.py"])
        .assert()
        .code(0);
}

#[test]
fn the_diff_is_colored_in_a_terminal() {
    let dir = project();
    let mut p = interactive(dir.path(), true);
    p.exp_string("\u{1b}[32m+    for book in").unwrap();
    answer(&mut p, "", "q");
    finish(p);
    assert_eq!(read(dir.path(), "shop/reports.py"), REPORTS);
}

#[test]
fn without_a_terminal_it_refuses_and_changes_nothing() {
    let dir = project();
    djopt(dir.path())
        .args(["fix", "--interactive"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("needs a terminal"))
        .stderr(predicate::str::contains("djopt diff"));
    assert_eq!(read(dir.path(), "shop/views.py"), VIEWS);
}
