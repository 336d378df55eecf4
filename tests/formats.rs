//! Output for CI and for people: SARIF (validated against the SARIF 2.1.0 schema), GitHub
//! annotations, statistics, --exit-zero, baselines, colors and the timed summary.

mod common;

use common::{djopt, project};
use predicates::prelude::*;
use serde_json::Value;
use std::fs;
use std::path::Path;

fn stdout_of(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = djopt(dir).args(args).output().unwrap();
    (out.status.code(), String::from_utf8(out.stdout).unwrap())
}

fn sarif_schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/sarif-2.1.0.json");
    let schema: Value = serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn sarif_is_valid_and_carries_rules_fingerprints_and_fixes() {
    let dir = project();
    fs::write(
        dir.path().join("shop/broken.py"),
        // Something djopt reads (a loop over a model's rows): a file with nothing to find is not
        // parsed, so its syntax is not checked either.
        "from shop.models import Book\n\n\ndef f(:\n    for b in Book.objects.all():\n        pass\n",
    )
    .unwrap();
    let (code, out) = stdout_of(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(code, Some(1));
    let log: Value = serde_json::from_str(&out).unwrap();
    let errors: Vec<String> = sarif_schema()
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF: {errors:#?}");

    let run = &log["runs"][0];
    assert_eq!(log["version"], "2.1.0");
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let orm101 = rules.iter().find(|r| r["id"] == "ORM101").unwrap();
    assert_eq!(orm101["name"], "select-related-in-loop");
    assert!(
        orm101["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("## Why it costs queries")
    );
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    let first = results
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "shop/views.py"
        })
        .unwrap();
    assert_eq!(first["ruleId"], "ORM101");
    assert_eq!(
        rules[first["ruleIndex"].as_u64().unwrap() as usize]["id"],
        "ORM101"
    );
    let region = &first["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(5), Some(23))
    );
    assert_eq!(
        first["partialFingerprints"]["djopt/v1"]
            .as_str()
            .unwrap()
            .len(),
        16
    );
    // The insertion, after the line break that keeps the line within 88 columns.
    let replacements = &first["fixes"][0]["artifactChanges"][0]["replacements"];
    assert_eq!(replacements[0]["insertedContent"]["text"], "\n        ");
    let replacement = &replacements[1];
    assert_eq!(
        replacement["insertedContent"]["text"],
        ".select_related(\"author\")\n    "
    );
    assert_eq!(
        replacement["deletedRegion"]["startColumn"],
        replacement["deletedRegion"]["endColumn"]
    );
    // The finding without a fix has none; the unsafe one says so.
    let unfixable = results.iter().filter(|r| r.get("fixes").is_none()).count();
    assert_eq!(unfixable, 1);
    assert!(
        results
            .iter()
            .any(|r| r["properties"]["fixApplicability"] == "unsafe")
    );
    // The file djopt could not parse is a notification, not a silent gap.
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1);
    assert!(
        notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("syntax error")
    );
}

#[test]
fn sarif_of_a_clean_project_is_valid_and_empty() {
    let dir = project();
    fs::remove_file(dir.path().join("shop/views.py")).unwrap();
    fs::remove_file(dir.path().join("shop/reports.py")).unwrap();
    let (code, out) = stdout_of(dir.path(), &["check", "--format", "sarif"]);
    assert_eq!(code, Some(0));
    let log: Value = serde_json::from_str(&out).unwrap();
    assert!(sarif_schema().is_valid(&log));
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);
}

#[test]
fn github_annotations() {
    let dir = project();
    let (code, out) = stdout_of(dir.path(), &["check", "--format", "github"]);
    assert_eq!(code, Some(1));
    assert_eq!(out.lines().count(), 5, "{out}");
    assert!(
        out.lines().all(|l| l.starts_with("::warning file=shop/")),
        "{out}"
    );
    assert!(out.contains(
        "::warning file=shop/views.py,line=5,col=23,endLine=5,endColumn=31,title=ORM101 (select-related-in-loop)::`b.author` runs a query"
    ), "{out}");
}

#[test]
fn statistics_count_per_rule() {
    let dir = project();
    let (code, out) = stdout_of(dir.path(), &["check", "--statistics"]);
    assert_eq!(code, Some(1));
    let mut lines = out.lines();
    assert_eq!(
        lines.next(),
        Some("    4  ORM101  [*] select-related-in-loop")
    );
    assert_eq!(
        lines.next(),
        Some("    1  ORM102  [*] prefetch-related-in-loop")
    );
    assert!(
        !out.contains("runs a query"),
        "statistics replace the findings: {out}"
    );
    let (_, json) = stdout_of(dir.path(), &["check", "--statistics", "--format", "json"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["code"], "ORM101");
    assert_eq!(v[0]["count"], 4);
    assert_eq!(v[0]["safe_fixes"], 2);
    assert_eq!(v[0]["unsafe_fixes"], 1);
    djopt(dir.path())
        .args(["check", "--statistics", "--format", "sarif"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--statistics prints text or json"));
}

#[test]
fn exit_zero_keeps_the_findings_but_not_the_status() {
    let dir = project();
    djopt(dir.path())
        .args(["check", "--exit-zero"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Found 5 findings"));
    // Errors still fail.
    djopt(dir.path())
        .args(["check", "--exit-zero", "nope.py"])
        .assert()
        .code(2);
}

#[test]
fn baseline_gates_only_new_findings_and_survives_edits_above() {
    let dir = project();
    let root = dir.path();
    djopt(root)
        .args(["check", "--write-baseline", "djopt-baseline.json"])
        .assert()
        .code(0)
        .stderr(predicate::str::contains("Wrote 5 findings"));
    let baseline: Value =
        serde_json::from_str(&fs::read_to_string(root.join("djopt-baseline.json")).unwrap())
            .unwrap();
    assert_eq!(baseline["findings"].as_array().unwrap().len(), 5);
    djopt(root)
        .args(["check", "--baseline", "djopt-baseline.json"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "5 findings in the baseline not shown",
        ));

    // Unrelated edits above the findings move their lines: still in the baseline.
    let views = fs::read_to_string(root.join("shop/views.py")).unwrap();
    let moved = views.replace(
        "from shop.models import Book\n",
        "from shop.models import Book\n\nimport logging\n\nlog = logging.getLogger(__name__)\n",
    );
    fs::write(root.join("shop/views.py"), &moved).unwrap();
    djopt(root)
        .args(["check", "--baseline", "djopt-baseline.json"])
        .assert()
        .code(0);

    // A new N+1 is reported, alone; so is a second copy of a baselined one.
    let new = format!(
        "{moved}\n\ndef more():\n    return [b.author.name for b in Book.objects.filter(title=\"x\")]\n\n\ndef again():\n    return [(b.title, b.author.name) for b in Book.objects.all()]\n"
    );
    fs::write(root.join("shop/views.py"), new).unwrap();
    let (code, out) = stdout_of(root, &["check", "--baseline", "djopt-baseline.json", "-q"]);
    assert_eq!(code, Some(1));
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.contains("shop/views.py:27:"), "{out}");
    assert!(out.contains("shop/views.py:31:"), "{out}");

    // Fixed findings leave stale entries, and the summary says how to refresh.
    fs::write(root.join("shop/reports.py"), "").unwrap();
    djopt(root)
        .args(["check", "--baseline", "djopt-baseline.json"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "1 baseline entry no longer found (fixed?): refresh it with `djopt check --write-baseline djopt-baseline.json`",
        ));
}

#[test]
fn baseline_errors_say_what_to_do() {
    let dir = project();
    djopt(dir.path())
        .args(["check", "--baseline", "missing.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "create it with `djopt check --write-baseline missing.json`",
        ));
    fs::write(dir.path().join("bad.json"), "{\"findings\": 3}").unwrap();
    djopt(dir.path())
        .args(["check", "--baseline", "bad.json"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.json is not a djopt baseline"));
}

#[test]
fn colors_follow_the_flag_and_no_color() {
    let dir = project();
    let esc = "\u{1b}[";
    // Not a terminal: no colors unless forced.
    let (_, plain) = stdout_of(dir.path(), &["check"]);
    assert!(!plain.contains(esc));
    let (_, forced) = stdout_of(dir.path(), &["check", "--color", "always"]);
    assert!(
        forced.contains(&format!("{esc}1m{esc}31mORM101")),
        "{forced}"
    );
    let (_, never) = stdout_of(dir.path(), &["check", "--color", "never"]);
    let findings = |out: &str| out.split("Found").next().unwrap().to_string();
    assert_eq!(findings(&never), findings(&plain));
    let (_, diff) = stdout_of(dir.path(), &["diff", "--color", "always"]);
    assert!(diff.contains(&format!("{esc}32m+")), "{diff}");
    // The machine formats never carry escapes.
    let (_, json) = stdout_of(
        dir.path(),
        &["check", "--format", "json", "--color", "always"],
    );
    assert!(!json.contains(esc));
    // CLICOLOR_FORCE turns colors on without a terminal, NO_COLOR wins over nothing else.
    let out = djopt(dir.path())
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .arg("check")
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains(esc));
}

#[test]
fn summaries_say_how_long_the_run_took() {
    let dir = project();
    let (_, out) = stdout_of(dir.path(), &["check"]);
    let last = out.lines().find(|l| l.starts_with("Found")).unwrap();
    assert!(
        predicate::str::is_match(r"^Found 5 findings in 2 files \(5 checked\) in \d+\.\d+s\.$")
            .unwrap()
            .eval(last),
        "{last}"
    );
    djopt(dir.path()).args(["fix"]).assert().code(0).stderr(
        predicate::str::is_match(r"Fixed 3 findings in 2 files; .* \(\d+\.\d+s\)\.\n$").unwrap(),
    );
}

/// A project whose only report is a suggestion: an ORM103 swap on a nullable key.
fn suggestion_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs::write(root.join("manage.py"), "").unwrap();
    fs::create_dir_all(root.join("shop")).unwrap();
    fs::write(root.join("shop/__init__.py"), "").unwrap();
    fs::write(
        root.join("shop/models.py"),
        "from django.db import models\n\n\nclass Author(models.Model):\n    name = models.CharField(max_length=9)\n\n\nclass Book(models.Model):\n    editor = models.ForeignKey(Author, null=True, on_delete=models.SET_NULL)\n",
    )
    .unwrap();
    fs::write(
        root.join("shop/views.py"),
        "from shop.models import Book\n\n\ndef editors():\n    return [b.editor for b in Book.objects.prefetch_related(\"editor\")]\n",
    )
    .unwrap();
    dir
}

#[test]
fn suggestions_are_labelled_everywhere_and_fail_check_only_when_selected_by_code() {
    let dir = suggestion_project();
    let root = dir.path();
    let (code, out) = stdout_of(root, &["check"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("ORM103 (suggestion)"), "{out}");
    assert!(out.contains("All checks passed"), "{out}");
    assert!(out.contains("1 suggestion to weigh"), "{out}");

    // Named by its code, the rule fails the check; a prefix or ALL only shows it.
    assert_eq!(stdout_of(root, &["check", "--select", "ORM103"]).0, Some(1));
    assert_eq!(stdout_of(root, &["check", "--select", "ORM1"]).0, Some(0));
    assert_eq!(stdout_of(root, &["check", "--select", "ALL"]).0, Some(0));

    let (_, json) = stdout_of(root, &["check", "--format", "json"]);
    let findings: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(findings.as_array().unwrap().len(), 1, "{json}");
    assert_eq!(findings[0]["kind"], "suggestion");
    assert_eq!(findings[0]["fix"]["applicability"], "suggestion");

    let (_, sarif) = stdout_of(root, &["check", "--format", "sarif"]);
    let log: Value = serde_json::from_str(&sarif).unwrap();
    assert!(sarif_schema().iter_errors(&log).next().is_none());
    assert_eq!(log["runs"][0]["results"][0]["level"], "note");
    let rules = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let orm107 = rules.iter().find(|r| r["id"] == "ORM107").unwrap();
    assert_eq!(orm107["defaultConfiguration"]["level"], "note");

    let (_, github) = stdout_of(root, &["check", "--format", "github"]);
    assert!(
        github.starts_with("::notice file=shop/views.py"),
        "{github}"
    );

    // `[tool.djopt] select` naming the code counts as selecting it.
    fs::write(
        root.join("pyproject.toml"),
        "[tool.djopt]\nselect = [\"ORM103\"]\n",
    )
    .unwrap();
    assert_eq!(stdout_of(root, &["check"]).0, Some(1));
    fs::remove_file(root.join("pyproject.toml")).unwrap();

    // Never applied.
    let before = fs::read_to_string(root.join("shop/views.py")).unwrap();
    djopt(root).args(["fix"]).assert().success();
    assert_eq!(
        fs::read_to_string(root.join("shop/views.py")).unwrap(),
        before
    );
}

#[test]
fn findings_and_suggestions_are_counted_apart() {
    let dir = suggestion_project();
    let root = dir.path();
    fs::write(
        root.join("shop/reports.py"),
        "from shop.models import Book\n\n\ndef report():\n    for b in Book.objects.all():\n        print(b.editor.name)\n",
    )
    .unwrap();
    let (code, out) = stdout_of(root, &["check"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Found 1 finding in 1 file"), "{out}");
    assert!(out.contains("1 suggestion to weigh"), "{out}");
    let (_, stats) = stdout_of(root, &["check", "--statistics", "--format", "json"]);
    let stats: Value = serde_json::from_str(&stats).unwrap();
    let orm103 = stats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "ORM103")
        .unwrap();
    assert_eq!(orm103["suggestions"], 1);
}

/// A profile record as djopt.profile writes it (validated against its schema below).
fn profile_line(id: &str, groups: &[(&str, usize, u64)]) -> String {
    let groups: Vec<Value> = groups
        .iter()
        .enumerate()
        .map(|(i, (file, line, count))| {
            serde_json::json!({
                "db": "default", "op": "select", "sql": format!("SELECT {i}"), "example": "SELECT",
                "count": count, "time_ms": 1.0, "n_plus_one": *count >= 3, "distinct_params": count,
                "callers": 1, "first": i, "fed_by": null, "file": file, "line": line,
                "frames": [{"file": file, "line": line, "function": "f", "first_line": 1, "last_line": line + 1}],
            })
        })
        .collect();
    serde_json::json!({
        "format": "djopt-profile", "version": 1, "kind": "test", "id": id, "run": "r1",
        "started_at": "2026-12-03T00:00:00.000Z", "root": "/elsewhere/ci/checkout", "threshold": 3,
        "queries": 0, "time_ms": 0.0, "n_plus_one": 0, "groups": groups,
    })
    .to_string()
}

#[test]
fn check_profile_confirms_ranks_and_reports_what_no_rule_explains() {
    let dir = project();
    let root = dir.path();
    let schema_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/profile.schema.json");
    let schema: Value = serde_json::from_str(&fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    // Recorded in another checkout: files match relative to the project root.
    let lines = [
        profile_line(
            "t.test_titles",
            &[("shop/views.py", 5, 10), ("shop/extra.py", 3, 8)],
        ),
        profile_line("t.test_report", &[("shop/reports.py", 6, 40)]),
    ];
    for l in &lines {
        let v: Value = serde_json::from_str(l).unwrap();
        assert!(validator.iter_errors(&v).next().is_none(), "{l}");
    }
    fs::write(root.join("p.jsonl"), lines.join("\n") + "\n").unwrap();

    let (code, json) = stdout_of(root, &["check", "--format", "json", "--profile", "p.jsonl"]);
    assert_eq!(code, Some(1));
    let findings: Value = serde_json::from_str(&json).unwrap();
    let findings = findings.as_array().unwrap();
    // The most queries saved first: reports.py (39), then views.py (9), then the unmeasured.
    assert_eq!(findings[0]["path"], "shop/reports.py", "{json}");
    assert_eq!(findings[0]["measured"]["saved"], 39);
    assert_eq!(findings[1]["path"], "shop/views.py");
    assert_eq!(findings[1]["line"], 5);
    assert_eq!(findings[1]["measured"]["queries"], 10);
    assert!(findings[2].get("measured").is_none());
    let profile_only: Vec<&Value> = findings.iter().filter(|f| f["rule"] == "PROFILE").collect();
    assert_eq!(profile_only.len(), 1, "{json}");
    assert_eq!(profile_only[0]["path"], "shop/extra.py");
    assert_eq!(profile_only[0]["line"], 3);
    assert_eq!(profile_only[0]["kind"], "measured");

    let (_, text) = stdout_of(root, &["check", "--profile", "p.jsonl"]);
    assert!(
        text.contains("shop/extra.py:3:1: PROFILE a run-time N+1 no rule explains: 8 queries"),
        "{text}"
    );
    assert!(
        text.contains("2 findings confirmed, 1 run-time N+1 no rule explains"),
        "{text}"
    );

    let (_, sarif) = stdout_of(
        root,
        &["check", "--format", "sarif", "--profile", "p.jsonl"],
    );
    let log: Value = serde_json::from_str(&sarif).unwrap();
    assert!(sarif_schema().iter_errors(&log).next().is_none());
    let measured = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["properties"]["measured"].is_object())
        .count();
    assert_eq!(measured, 2);

    // Not a profile: a clear error, exit 2.
    fs::write(root.join("bad.jsonl"), "{\"x\": 1}\n").unwrap();
    let out = djopt(root)
        .args(["check", "--profile", "bad.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.jsonl:1: not a djopt profile record")
    );
}
