//! Never lose a line: whatever djopt is given, it says what is wrong with which path and what to
//! do, exits with the documented status, does not panic, and leaves every file it should not
//! change byte for byte as it was. Also interruption (signals) and two runs at once.
//!
//! Some tests use hooks compiled only into debug builds (`DJOPT_TEST_PAUSE_DIR`,
//! `DJOPT_TEST_PANIC_IN`); under `cargo test --release` they say so and check nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::small::{FIXED_VIEWS, VIEWS, djopt, project};

/// A safe finding and one that needs `--unsafe-fixes` (the queryset is returned).
const TWO_LEVELS: &str = r#"from shop.models import Book


def titles():
    return [(b.title, b.author.name) for b in Book.objects.all()]


def titles_and_rows():
    rows = Book.objects.filter(title__startswith="A")
    names = [b.author.name for b in rows]
    return rows, names
"#;

const INSERTION: &str = r#".select_related("author")"#;

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(dir: &Path, args: &[&str]) -> Run {
    let out = djopt(dir).args(args).output().unwrap();
    let run = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("internal error"),
        "djopt {args:?} panicked:\n{}",
        run.stderr
    );
    run
}

/// Every file under `root` (not following links) and its bytes; djopt's cache of results
/// (`.djopt_cache/`, ignored by git) aside.
fn files(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let rel = entry.path().strip_prefix(root).unwrap().to_path_buf();
            if kind.is_dir() && entry.file_name() == ".djopt_cache" {
                continue;
            }
            if kind.is_dir() {
                // djopt's own cache of check results is not the user's code.
                if entry.file_name() != ".djopt_cache" {
                    stack.push(entry.path());
                }
            } else if kind.is_file() {
                out.insert(rel, fs::read(entry.path()).unwrap());
            } else if kind.is_symlink() {
                let target = fs::read_link(entry.path()).unwrap();
                out.insert(rel, format!("-> {}", target.display()).into_bytes());
            }
        }
    }
    out
}

/// Only the files named changed, and nothing appeared or vanished (no temporary files either).
fn assert_only_changed(
    before: &BTreeMap<PathBuf, Vec<u8>>,
    after: &BTreeMap<PathBuf, Vec<u8>>,
    changed: &[&str],
) {
    let names = |m: &BTreeMap<PathBuf, Vec<u8>>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(before), names(after), "files appeared or vanished");
    for (path, bytes) in before {
        let expect_change = changed.iter().any(|c| Path::new(c) == path);
        let same = after[path] == *bytes;
        assert!(
            same != expect_change,
            "{}: {}",
            path.display(),
            if same {
                "should have been fixed"
            } else {
                "changed, but should be byte-identical"
            }
        );
    }
}

fn debug_hooks_available() -> bool {
    if cfg!(debug_assertions) {
        return true;
    }
    eprintln!(
        "SKIPPED: this test needs djopt's debug-build test hooks; run `cargo test` without --release"
    );
    false
}

fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

#[test]
fn not_utf8_is_skipped_naming_line_and_column() {
    let dir = project();
    let latin1 = b"# caf\xe9\nfrom shop.models import Book\n\ndef f():\n    return [b.author.name for b in Book.objects.all()]\n".to_vec();
    fs::write(dir.path().join("shop/latin1.py"), &latin1).unwrap();
    let before = files(dir.path());
    let message = "shop/latin1.py: not UTF-8 (byte 0xe9 at line 1, column 6); djopt reads only UTF-8: convert the file or exclude it";
    for (args, code) in [(&["check"][..], 1), (&["diff"][..], 1), (&["fix"][..], 0)] {
        let run = run(dir.path(), args);
        assert_eq!(run.code, Some(code), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{}", run.stderr);
    }
    assert_only_changed(&before, &files(dir.path()), &["shop/views.py"]);
    assert_eq!(fs::read(dir.path().join("shop/latin1.py")).unwrap(), latin1);
}

#[test]
fn binary_file_named_py_is_skipped() {
    let dir = project();
    let binary: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    fs::write(dir.path().join("shop/blob.py"), &binary).unwrap();
    // Also one that looks like a model file to phase 1.
    let mut models_like = b"from django.db import models\nclass X(models.Model):\n".to_vec();
    models_like.extend_from_slice(&[0, 159, 146, 150]);
    fs::write(dir.path().join("shop/models_blob.py"), &models_like).unwrap();
    let before = files(dir.path());
    let run = run(dir.path(), &["fix"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("shop/blob.py: looks binary (contains a NUL byte); exclude it"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("shop/models_blob.py: looks binary"));
    assert_only_changed(&before, &files(dir.path()), &["shop/views.py"]);
}

#[test]
fn bom_is_kept_and_columns_do_not_count_it() {
    let dir = project();
    let with_bom = format!("\u{feff}{VIEWS}");
    fs::write(dir.path().join("shop/views.py"), &with_bom).unwrap();
    let run_check = run(dir.path(), &["check"]);
    assert!(
        run_check.stdout.contains("shop/views.py:5:23: ORM101"),
        "{}",
        run_check.stdout
    );
    run(dir.path(), &["fix"]);
    assert_eq!(
        fs::read(dir.path().join("shop/views.py")).unwrap(),
        format!("\u{feff}{FIXED_VIEWS}").into_bytes()
    );
    // A file that is only a BOM is fine too.
    fs::write(dir.path().join("shop/bom_only.py"), "\u{feff}").unwrap();
    assert_eq!(run(dir.path(), &["check"]).code, Some(0));
    assert_eq!(
        fs::read(dir.path().join("shop/bom_only.py")).unwrap(),
        "\u{feff}".as_bytes()
    );
}

#[test]
fn crlf_mixed_and_lone_cr_line_endings_are_kept() {
    let dir = project();
    let crlf = VIEWS.replace('\n', "\r\n");
    // Mixed: CRLF, LF and a lone CR (Python reads all three as line ends).
    let mixed = "from shop.models import Book\r\n\n\rdef titles():\r\n    x = 1\r    return [(b.title, b.author.name) for b in Book.objects.all()]\n";
    // Tree-sitter's comments run on past a lone CR, so it does not see the loop after one:
    // no finding, and the file stays as it is (Python would see the loop).
    let cr_after_comment = "from shop.models import Book\n\ndef titles():\n    # note\r    return [b.author.name for b in Book.objects.all()]\n";
    fs::write(dir.path().join("shop/cr_comment.py"), cr_after_comment).unwrap();
    let lone_cr = VIEWS.replace('\n', "\r");
    fs::write(dir.path().join("shop/views.py"), &crlf).unwrap();
    fs::write(dir.path().join("shop/mixed.py"), mixed).unwrap();
    fs::write(dir.path().join("shop/mac.py"), &lone_cr).unwrap();
    let run = run(dir.path(), &["fix"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let with_insertion = |text: &str| {
        text.replace(
            "Book.objects.all()]",
            &format!("Book.objects.all(){INSERTION}]"),
        )
    };
    // The CRLF file's fix is wrapped at 88 columns with CRLF line breaks; a line with a lone
    // CR is not wrapped (the lines read for wrapping do not end there).
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        FIXED_VIEWS.replace('\n', "\r\n"),
        "views.py: every line ending stays"
    );
    for (name, original) in [("mixed.py", mixed), ("mac.py", lone_cr.as_str())] {
        assert_eq!(
            fs::read_to_string(dir.path().join("shop").join(name)).unwrap(),
            with_insertion(original),
            "{name}: only the insertion may change, every line ending stays"
        );
    }
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/cr_comment.py")).unwrap(),
        cr_after_comment
    );
    assert_eq!(
        djopt(dir.path())
            .arg("diff")
            .output()
            .unwrap()
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn tabs_are_kept() {
    let dir = project();
    let tabs = "from shop.models import Book\n\n\ndef titles():\n\tnames = []\n\tfor b in Book.objects.all():\n\t\tnames.append(b.author.name)\t# tab before the comment\n\treturn names\n";
    fs::write(dir.path().join("shop/views.py"), tabs).unwrap();
    run(dir.path(), &["fix"]);
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        tabs.replace(
            "Book.objects.all():",
            &format!("Book.objects.all(){INSERTION}:")
        )
    );
}

#[test]
fn ten_megabyte_file_is_fixed_and_a_larger_one_skipped() {
    let dir = project();
    let mut big = String::from("from shop.models import Book\n\n");
    // Short enough that the fix needs no wrapping at 88 columns.
    let finding = |i: usize| {
        format!("\ndef titles_{i}():\n    return [b.author for b in Book.objects.filter(id={i})]\n")
    };
    let filler = "CONSTANT_VALUE_{i} = {{\"key\": \"a value that takes some room\", \"n\": {i}}}\n";
    let mut i = 0;
    while big.len() < 10 * 1024 * 1024 {
        if i % 20_000 == 0 {
            big.push_str(&finding(i));
        }
        big.push_str(
            &filler
                .replace("{i}", &i.to_string())
                .replace("{{", "{")
                .replace("}}", "}"),
        );
        i += 1;
    }
    big.push_str(&finding(i));
    fs::write(dir.path().join("shop/big.py"), &big).unwrap();
    let findings = big.matches("Book.objects.filter(").count();
    let too_large = "x = 1\n".repeat(17 * 1024 * 1024 / 6 + 1);
    fs::write(dir.path().join("shop/huge.py"), &too_large).unwrap();
    let started = Instant::now();
    let run = run(dir.path(), &["fix"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("Fixed {} findings in 2 files", findings + 1)),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&format!(
            "shop/huge.py: too large ({} bytes, limit 16777216); exclude it",
            too_large.len()
        )),
        "{}",
        run.stderr
    );
    let fixed = fs::read_to_string(dir.path().join("shop/big.py")).unwrap();
    assert_eq!(fixed.matches(INSERTION).count(), findings);
    assert_eq!(fixed.len(), big.len() + findings * INSERTION.len());
    assert_eq!(
        fs::read(dir.path().join("shop/huge.py")).unwrap(),
        too_large.as_bytes()
    );
    eprintln!("10 MB fix took {:?} (debug build)", started.elapsed());
}

#[test]
fn one_megabyte_line() {
    let dir = project();
    let data: Vec<String> = (0..150_000).map(|i| i.to_string()).collect();
    let line = format!("DATA = [{}]\n", data.join(", "));
    assert!(line.len() > 1024 * 1024);
    // A finding after the long line, and one on a line of its own that is 1 MB long.
    let long_loop = format!(
        "def g():\n    return [(b.author.name, [{}]) for b in Book.objects.all()]\n",
        "0, ".repeat(350_000)
    );
    let text = format!("{VIEWS}{line}{long_loop}");
    fs::write(dir.path().join("shop/views.py"), &text).unwrap();
    let run = run(dir.path(), &["fix"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // The views' fix is wrapped at 88 columns; the 1 MB line was too long before: not.
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        format!(
            "{FIXED_VIEWS}{line}{}",
            long_loop.replace(
                "Book.objects.all()]",
                &format!("Book.objects.all(){INSERTION}]")
            )
        )
    );
}

#[test]
fn nesting_5000_deep_is_reported_and_left_alone() {
    let dir = project();
    let n = 5000;
    let body = "b.author.name";
    let shapes = [
        (
            "parens",
            format!("{}{body}{}", "(".repeat(n), ")".repeat(n)),
        ),
        ("lists", format!("{}{body}{}", "[".repeat(n), "]".repeat(n))),
        (
            "calls",
            format!("{}{body}{}", "f(".repeat(n), ")".repeat(n)),
        ),
        ("sums", vec![body; n].join(" + ")),
        ("nots", format!("{}{body}", "not ".repeat(n))),
        ("lambdas", format!("{}{body}", "lambda: ".repeat(n))),
        ("subscripts", format!("{body}{}", "[0]".repeat(n))),
    ];
    let loop_of = |expr: &str| {
        format!(
            "from shop.models import Book\nfrom django.db import models\n\n\ndef f():\n    for b in Book.objects.all():\n        y = {expr}\n"
        )
    };
    for (name, expr) in &shapes {
        fs::write(
            dir.path().join(format!("shop/deep_{name}.py")),
            loop_of(expr),
        )
        .unwrap();
    }
    // Just under the limit: analysed and fixed, on worker threads (several files at once).
    let near = format!("{}{body}{}", "(".repeat(2_900), ")".repeat(2_900));
    fs::write(dir.path().join("shop/near_a.py"), loop_of(&near)).unwrap();
    fs::write(dir.path().join("shop/near_b.py"), loop_of(&near)).unwrap();
    let before = files(dir.path());
    let run = run(dir.path(), &["fix"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    for (name, _) in &shapes {
        assert!(
            run.stderr.contains(&format!(
                "shop/deep_{name}.py: nested more than 3000 levels deep, deeper than Python itself compiles; djopt leaves this file alone (exclude it if it is generated)"
            )),
            "{name}: {}",
            run.stderr
        );
    }
    assert_only_changed(
        &before,
        &files(dir.path()),
        &["shop/views.py", "shop/near_a.py", "shop/near_b.py"],
    );
}

#[test]
fn empty_and_blank_files() {
    let dir = project();
    for (name, text) in [
        ("empty.py", ""),
        ("newline.py", "\n"),
        ("blank.py", " \t\n\r\n\x0c\n"),
        ("comment.py", "# for b in Book.objects.all(): b.author"),
    ] {
        fs::write(dir.path().join("shop").join(name), text).unwrap();
    }
    let before = files(dir.path());
    let check = run(dir.path(), &["check", "-q"]);
    assert_eq!(check.code, Some(1));
    assert_eq!(check.stderr, "");
    assert_eq!(check.stdout.lines().count(), 1, "{}", check.stdout);
    assert_eq!(run(dir.path(), &["fix"]).code, Some(0));
    assert_only_changed(&before, &files(dir.path()), &["shop/views.py"]);
}

#[test]
fn syntax_errors_leave_the_file_alone_and_the_others_are_fixed() {
    let dir = project();
    let broken = [
        ("bad_def.py", format!("{VIEWS}\ndef broken(:\n    pass\n")),
        ("unclosed.py", format!("{VIEWS}\nx = (1,\n")),
        ("in_loop.py", VIEWS.replace("b.title,", "b.title,,")),
        ("bad_for.py", format!("{VIEWS}\nfor x in :\n    pass\n")),
        // Errors only the whole file shows, not the parts that can hold a finding nor the rest
        // parsed apart: `x = ` completed by `y = 1` across the function left out; a class body
        // the outline misreads (its methods are in neither part).
        (
            "dangling.py",
            format!("{VIEWS}\nx = \n\n\ndef later():\n    return 1\n\n\ny = 1\n"),
        ),
        (
            "stray_else.py",
            format!(
                "{VIEWS}\n\nclass Other:\n    @classmethod\nelse:\n    def helper(cls):\n        return [b.author.name for b in Book.objects.all()]\n"
            ),
        ),
    ];
    for (name, text) in &broken {
        fs::write(dir.path().join("shop").join(name), text).unwrap();
    }
    let before = files(dir.path());
    for (args, code) in [(&["check"][..], 1), (&["diff"][..], 1), (&["fix"][..], 0)] {
        let run = run(dir.path(), args);
        assert_eq!(run.code, Some(code), "{args:?}: {}", run.stderr);
        for (name, _) in &broken {
            let expected = format!("djopt: warning: shop/{name}: syntax error at line ");
            assert!(run.stderr.contains(&expected), "{name}: {}", run.stderr);
        }
        assert!(
            run.stderr
                .contains("fix it first (djopt leaves this file alone)")
        );
    }
    assert_only_changed(&before, &files(dir.path()), &["shop/views.py"]);
}

#[cfg(unix)]
#[test]
fn unreadable_files() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project();
    // A FIFO named like a Python file used to block the read forever. (A folder named like one
    // is walked as a folder.)
    fs::create_dir(dir.path().join("shop/folder.py")).unwrap();
    fs::write(dir.path().join("shop/folder.py/inner.py"), VIEWS).unwrap();
    let fifo = dir.path().join("shop/pipe.py");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let before = files(dir.path());
    // Walking a tree skips the FIFO.
    let check = run(dir.path(), &["check", "-q"]);
    assert_eq!(check.code, Some(1));
    assert_eq!(check.stdout.lines().count(), 2, "{}", check.stdout);
    // Named on the command line, they are errors.
    let mut cmd = djopt(dir.path());
    cmd.args(["fix", "shop/pipe.py"])
        .timeout(Duration::from_secs(60));
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "djopt: error: shop/pipe.py: not a regular file (a folder, pipe or device named like a Python file); exclude it"
        ),
        "{stderr}"
    );
    assert_only_changed(&before, &files(dir.path()), &[]);
    // Permissions: as root they do not stop a read, so this part only runs as another user.
    if is_root() {
        eprintln!(
            "NOTE: running as root, where chmod 000 does not block reads: the unreadable file is tested with the folder and the FIFO above only"
        );
        return;
    }
    let locked = dir.path().join("shop/locked.py");
    fs::write(&locked, VIEWS).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let run = run(dir.path(), &["fix"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("shop/locked.py: cannot read: Permission denied"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("make it readable or exclude it"));
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o644)).unwrap();
    assert_eq!(fs::read_to_string(&locked).unwrap(), VIEWS);
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        FIXED_VIEWS
    );
}

#[cfg(unix)]
#[test]
fn read_only_file_is_reported_and_the_others_are_fixed() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project();
    fs::write(dir.path().join("shop/other.py"), VIEWS).unwrap();
    let path = dir.path().join("shop/views.py");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    let before = files(dir.path());
    let run = run(dir.path(), &["fix"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "djopt: error: shop/views.py: file is read-only; not fixed (make it writable and run again)"
        ),
        "{}",
        run.stderr
    );
    assert_only_changed(&before, &files(dir.path()), &["shop/other.py"]);
    assert_eq!(
        fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o444
    );
}

#[cfg(unix)]
#[test]
fn symbolic_links_loops_and_targets() {
    use std::os::unix::fs::symlink;
    let dir = project();
    let shop = dir.path().join("shop");
    symlink("loop_b.py", shop.join("loop_a.py")).unwrap();
    symlink("loop_a.py", shop.join("loop_b.py")).unwrap();
    symlink(".", shop.join("again")).unwrap();
    symlink("missing.py", shop.join("dangling.py")).unwrap();
    let before = files(dir.path());
    // Walking: links are not followed, so neither loop hangs.
    let mut cmd = djopt(dir.path());
    cmd.args(["check", "-q"]).timeout(Duration::from_secs(60));
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    // Named: an error that says why.
    let run_loop = run(dir.path(), &["fix", "shop/loop_a.py"]);
    assert_eq!(run_loop.code, Some(2));
    assert!(
        run_loop
            .stderr
            .contains("shop/loop_a.py: cannot read: Too many levels of symbolic links"),
        "{}",
        run_loop.stderr
    );
    let run_dangling = run(dir.path(), &["fix", "shop/dangling.py"]);
    assert_eq!(run_dangling.code, Some(2));
    assert!(
        run_dangling
            .stderr
            .contains("shop/dangling.py: cannot read: No such file or directory"),
        "{}",
        run_dangling.stderr
    );
    assert_only_changed(&before, &files(dir.path()), &[]);
    // A link to a file: the file is fixed, the link stays a link.
    symlink("views.py", shop.join("link.py")).unwrap();
    assert_eq!(run(dir.path(), &["fix", "shop/link.py"]).code, Some(0));
    assert!(
        fs::symlink_metadata(shop.join("link.py"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(
        fs::read_to_string(shop.join("views.py")).unwrap(),
        FIXED_VIEWS
    );
}

#[test]
fn missing_path_changes_nothing() {
    let dir = project();
    let before = files(dir.path());
    for command in ["check", "diff", "fix"] {
        let run = run(dir.path(), &[command, ".", "nope.py"]);
        assert_eq!(run.code, Some(2), "{command}");
        assert!(
            run.stderr
                .contains("djopt: error: nope.py: no such file or directory"),
            "{}",
            run.stderr
        );
    }
    assert_only_changed(&before, &files(dir.path()), &[]);
}

#[test]
fn bad_configuration_changes_nothing() {
    let dir = project();
    let pyproject = dir.path().join("pyproject.toml");
    for (config, expected) in [
        (
            "[tool.djopt\n",
            "pyproject.toml is not valid TOML; fix it or run djopt from another folder",
        ),
        (
            "[tool.djopt]\nselekt = [\"ORM101\"]\n",
            "pyproject.toml [tool.djopt]: unknown field `selekt`",
        ),
        (
            "[tool.djopt]\nselect = \"ORM101\"\n",
            "pyproject.toml [tool.djopt]: invalid type",
        ),
        ("\u{0}\u{1}", "pyproject.toml is not valid TOML"),
    ] {
        fs::write(&pyproject, config).unwrap();
        let before = files(dir.path());
        let run = run(dir.path(), &["fix"]);
        assert_eq!(run.code, Some(2), "{config:?}");
        assert!(run.stderr.contains(expected), "{config:?}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&dir.path().join("pyproject.toml").display().to_string()),
            "{}",
            run.stderr
        );
        assert_only_changed(&before, &files(dir.path()), &[]);
    }
    let latin1 = dir.path().join("pyproject.toml");
    fs::write(&latin1, b"[tool.djopt]\n# caf\xe9\n").unwrap();
    let run = run(dir.path(), &["fix"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("pyproject.toml"), "{}", run.stderr);
}

#[test]
fn a_panic_names_the_file_and_costs_only_that_file() {
    if !debug_hooks_available() {
        return;
    }
    let dir = project();
    fs::write(dir.path().join("shop/other.py"), VIEWS).unwrap();
    let before = files(dir.path());
    let out = djopt(dir.path())
        .arg("fix")
        .env("DJOPT_TEST_PANIC_IN", "views.py")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("djopt: internal error while processing shop/views.py. This is a bug in djopt: please report it"),
        "{stderr}"
    );
    assert!(stderr.contains("djopt: error: shop/views.py: djopt crashed on this file"));
    assert_only_changed(&before, &files(dir.path()), &["shop/other.py"]);
}

// ---- between reading and writing --------------------------------------------------------

/// `djopt fix` stopped (by the debug hook) just before it renames its first fixed file.
struct Paused {
    child: Child,
    pause: tempfile::TempDir,
}

impl Paused {
    fn start(dir: &Path, args: &[&str], one_thread: bool) -> Paused {
        let pause = tempfile::tempdir().unwrap();
        let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("djopt"));
        cmd.current_dir(dir)
            .args(args)
            .env("NO_COLOR", "1")
            .env("DJOPT_TEST_PAUSE_DIR", pause.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if one_thread {
            cmd.env("RAYON_NUM_THREADS", "1");
        }
        let child = cmd.spawn().unwrap();
        let paused = Paused { child, pause };
        paused.wait_for("paused");
        paused
    }

    fn wait_for(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while !self.pause.path().join(name).exists() {
            assert!(Instant::now() < deadline, "djopt never paused");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn paused_path(&self) -> PathBuf {
        PathBuf::from(fs::read_to_string(self.pause.path().join("paused")).unwrap())
    }

    fn signal(&self, name: &str) {
        let status = std::process::Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn resume(self) -> Run {
        fs::write(self.pause.path().join("resume"), "").unwrap();
        let out = self.child.wait_with_output().unwrap();
        Run {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

fn temp_files(root: &Path) -> Vec<PathBuf> {
    files(root)
        .into_keys()
        .filter(|p| p.to_string_lossy().contains(".djopt-"))
        .collect()
}

#[test]
fn file_changed_between_read_and_write_is_not_overwritten() {
    if !debug_hooks_available() {
        return;
    }
    let dir = project();
    let paused = Paused::start(dir.path(), &["fix"], false);
    assert_eq!(paused.paused_path(), Path::new("shop/views.py"));
    assert_eq!(
        temp_files(dir.path()).len(),
        1,
        "the temporary file is written"
    );
    let edited = format!("{VIEWS}# edited by someone else\n");
    fs::write(dir.path().join("shop/views.py"), &edited).unwrap();
    let run = paused.resume();
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "djopt: error: shop/views.py: file changed on disk while djopt was working; not fixed (run djopt again)"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        edited
    );
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn file_deleted_between_read_and_write_is_not_recreated() {
    if !debug_hooks_available() {
        return;
    }
    let dir = project();
    let paused = Paused::start(dir.path(), &["fix"], false);
    fs::remove_file(dir.path().join("shop/views.py")).unwrap();
    let run = paused.resume();
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("shop/views.py: file was deleted while djopt was working; not recreated"),
        "{}",
        run.stderr
    );
    assert!(!dir.path().join("shop/views.py").exists());
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn write_atomic_refuses_a_stale_read() {
    use djopt::project::write_atomic;
    use djopt::source::SourceFile;
    let dir = project();
    let path = dir.path().join("shop/views.py");
    let source = SourceFile::read(&path).unwrap();
    fs::write(&path, "x = 2\n").unwrap();
    let problem = write_atomic(&source, FIXED_VIEWS).unwrap_err();
    assert!(
        problem.message.contains("changed on disk"),
        "{}",
        problem.message
    );
    assert!(problem.fatal);
    assert_eq!(fs::read_to_string(&path).unwrap(), "x = 2\n");
    fs::remove_file(&path).unwrap();
    let problem = write_atomic(&source, FIXED_VIEWS).unwrap_err();
    assert!(
        problem.message.contains("was deleted"),
        "{}",
        problem.message
    );
    assert!(!path.exists());
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

// ---- signals and concurrent runs ----------------------------------------------------------

/// A project with `n` view files, each with one safe and one unsafe finding; returns it with the
/// bytes each file has when untouched, safely fixed and fixed with --unsafe-fixes.
fn many_files(n: usize) -> (tempfile::TempDir, Vec<u8>, Vec<u8>, Vec<u8>) {
    let dir = project();
    fs::remove_file(dir.path().join("shop/views.py")).unwrap();
    for i in 0..n {
        fs::write(dir.path().join(format!("shop/views_{i:03}.py")), TWO_LEVELS).unwrap();
    }
    let variant = |flags: &[&str]| {
        let copy = project();
        fs::write(copy.path().join("shop/views.py"), TWO_LEVELS).unwrap();
        let mut args = vec!["fix"];
        args.extend_from_slice(flags);
        assert_eq!(run(copy.path(), &args).code, Some(0));
        fs::read(copy.path().join("shop/views.py")).unwrap()
    };
    let safe = variant(&[]);
    let unsafe_ = variant(&["--unsafe-fixes"]);
    assert_ne!(safe, TWO_LEVELS.as_bytes());
    assert_ne!(safe, unsafe_);
    (dir, TWO_LEVELS.as_bytes().to_vec(), safe, unsafe_)
}

/// Every view file is one of `allowed`; returns how many are each.
fn count_states(dir: &Path, allowed: &[&[u8]]) -> Vec<usize> {
    let mut counts = vec![0; allowed.len()];
    for (path, bytes) in files(dir) {
        if !path.to_string_lossy().contains("views_") {
            continue;
        }
        let state = allowed.iter().position(|a| *a == bytes.as_slice());
        let Some(state) = state else {
            panic!(
                "{} is neither old nor wholly new:\n{}",
                path.display(),
                String::from_utf8_lossy(&bytes)
            );
        };
        counts[state] += 1;
    }
    counts
}

#[test]
fn sigint_during_fix_finishes_the_write_and_stops() {
    if !debug_hooks_available() {
        return;
    }
    for (signal, status) in [("INT", 130), ("TERM", 143)] {
        let (dir, old, new, _) = many_files(30);
        let paused = Paused::start(dir.path(), &["fix"], true);
        paused.signal(signal);
        std::thread::sleep(Duration::from_millis(200));
        let run = paused.resume();
        assert_eq!(run.code, Some(status), "SIG{signal}: {}", run.stderr);
        assert!(
            run.stderr.contains(
                "djopt: interrupted: every file is either as it was or wholly fixed; run `djopt fix` again to finish."
            ),
            "{}",
            run.stderr
        );
        let counts = count_states(dir.path(), &[&old, &new]);
        // The write under way finished; one thread, so nothing else was written.
        assert_eq!(counts, vec![29, 1], "SIG{signal}");
        assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
        // A second run finishes the job.
        assert_eq!(self::run(dir.path(), &["fix"]).code, Some(0));
        assert_eq!(count_states(dir.path(), &[&old, &new]), vec![0, 30]);
    }
}

#[test]
fn second_signal_stops_at_once_and_removes_the_temporary_file() {
    if !debug_hooks_available() {
        return;
    }
    let (dir, old, new, _) = many_files(10);
    let paused = Paused::start(dir.path(), &["fix"], true);
    assert_eq!(temp_files(dir.path()).len(), 1);
    paused.signal("INT");
    std::thread::sleep(Duration::from_millis(200));
    paused.signal("INT");
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut paused = paused;
    let status = loop {
        if let Some(status) = paused.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "a second SIGINT did not stop djopt"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(130));
    assert_eq!(count_states(dir.path(), &[&old, &new]), vec![10, 0]);
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn signals_at_random_moments_leave_every_file_old_or_new() {
    let (dir, old, safe, unsafe_) = many_files(150);
    for delay_ms in [30, 90, 200, 400, 700] {
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("djopt"))
            .current_dir(dir.path())
            .args(["fix", "--unsafe-fixes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let status = child.wait().unwrap();
        assert!(
            matches!(status.code(), Some(0) | Some(143)),
            "after {delay_ms} ms: {status:?}"
        );
        let counts = count_states(dir.path(), &[&old, &safe, &unsafe_]);
        assert_eq!(counts[1], 0, "a half-applied state after {delay_ms} ms");
        assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
        eprintln!(
            "SIGTERM after {delay_ms} ms: {} old, {} new",
            counts[0], counts[2]
        );
    }
}

#[test]
fn two_fix_runs_at_once_corrupt_nothing() {
    let (dir, _old, safe, unsafe_) = many_files(120);
    for round in 0..3 {
        if round > 0 {
            for path in files(dir.path()).into_keys() {
                if path.to_string_lossy().contains("views_") {
                    fs::write(dir.path().join(path), TWO_LEVELS).unwrap();
                }
            }
        }
        let spawn = |flags: &[&str]| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("djopt"))
                .current_dir(dir.path())
                .arg("fix")
                .args(flags)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let a = spawn(&[]);
        let b = spawn(&["--unsafe-fixes"]);
        for child in [a, b] {
            let out = child.wait_with_output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(matches!(out.status.code(), Some(0) | Some(2)), "{stderr}");
            for line in stderr.lines().filter(|l| l.starts_with("djopt: error")) {
                assert!(
                    line.ends_with(
                        "file changed on disk while djopt was working; not fixed (run djopt again)"
                    ),
                    "{line}"
                );
            }
        }
        // Each file was written by one run, from the bytes it read: wholly one version.
        let counts = count_states(dir.path(), &[&safe, &unsafe_]);
        assert_eq!(counts.iter().sum::<usize>(), 120);
        assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
        eprintln!("round {round}: {} safe, {} unsafe", counts[0], counts[1]);
    }
}

#[test]
fn a_second_run_waits_for_the_lock_then_refuses() {
    if !debug_hooks_available() {
        return;
    }
    let dir = project();
    // The first run holds the file's lock while it is paused before the rename.
    let first = Paused::start(dir.path(), &["fix"], false);
    let second = std::process::Command::new(assert_cmd::cargo::cargo_bin("djopt"))
        .current_dir(dir.path())
        .args(["fix", "--unsafe-fixes"])
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        VIEWS,
        "the second run wrote while the first held the lock"
    );
    let first = first.resume();
    let second = second.wait_with_output().unwrap();
    let second_err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    assert_eq!(second.status.code(), Some(2), "{second_err}");
    assert!(
        second_err.contains("shop/views.py: file changed on disk while djopt was working"),
        "{second_err}"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        FIXED_VIEWS
    );
    assert_eq!(temp_files(dir.path()), Vec::<PathBuf>::new());
}
