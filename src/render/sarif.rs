//! SARIF 2.1.0 for code scanning: every rule's metadata and documentation, each finding with
//! its location, a fingerprint that survives unrelated edits, and its fix as replacements.

use super::Report;
use crate::baseline::fingerprint;
use crate::fix::{Edit, Fix};
use crate::problem::FileProblem;
use crate::rules::registry;
use crate::source::SourceFile;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};
use std::path::Path;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const SRCROOT: &str = "%SRCROOT%";

/// Characters that cannot stand as they are in a URI path.
const PATH_UNSAFE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b']')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// The whole log. Relative paths are relative to `cwd`, which becomes `%SRCROOT%`.
pub fn render(reports: &[Report], problems: &[FileProblem], cwd: &Path) -> String {
    let rules: Vec<Value> = registry().rules.iter().map(rule_descriptor).collect();
    let results: Vec<Value> = reports.iter().map(result).collect();
    let notifications: Vec<Value> = problems.iter().map(notification).collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "djopt",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }
            },
            "invocations": [{
                "executionSuccessful": !problems.iter().any(|p| p.fatal),
                "toolExecutionNotifications": notifications,
            }],
            "originalUriBaseIds": {
                SRCROOT: { "uri": directory_uri(cwd) }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut out = serde_json::to_string_pretty(&log).expect("SARIF serializes");
    out.push('\n');
    out
}

fn rule_descriptor(rule: &crate::rules::Rule) -> Value {
    let m = &rule.meta;
    json!({
        "id": m.code,
        "name": m.name,
        "shortDescription": { "text": m.summary },
        "fullDescription": { "text": m.docs.what.trim() },
        "help": { "text": rule.documentation(), "markdown": rule.documentation() },
        "defaultConfiguration": {
            "level": if rule.max_applicability == crate::fix::Applicability::Suggestion { "note" } else { "warning" }
        },
        "properties": {
            "tags": ["performance", "django", "n+1"],
            "fixSafety": m.fix_safety,
        }
    })
}

fn result(r: &Report) -> Value {
    let d = r.diagnostic;
    let rule_index = registry()
        .rules
        .iter()
        .position(|rule| rule.meta.code == d.rule);
    let location = artifact_location(&r.path);
    let mut value = json!({
        "ruleId": d.rule,
        "level": match d.kind {
            crate::diagnostic::Kind::Finding => "warning",
            crate::diagnostic::Kind::Suggestion => "note",
        },
        "message": { "text": d.message },
        "locations": [{
            "physicalLocation": {
                "artifactLocation": location,
                "region": region(r.source, d.start, d.end),
            }
        }],
        "partialFingerprints": { "djopt/v1": fingerprint(r.source, d) },
    });
    if let Some(index) = rule_index {
        value["ruleIndex"] = json!(index);
    }
    if let Some(fix) = &d.fix {
        value["fixes"] = json!([sarif_fix(r, fix)]);
        value["properties"] = json!({ "fixApplicability": fix.applicability.as_str() });
    }
    if let Some(m) = &r.measured {
        if !value["properties"].is_object() {
            value["properties"] = json!({});
        }
        value["properties"]["measured"] = json!({
            "queries": m.queries,
            "saved": m.saved,
            "runs": m.records,
            "example": m.example,
        });
    }
    value
}

fn sarif_fix(r: &Report, fix: &Fix) -> Value {
    let replacements: Vec<Value> = fix
        .edits
        .iter()
        .map(|e: &Edit| {
            json!({
                "deletedRegion": region(r.source, e.start, e.end),
                "insertedContent": { "text": e.content },
            })
        })
        .collect();
    json!({
        "description": { "text": format!("{} ({})", fix.message, fix.applicability.as_str()) },
        "artifactChanges": [{
            "artifactLocation": artifact_location(&r.path),
            "replacements": replacements,
        }]
    })
}

/// 1-based lines and columns in code points (the run says `unicodeCodePoints`); an empty
/// range (an insertion point) has equal start and end columns.
fn region(source: &SourceFile, start: usize, end: usize) -> Value {
    let (start_line, start_column) = source.line_col(start);
    let (end_line, end_column) = source.line_col(end);
    json!({
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    })
}

fn artifact_location(path: &Path) -> Value {
    if path.is_absolute() {
        json!({ "uri": file_uri(path) })
    } else {
        json!({ "uri": encode(path), "uriBaseId": SRCROOT })
    }
}

fn notification(problem: &FileProblem) -> Value {
    json!({
        "level": if problem.fatal { "error" } else { "warning" },
        "message": { "text": problem.message },
        "locations": [{
            "physicalLocation": { "artifactLocation": artifact_location(&problem.path) }
        }]
    })
}

fn encode(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    utf8_percent_encode(&text, PATH_UNSAFE).to_string()
}

fn file_uri(path: &Path) -> String {
    let encoded = encode(path);
    if encoded.starts_with('/') {
        format!("file://{encoded}")
    } else {
        // A Windows drive path: file:///C:/...
        format!("file:///{encoded}")
    }
}

fn directory_uri(dir: &Path) -> String {
    let mut uri = file_uri(dir);
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_encoded_and_relative_to_srcroot() {
        let location = artifact_location(Path::new("my app/views#1.py"));
        assert_eq!(location["uri"], "my%20app/views%231.py");
        assert_eq!(location["uriBaseId"], SRCROOT);
        assert_eq!(
            directory_uri(Path::new("/srv/my app")),
            "file:///srv/my%20app/"
        );
    }
}
