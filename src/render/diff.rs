//! Unified diffs with `a/` and `b/` headers.

use super::style::{self, paint};
use similar::TextDiff;
use std::path::Path;

pub fn unified(path: &Path, old: &str, new: &str) -> String {
    let name = path.to_string_lossy().replace('\\', "/");
    TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{name}"), &format!("b/{name}"))
        .to_string()
}

/// A unified diff with git's colors: headers bold, hunks cyan, removals red, additions green.
pub fn colorize(diff: &str) -> String {
    let mut out = String::with_capacity(diff.len() + diff.len() / 4);
    for line in diff.split_inclusive('\n') {
        let (body, end) = match line.strip_suffix('\n') {
            Some(body) => (body, "\n"),
            None => (line, ""),
        };
        let styled = if body.starts_with("---") || body.starts_with("+++") {
            paint(true, style::EMPHASIS, body)
        } else if body.starts_with("@@") {
            paint(true, style::HUNK, body)
        } else if body.starts_with('-') {
            paint(true, style::REMOVED, body)
        } else if body.starts_with('+') {
            paint(true, style::ADDED, body)
        } else {
            body.to_string()
        };
        out.push_str(&styled);
        out.push_str(end);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colorize_only_adds_escapes() {
        let diff = unified(Path::new("a.py"), "x = 1\ny = 2\n", "x = 1\ny = 3\n");
        let colored = colorize(&diff);
        assert_ne!(colored, diff);
        assert!(colored.contains("\u{1b}[32m+y = 3"));
        assert_eq!(style::strip(&colored), diff);
    }
}
