//! The run-time query recorder (`python/djopt/profile`, docs/profile.md) as part of
//! `cargo test`: `tests/profile/run` drives it with real pytest, pytest-django, pytest-xdist,
//! `manage.py test`, Django's test clients and the Django Debug Toolbar, in a virtualenv it
//! creates; then every profile record it wrote is validated against
//! `tests/schemas/profile.schema.json`, the format `djopt check --profile` is to read.

use serde_json::Value;
use std::fs;
use std::path::Path;
use std::process::Command;

#[test]
fn recorder_finds_n_plus_one_at_run_time_and_writes_valid_profiles() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(root.join("tests/profile/run"))
        .arg("--out")
        .arg(out.path())
        .env("DJOPT", env!("CARGO_BIN_EXE_djopt"))
        .current_dir(root)
        .output()
        .expect("tests/profile/run starts (needs python3)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("profile: ") && l.ends_with(" failed"))
        .unwrap_or_else(|| panic!("no summary line from tests/profile/run"));
    assert!(
        output.status.success(),
        "tests/profile/run failed: {summary}"
    );
    assert!(summary.ends_with(" passed, 0 failed"), "{summary}");

    let schema_path = root.join("tests/schemas/profile.schema.json");
    let schema: Value = serde_json::from_str(&fs::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let mut records = 0;
    let mut n_plus_one = 0;
    for name in [
        "pytest.jsonl",
        "entrypoint.jsonl",
        "xdist.jsonl",
        "runner.jsonl",
        "runner-parallel.jsonl",
        "middleware.jsonl",
        "toolbar.jsonl",
    ] {
        let path = out.path().join(name);
        let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            text.ends_with('\n'),
            "{name}: the last record has no newline"
        );
        for (i, line) in text.lines().enumerate() {
            let record: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name}:{}: not JSON: {e}", i + 1));
            let errors: Vec<String> = validator
                .iter_errors(&record)
                .map(|e| format!("{} at {}", e, e.instance_path()))
                .collect();
            assert!(
                errors.is_empty(),
                "{name}:{}: invalid record: {errors:#?}",
                i + 1
            );
            records += 1;
            n_plus_one += record["n_plus_one"].as_u64().unwrap();
        }
    }
    assert!(records >= 50, "only {records} records");
    assert!(n_plus_one >= 20, "only {n_plus_one} N+1 groups");

    // `djopt check --profile` reads them back: every static finding of the project is an N+1
    // its tests ran, so each is confirmed with measured numbers, and they come first by the
    // queries a fix saves.
    let project = root.join("tests/profile/project");
    let profile = out.path().join("pytest.jsonl");
    let check = Command::new(env!("CARGO_BIN_EXE_djopt"))
        .args(["check", "--no-cache", "--format", "json", "--profile"])
        .arg(&profile)
        .current_dir(&project)
        .output()
        .unwrap();
    assert_eq!(
        check.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
    let findings: Value = serde_json::from_slice(&check.stdout).unwrap();
    let findings = findings.as_array().unwrap();
    let statics: Vec<&Value> = findings.iter().filter(|f| f["rule"] != "PROFILE").collect();
    assert!(statics.len() >= 4, "{findings:#?}");
    for f in &statics {
        let m = &f["measured"];
        assert!(m.is_object(), "not confirmed by the profile: {f:#}");
        assert!(m["queries"].as_u64().unwrap() >= 3, "{f:#}");
        assert!(m["saved"].as_u64().unwrap() < m["queries"].as_u64().unwrap());
        assert!(m["runs"].as_u64().unwrap() >= 1);
    }
    let saved: Vec<u64> = statics
        .iter()
        .map(|f| f["measured"]["saved"].as_u64().unwrap())
        .collect();
    assert!(
        saved.windows(2).all(|w| w[0] >= w[1]),
        "not ranked by queries saved: {saved:?}"
    );
    // The text output says the same, with the profile's summary line.
    let text = Command::new(env!("CARGO_BIN_EXE_djopt"))
        .args(["check", "--no-cache", "--profile"])
        .arg(&profile)
        .current_dir(&project)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("[measured: "), "{text}");
    assert!(
        text.contains(&format!("{} findings confirmed", statics.len())),
        "{text}"
    );
}
