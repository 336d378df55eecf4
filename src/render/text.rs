//! Text output in the style of modern linters: `path:line:col: CODE message` and a code frame.

use super::Report;
use crate::fix::Applicability;
use std::fmt::Write;

pub fn render(reports: &[Report], show_frames: bool) -> String {
    let mut out = String::new();
    for r in reports {
        let d = r.diagnostic;
        let (line, col) = r.source.line_col(d.start);
        let marker = match d.fix.as_ref().map(|f| f.applicability) {
            Some(Applicability::Safe) => " [*]",
            Some(Applicability::Unsafe) => " [-]",
            _ => "",
        };
        let _ = writeln!(
            out,
            "{}:{line}:{col}: {}{marker} {}",
            r.path.display(),
            d.rule,
            d.message
        );
        if show_frames {
            frame(&mut out, r, line, col);
        }
    }
    out
}

fn frame(out: &mut String, r: &Report, line: usize, col: usize) {
    let d = r.diagnostic;
    let (end_line, end_col) = r.source.line_col(d.end);
    let first = line.saturating_sub(1).max(1);
    let width = (line + 1).to_string().len();
    let _ = writeln!(out, "{:width$} |", "");
    for l in first..=line.min(r.source.line_count()) {
        let _ = writeln!(out, "{l:>width$} | {}", r.source.line_text(l));
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
        "{:width$} | {}{} {}",
        "",
        " ".repeat(col - 1),
        "^".repeat(carets),
        d.rule
    );
    if let Some(fix) = &d.fix {
        let _ = writeln!(
            out,
            "{:width$} = fix ({}): {}",
            "",
            fix.applicability.as_str(),
            fix.message
        );
    }
    out.push('\n');
}

/// The closing lines: counts, and how many `djopt fix` would fix.
pub fn summary(reports: &[Report], files_checked: usize, unsafe_fixes: bool) -> String {
    let total = reports.len();
    if total == 0 {
        return format!("All checks passed ({files_checked} files).\n");
    }
    let safe = reports
        .iter()
        .filter(|r| {
            r.diagnostic
                .fix
                .as_ref()
                .is_some_and(|f| f.applicability == Applicability::Safe)
        })
        .count();
    let unsafe_count = reports
        .iter()
        .filter(|r| {
            r.diagnostic
                .fix
                .as_ref()
                .is_some_and(|f| f.applicability == Applicability::Unsafe)
        })
        .count();
    let files = {
        let mut paths: Vec<_> = reports.iter().map(|r| &r.path).collect();
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
    out
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
