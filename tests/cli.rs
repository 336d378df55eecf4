//! The binary as users run it: exit codes, formats, configuration, writes.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::Path;

mod common;
use common::small::{FIXED_VIEWS, VIEWS, djopt, project};

#[test]
fn version() {
    Command::cargo_bin("djopt")
        .unwrap()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::starts_with("djopt "));
}

#[test]
fn check_reports_and_exits_one() {
    let dir = project();
    djopt(dir.path())
        .args(["check", "."])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("shop/views.py:5:23: ORM101 [*]"))
        .stdout(predicate::str::contains("1 fixable with `djopt fix`"));
}

#[test]
fn check_clean_project_exits_zero() {
    let dir = project();
    fs::write(dir.path().join("shop/views.py"), FIXED_VIEWS).unwrap();
    djopt(dir.path())
        .args(["check"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("All checks passed"));
}

#[test]
fn json_output_has_positions_and_fix() {
    let dir = project();
    let out = djopt(dir.path())
        .args(["check", "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &v[0];
    assert_eq!(f["rule"], "ORM101");
    assert_eq!(f["path"], "shop/views.py");
    assert_eq!(f["line"], 5);
    assert_eq!(f["column"], 23);
    assert_eq!(f["end_line"], 5);
    assert_eq!(f["end_column"], 31);
    assert_eq!(f["fix"]["applicability"], "safe");
    // The insertion, and the line breaks that keep the line within 88 columns.
    let edits = f["fix"]["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2);
    assert_eq!(edits[0]["content"], "\n        ");
    assert_eq!(edits[0]["start_column"], 13);
    let edit = &edits[1];
    assert_eq!(edit["content"], ".select_related(\"author\")\n    ");
    assert_eq!(edit["start_line"], 5);
    assert_eq!(edit["start_column"], edit["end_column"]);
}

#[test]
fn diff_prints_and_writes_nothing() {
    let dir = project();
    djopt(dir.path())
        .args(["diff"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("--- a/shop/views.py\n+++ b/shop/views.py"))
        .stdout(predicate::str::contains("+    return [\n+        (b.title, b.author.name) for b in Book.objects.all().select_related(\"author\")\n+    ]\n"));
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        VIEWS
    );
}

#[test]
fn fix_writes_then_nothing_left() {
    let dir = project();
    djopt(dir.path()).args(["fix"]).assert().code(0);
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        FIXED_VIEWS
    );
    djopt(dir.path()).args(["diff"]).assert().code(0).stdout("");
    djopt(dir.path()).args(["check"]).assert().code(0);
}

/// The fix of `shop/reports.py` (a 59-column line made 84 long), with `config` written to
/// the file `name` of the project.
fn fixed_report(config: Option<(&str, &str)>) -> String {
    let dir = project();
    fs::write(dir.path().join("shop/reports.py"), common::REPORTS).unwrap();
    if let Some((name, text)) = config {
        fs::write(dir.path().join(name), text).unwrap();
    }
    djopt(dir.path()).args(["fix"]).assert().code(0);
    fs::read_to_string(dir.path().join("shop/reports.py")).unwrap()
}

#[test]
fn fixes_keep_the_projects_line_length() {
    let unwrapped = "    for book in Book.objects.filter(title__startswith=\"A\").select_related(\"author\"):\n";
    let wrapped = "    for book in Book.objects.filter(\n        title__startswith=\"A\"\n    ).select_related(\"author\"):\n";
    // 88 by default.
    assert!(fixed_report(None).contains(unwrapped));
    let ruff = "[tool.ruff]\nline-length = 60\n";
    assert!(fixed_report(Some(("pyproject.toml", ruff))).contains(wrapped));
    let ruff_toml = "line-length = 60\n";
    assert!(fixed_report(Some(("ruff.toml", ruff_toml))).contains(wrapped));
    assert!(fixed_report(Some((".ruff.toml", ruff_toml))).contains(wrapped));
    let black = "[tool.black]\nline-length = 60\n";
    assert!(fixed_report(Some(("pyproject.toml", black))).contains(wrapped));
    // ruff's line length wins over black's.
    let both = "[tool.ruff]\nline-length = 120\n\n[tool.black]\nline-length = 60\n";
    assert!(fixed_report(Some(("pyproject.toml", both))).contains(unwrapped));
    // Within the limit after the fix: not wrapped.
    let wide = "[tool.ruff]\nline-length = 84\n";
    assert!(fixed_report(Some(("pyproject.toml", wide))).contains(unwrapped));
}

#[cfg(unix)]
#[test]
fn fix_keeps_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project();
    let path = dir.path().join("shop/views.py");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
    djopt(dir.path()).args(["fix"]).assert().code(0);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
}

#[test]
fn named_file_checks_against_whole_project_models() {
    let dir = project();
    djopt(dir.path())
        .args(["check", "shop/views.py"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("ORM101"));
}

#[test]
fn select_and_ignore() {
    let dir = project();
    djopt(dir.path())
        .args(["check", "--ignore", "ORM101"])
        .assert()
        .code(0);
    djopt(dir.path())
        .args(["check", "--select", "ORM102"])
        .assert()
        .code(0);
    djopt(dir.path())
        .args(["check", "--select", "ORM1"])
        .assert()
        .code(1);
    djopt(dir.path())
        .args(["check", "--select", "XYZ9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown rule code `XYZ9`"));
}

#[test]
fn suppression_comment() {
    let dir = project();
    let text = VIEWS.replace(
        "for b in Book.objects.all()]",
        "for b in Book.objects.all()]  # djopt: ignore[ORM101]",
    );
    fs::write(dir.path().join("shop/views.py"), text).unwrap();
    djopt(dir.path()).args(["check"]).assert().code(0);
}

#[test]
fn pyproject_configuration() {
    let dir = project();
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.djopt]\nignore = [\"ORM101\"]\n",
    )
    .unwrap();
    djopt(dir.path()).args(["check"]).assert().code(0);
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.djopt]\nper-file-ignores = { \"shop/views.py\" = [\"ORM101\"] }\n",
    )
    .unwrap();
    djopt(dir.path()).args(["check"]).assert().code(0);
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.djopt]\nexclude = [\"shop/views.py\"]\n",
    )
    .unwrap();
    djopt(dir.path()).args(["check"]).assert().code(0);
}

#[test]
fn unknown_configuration_key_is_an_error_naming_it() {
    let dir = project();
    fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.djopt]\nselekt = [\"ORM101\"]\n",
    )
    .unwrap();
    djopt(dir.path())
        .args(["check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("selekt"));
}

#[test]
fn invalid_toml_is_an_error() {
    let dir = project();
    fs::write(dir.path().join("pyproject.toml"), "[tool.djopt\n").unwrap();
    djopt(dir.path())
        .args(["check"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not valid TOML"));
}

#[test]
fn default_excludes_skip_migrations_and_venv_but_named_paths_are_checked() {
    let dir = project();
    for sub in ["shop/migrations", ".venv/lib", "node_modules/x"] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
        fs::write(dir.path().join(sub).join("m.py"), VIEWS).unwrap();
    }
    let out = djopt(dir.path()).args(["check", "-q"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    djopt(dir.path())
        .args(["check", "shop/migrations/m.py"])
        .assert()
        .code(1);
}

#[test]
fn gitignored_files_are_skipped() {
    let dir = project();
    fs::create_dir_all(dir.path().join("generated")).unwrap();
    fs::write(dir.path().join("generated/v.py"), VIEWS).unwrap();
    fs::write(dir.path().join(".gitignore"), "generated/\n").unwrap();
    let out = djopt(dir.path()).args(["check", "-q"]).output().unwrap();
    assert!(!String::from_utf8(out.stdout).unwrap().contains("generated"));
}

#[test]
fn bad_files_are_reported_and_left_alone() {
    let dir = project();
    let latin1 = b"# caf\xe9\nx = 1\n".to_vec();
    fs::write(dir.path().join("shop/latin1.py"), &latin1).unwrap();
    let broken = format!("{VIEWS}\ndef broken(:\n    pass\n");
    fs::write(dir.path().join("shop/broken.py"), &broken).unwrap();
    djopt(dir.path())
        .args(["fix"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("shop/latin1.py: not UTF-8"))
        .stderr(predicate::str::contains(
            "shop/broken.py: syntax error at line 7",
        ));
    assert_eq!(fs::read(dir.path().join("shop/latin1.py")).unwrap(), latin1);
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/broken.py")).unwrap(),
        broken
    );
    // The good file next to them is fixed.
    assert_eq!(
        fs::read_to_string(dir.path().join("shop/views.py")).unwrap(),
        FIXED_VIEWS
    );
}

#[test]
fn missing_path_is_a_usage_error() {
    let dir = project();
    djopt(dir.path())
        .args(["check", "nope.py"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "nope.py: no such file or directory",
        ));
}

#[cfg(unix)]
#[test]
fn read_only_file_is_not_written() {
    use std::os::unix::fs::PermissionsExt;
    let dir = project();
    let path = dir.path().join("shop/views.py");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    djopt(dir.path())
        .args(["fix"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("read-only"));
    assert_eq!(fs::read_to_string(&path).unwrap(), VIEWS);
}

#[test]
fn crlf_and_bom_are_kept() {
    let dir = project();
    let mut bytes = vec![0xef, 0xbb, 0xbf];
    bytes.extend_from_slice(VIEWS.replace('\n', "\r\n").as_bytes());
    fs::write(dir.path().join("shop/views.py"), &bytes).unwrap();
    djopt(dir.path()).args(["fix"]).assert().code(0);
    let mut expected = vec![0xef, 0xbb, 0xbf];
    expected.extend_from_slice(FIXED_VIEWS.replace('\n', "\r\n").as_bytes());
    assert_eq!(
        fs::read(dir.path().join("shop/views.py")).unwrap(),
        expected
    );
}

#[test]
fn models_command_shows_relations() {
    let dir = project();
    djopt(dir.path())
        .args(["models"])
        .assert()
        .success()
        .stdout(predicate::str::contains("shop.Book"))
        .stdout(predicate::str::contains(
            "author                   ForeignKey -> shop.Author",
        ))
        .stdout(predicate::str::contains(
            "books                    ReverseForeignKey -> shop.Book",
        ));
    let out = djopt(dir.path())
        .args(["models", "--json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 2);
}

#[test]
fn rule_documentation() {
    Command::cargo_bin("djopt")
        .unwrap()
        .args(["rule", "ORM101"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "# ORM101 (select-related-in-loop)",
        ))
        .stdout(predicate::str::contains("## Fix safety"));
    Command::cargo_bin("djopt")
        .unwrap()
        .args(["rule", "--all"])
        .assert()
        .success()
        .stdout(predicate::str::contains("ORM103"));
    Command::cargo_bin("djopt")
        .unwrap()
        .args(["rule", "NOPE"])
        .assert()
        .code(2);
}

#[test]
fn example_project_is_fixed_and_second_run_is_clean() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bookshop");
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&src, dir.path());
    djopt(dir.path()).args(["check", "-q"]).assert().code(1);
    djopt(dir.path()).args(["fix"]).assert().code(0);
    djopt(dir.path()).args(["diff"]).assert().code(0).stdout("");
    djopt(dir.path()).args(["check"]).assert().code(0);
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn readme_rule_table_is_current() {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let table = djopt::commands::rule::markdown_table();
    assert!(
        readme.contains(&table),
        "README's rule table is stale: replace it with the output of `djopt rule --table`"
    );
}
