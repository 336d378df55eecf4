//! Text output in the style of modern linters: `path:line:col: CODE message` and a code frame.

use super::Report;
use super::style::{self, paint};
use crate::diagnostic::Kind;
use crate::fix::Applicability;
use std::fmt::Write;

/// Findings as plain text (what tests and pipes see).
pub fn render(reports: &[Report], show_frames: bool) -> String {
    render_with(reports, show_frames, false)
}

/// Findings with colors, for a stream that drops them when colors are off.
pub fn render_styled(reports: &[Report], show_frames: bool) -> String {
    render_with(reports, show_frames, true)
}

fn render_with(reports: &[Report], show_frames: bool, color: bool) -> String {
    let mut out = String::new();
    for r in reports {
        let d = r.diagnostic;
        let (line, col) = r.source.line_col(d.start);
        let marker = match d.fix.as_ref().map(|f| f.applicability) {
            Some(Applicability::Safe) => format!(" {}", paint(color, style::SAFE, "[*]")),
            Some(Applicability::Unsafe) => format!(" {}", paint(color, style::UNSAFE, "[-]")),
            _ => String::new(),
        };
        let kind = match d.kind {
            Kind::Finding => String::new(),
            Kind::Suggestion => format!(" {}", paint(color, style::DIM, "(suggestion)")),
        };
        let measured = match &r.measured {
            Some(m) => format!(" [{}]", crate::profile::describe(m)),
            None => String::new(),
        };
        let _ = writeln!(
            out,
            "{}:{line}:{col}: {}{kind}{marker} {}{measured}",
            paint(color, style::PATH, r.path.display()),
            paint(color, style::CODE, d.rule),
            d.message
        );
        if show_frames {
            frame(&mut out, r, line, col, color);
        }
    }
    out
}

fn frame(out: &mut String, r: &Report, line: usize, col: usize, color: bool) {
    let d = r.diagnostic;
    let (end_line, end_col) = r.source.line_col(d.end);
    let first = line.saturating_sub(1).max(1);
    let width = (line + 1).to_string().len();
    let bar = paint(color, style::GUTTER, "|");
    let _ = writeln!(out, "{:width$} {bar}", "");
    for l in first..=line.min(r.source.line_count()) {
        let number = paint(color, style::GUTTER, format!("{l:>width$}"));
        let _ = writeln!(out, "{number} {bar} {}", r.source.line_text(l));
    }
    let text = r.source.line_text(line);
    let line_chars = text.chars().count();
    let span_end = if end_line == line {
        end_col
    } else {
        line_chars + 1
    };
    let carets = span_end.saturating_sub(col).max(1);
    let _ = writeln!(
        out,
        "{:width$} {bar} {}{}",
        "",
        " ".repeat(col - 1),
        paint(
            color,
            style::CARET,
            format!("{} {}", "^".repeat(carets), d.rule)
        ),
    );
    if let Some(fix) = &d.fix {
        let level = match fix.applicability {
            Applicability::Safe => style::SAFE,
            Applicability::Unsafe => style::UNSAFE,
            Applicability::Suggestion => style::DIM,
        };
        let _ = writeln!(
            out,
            "{:width$} {} fix ({}): {}",
            "",
            paint(color, style::GUTTER, "="),
            paint(color, level, fix.applicability.as_str()),
            fix.message
        );
    }
    out.push('\n');
}

/// A profile's N+1s that no static finding explains, one line each.
pub fn unexplained(
    groups: &[&crate::profile::NPlusOne],
    root: &std::path::Path,
    cwd: &std::path::Path,
) -> String {
    let mut out = String::new();
    for g in groups {
        let _ = writeln!(
            out,
            "{}:{}:1: PROFILE {}",
            display_path(&root.join(&g.path), cwd),
            g.line,
            unexplained_message(g)
        );
    }
    out
}

/// The message of a profile N+1 that no finding explains.
pub fn unexplained_message(g: &crate::profile::NPlusOne) -> String {
    let sql: String = g.sql.chars().take(80).collect();
    let cut = if g.sql.chars().count() > 80 {
        "..."
    } else {
        ""
    };
    let runs = g.records.len();
    format!(
        "a run-time N+1 no rule explains: {} queries of `{sql}{cut}` from `{}` in {runs} run{} ({}); djopt found no queryset to fix here",
        g.queries(),
        g.function,
        if runs == 1 { "" } else { "s" },
        g.records[0].0
    )
}

/// `path` relative to `cwd` when it is under it.
pub fn display_path(path: &std::path::Path, cwd: &std::path::Path) -> String {
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    path.strip_prefix(&cwd)
        .unwrap_or(&path)
        .to_string_lossy()
        .into_owned()
}

/// The closing lines: counts, and how many `djopt fix` would fix.
pub fn summary(reports: &[Report], files_checked: usize, unsafe_fixes: bool) -> String {
    let suggestions = reports
        .iter()
        .filter(|r| r.diagnostic.kind == Kind::Suggestion)
        .count();
    let suggested = if suggestions > 0 {
        format!(
            "{suggestions} suggestion{} to weigh (optimizations, not N+1 queries: `check` fails on them only when `--select` names their rule).\n",
            plural(suggestions)
        )
    } else {
        String::new()
    };
    let total = reports.len() - suggestions;
    if total == 0 {
        return format!("All checks passed ({files_checked} files).\n{suggested}");
    }
    let (safe, unsafe_count) = fixable_counts(reports);
    let files = {
        let mut paths: Vec<_> = reports
            .iter()
            .filter(|r| r.diagnostic.kind == Kind::Finding)
            .map(|r| &r.path)
            .collect();
        paths.sort();
        paths.dedup();
        paths.len()
    };
    let mut out = format!(
        "Found {total} finding{} in {files} file{} ({files_checked} checked).\n",
        plural(total),
        plural(files)
    );
    let fixable = if unsafe_fixes {
        safe + unsafe_count
    } else {
        safe
    };
    if fixable > 0 {
        let _ = writeln!(out, "[*] {fixable} fixable with `djopt fix`.");
    }
    if !unsafe_fixes && unsafe_count > 0 {
        let _ = writeln!(
            out,
            "[-] {unsafe_count} more fixable with `djopt fix --unsafe-fixes` (review them)."
        );
    }
    out.push_str(&suggested);
    out
}

/// `summary` with how long the run took on its first line ("… (6 checked) in 0.04s.").
pub fn summary_timed(
    reports: &[Report],
    files_checked: usize,
    unsafe_fixes: bool,
    elapsed: std::time::Duration,
) -> String {
    let text = summary(reports, files_checked, unsafe_fixes);
    let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
    let first = first.strip_suffix('.').unwrap_or(first);
    format!("{first} in {}.\n{rest}", style::duration(elapsed))
}

/// Findings per rule, most frequent first (`check --statistics`).
pub struct RuleCount {
    pub code: &'static str,
    pub name: String,
    pub count: usize,
    pub safe_fixes: usize,
    pub unsafe_fixes: usize,
    /// How many of `count` are suggestions rather than N+1 findings.
    pub suggestions: usize,
}

pub fn rule_counts(reports: &[Report]) -> Vec<RuleCount> {
    let mut counts: Vec<RuleCount> = Vec::new();
    for r in reports {
        let d = r.diagnostic;
        let i = match counts.iter().position(|c| c.code == d.rule) {
            Some(i) => i,
            None => {
                let name = crate::rules::registry()
                    .by_code(d.rule)
                    .map(|rule| rule.meta.name.clone())
                    .unwrap_or_default();
                counts.push(RuleCount {
                    code: d.rule,
                    name,
                    count: 0,
                    safe_fixes: 0,
                    unsafe_fixes: 0,
                    suggestions: 0,
                });
                counts.len() - 1
            }
        };
        let c = &mut counts[i];
        c.count += 1;
        if d.kind == Kind::Suggestion {
            c.suggestions += 1;
        }
        match d.fix.as_ref().map(|f| f.applicability) {
            Some(Applicability::Safe) => c.safe_fixes += 1,
            Some(Applicability::Unsafe) => c.unsafe_fixes += 1,
            _ => {}
        }
    }
    counts.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(b.code)));
    counts
}

/// The statistics table: count, code, `[*]` when `djopt fix` fixes some of them, name.
pub fn statistics(reports: &[Report], unsafe_fixes: bool) -> String {
    let mut out = String::new();
    for c in rule_counts(reports) {
        let fixable = c.safe_fixes > 0 || (unsafe_fixes && c.unsafe_fixes > 0);
        let marker = if fixable { "[*]" } else { "   " };
        let kind = match c.suggestions {
            0 => String::new(),
            n if n == c.count => " (suggestions)".to_string(),
            n => format!(" ({n} of them suggestions)"),
        };
        let _ = writeln!(
            out,
            "{:>5}  {:<7} {marker} {}{kind}",
            c.count, c.code, c.name
        );
    }
    out
}

/// (safe, unsafe) fixes among the findings.
fn fixable_counts(reports: &[Report]) -> (usize, usize) {
    let count = |level: Applicability| {
        reports
            .iter()
            .filter(|r| {
                r.diagnostic
                    .fix
                    .as_ref()
                    .is_some_and(|f| f.applicability == level)
            })
            .count()
    };
    (count(Applicability::Safe), count(Applicability::Unsafe))
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
