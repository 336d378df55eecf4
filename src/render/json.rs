//! JSON output: an array of findings with 1-based positions and their fix.

use super::Report;
use serde::Serialize;

#[derive(Serialize)]
struct JsonEdit {
    start_line: usize,
    start_column: usize,
    end_line: usize,
    end_column: usize,
    content: String,
}

#[derive(Serialize)]
struct JsonFix {
    applicability: &'static str,
    message: String,
    edits: Vec<JsonEdit>,
}

#[derive(Serialize)]
struct JsonFinding {
    rule: &'static str,
    /// "finding" (an N+1) or "suggestion" (an optimization to weigh).
    kind: &'static str,
    path: String,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    message: String,
    fix: Option<JsonFix>,
    /// What a run-time profile measured (`check --profile`).
    #[serde(skip_serializing_if = "Option::is_none")]
    measured: Option<JsonMeasured>,
}

#[derive(Serialize)]
struct JsonMeasured {
    queries: u64,
    saved: u64,
    runs: usize,
    example: String,
}

impl From<&crate::profile::Measured> for JsonMeasured {
    fn from(m: &crate::profile::Measured) -> JsonMeasured {
        JsonMeasured {
            queries: m.queries,
            saved: m.saved,
            runs: m.records,
            example: m.example.clone(),
        }
    }
}

pub fn render(reports: &[Report]) -> String {
    let here = std::path::Path::new("");
    render_profiled(reports, &[], here, here)
}

/// The findings, then a profile's N+1s that no finding explains (rule `PROFILE`, kind
/// `measured`, no fix), with paths relative to `cwd` when they are under it.
pub fn render_profiled(
    reports: &[Report],
    unexplained: &[&crate::profile::NPlusOne],
    root: &std::path::Path,
    cwd: &std::path::Path,
) -> String {
    let mut findings: Vec<JsonFinding> = reports
        .iter()
        .map(|r| {
            let d = r.diagnostic;
            let (line, column) = r.source.line_col(d.start);
            let (end_line, end_column) = r.source.line_col(d.end);
            JsonFinding {
                rule: d.rule,
                kind: d.kind.as_str(),
                path: r.path.to_string_lossy().into_owned(),
                line,
                column,
                end_line,
                end_column,
                message: d.message.clone(),
                fix: d.fix.as_ref().map(|f| JsonFix {
                    applicability: f.applicability.as_str(),
                    message: f.message.clone(),
                    edits: f
                        .edits
                        .iter()
                        .map(|e| {
                            let (start_line, start_column) = r.source.line_col(e.start);
                            let (end_line, end_column) = r.source.line_col(e.end);
                            JsonEdit {
                                start_line,
                                start_column,
                                end_line,
                                end_column,
                                content: e.content.clone(),
                            }
                        })
                        .collect(),
                }),
                measured: r.measured.as_ref().map(JsonMeasured::from),
            }
        })
        .collect();
    for g in unexplained {
        findings.push(JsonFinding {
            rule: "PROFILE",
            kind: "measured",
            path: super::text::display_path(&root.join(&g.path), cwd),
            line: g.line,
            column: 1,
            end_line: g.line,
            end_column: 1,
            message: super::text::unexplained_message(g),
            fix: None,
            measured: Some(JsonMeasured {
                queries: g.queries(),
                saved: g.saved(),
                runs: g.records.len(),
                example: g.records[0].0.clone(),
            }),
        });
    }
    let mut out = serde_json::to_string_pretty(&findings).expect("findings serialize");
    out.push('\n');
    out
}
