//! The words the rules' findings share.

/// An expression's text on one line, shortened to `max` characters with `...`; the pieces
/// between white space are joined with `joiner` (`""` for code, `" "` for prose).
pub fn compact(text: &str, max: usize, joiner: &str) -> String {
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(joiner);
    if collapsed.chars().count() > max {
        let cut: String = collapsed.chars().take(max - 3).collect();
        format!("{cut}...")
    } else {
        collapsed
    }
}

/// The tail of a finding that has no fix: ` (no automatic fix: why)`.
pub fn no_fix(reason: &str) -> String {
    format!(" (no automatic fix: {reason})")
}

/// The tail of a finding whose fix is unsafe: ` (unsafe fix: why)`.
pub fn unsafe_fix(reason: &str) -> String {
    format!(" (unsafe fix: {reason})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_keeps_short_text_and_cuts_long_text() {
        assert_eq!(compact("a.b(\n    c)", 60, ""), "a.b(c)");
        assert_eq!(compact("x  y\tz", 60, " "), "x y z");
        let long = "a".repeat(80);
        let cut = compact(&long, 60, "");
        assert_eq!(cut.chars().count(), 60);
        assert!(cut.ends_with("..."));
    }
}
