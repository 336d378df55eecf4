//! The real-database suite (`tests/e2e/run`) as part of `cargo test`: Django 5.2 and SQLite in a
//! virtualenv the script creates, every scenario run before and after `djopt fix`.

use std::path::Path;
use std::process::Command;

#[test]
fn real_django_results_unchanged_and_queries_constant() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = Command::new(root.join("tests/e2e/run"))
        .env("DJOPT", env!("CARGO_BIN_EXE_djopt"))
        .current_dir(root)
        .output()
        .expect("tests/e2e/run starts (needs python3)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Show the whole report: it is the proof, and the place to look when it fails.
    println!("{stdout}");
    eprintln!("{stderr}");
    let summary = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with("e2e: "))
        .unwrap_or_else(|| panic!("no summary line from tests/e2e/run"));
    assert!(output.status.success(), "tests/e2e/run failed: {summary}");
    assert!(summary.contains(" broken=0 "), "{summary}");
    assert!(summary.contains(" untouched_changed=0 "), "{summary}");
    assert!(summary.ends_with("idempotent=yes"), "{summary}");
}
