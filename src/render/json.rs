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
}

pub fn render(reports: &[Report]) -> String {
    let findings: Vec<JsonFinding> = reports
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
            }
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&findings).expect("findings serialize");
    out.push('\n');
    out
}
