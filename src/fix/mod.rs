//! Fixes as data: byte-range edits with a safety level. Knows nothing of rules.

use serde::Serialize;

/// How sure we are that a fix keeps the program's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Needs human judgement; never applied.
    Suggestion,
    /// Valid code that may change behaviour at the edges; applied with `--unsafe-fixes`.
    Unsafe,
    /// Same rows, same objects, same exceptions; only the number of queries changes.
    Safe,
}

impl Applicability {
    pub fn as_str(self) -> &'static str {
        match self {
            Applicability::Suggestion => "suggestion",
            Applicability::Unsafe => "unsafe",
            Applicability::Safe => "safe",
        }
    }
}

/// Replace `start..end` (byte offsets into the BOM-less text) with `content`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub content: String,
}

impl Edit {
    pub fn insertion(at: usize, content: impl Into<String>) -> Edit {
        Edit {
            start: at,
            end: at,
            content: content.into(),
        }
    }

    pub fn replacement(start: usize, end: usize, content: impl Into<String>) -> Edit {
        Edit {
            start,
            end,
            content: content.into(),
        }
    }

    /// Two edits conflict when their ranges overlap, or both insert at one offset.
    fn conflicts_with(&self, other: &Edit) -> bool {
        if self == other {
            return false;
        }
        if self.start == self.end && other.start == other.end {
            return self.start == other.start;
        }
        self.start < other.end.max(other.start + 1) && other.start < self.end.max(self.start + 1)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fix {
    pub edits: Vec<Edit>,
    pub applicability: Applicability,
    /// What the fix does, in a few words ("Add `select_related(\"author\")`").
    pub message: String,
    /// Fixes of one group touch the same code: at most one per pass.
    pub group: Option<String>,
}

impl Fix {
    pub fn new(edits: Vec<Edit>, applicability: Applicability, message: String) -> Fix {
        let mut edits = edits;
        edits.sort();
        Fix {
            edits,
            applicability,
            message,
            group: None,
        }
    }

    pub fn with_group(mut self, group: String) -> Fix {
        self.group = Some(group);
        self
    }

    pub fn start(&self) -> usize {
        self.edits.first().map_or(0, |e| e.start)
    }
}

/// Choose a non-conflicting subset of `fixes` (in position order) and apply it.
/// Returns the new text and the indices of the fixes applied.
pub fn apply_fixes(text: &str, fixes: &[&Fix]) -> (String, Vec<usize>) {
    let mut order: Vec<usize> = (0..fixes.len()).collect();
    order.sort_by_key(|&i| (fixes[i].start(), i));
    let mut accepted: Vec<&Edit> = Vec::new();
    let mut groups: Vec<&str> = Vec::new();
    let mut applied = Vec::new();
    for i in order {
        let fix = fixes[i];
        if fix.edits.is_empty() {
            continue;
        }
        if let Some(group) = &fix.group
            && groups.contains(&group.as_str())
        {
            continue;
        }
        let all_present = fix.edits.iter().all(|e| accepted.contains(&e));
        if all_present {
            // The same edits again (two findings, one fix): counts once.
            applied.push(i);
            continue;
        }
        let conflict = fix
            .edits
            .iter()
            .any(|e| accepted.iter().any(|a| a.conflicts_with(e)));
        if conflict {
            continue;
        }
        for e in &fix.edits {
            if !accepted.contains(&e) {
                accepted.push(e);
            }
        }
        if let Some(group) = &fix.group {
            groups.push(group);
        }
        applied.push(i);
    }
    accepted.sort_by_key(|e| (e.start, e.end));
    (apply_edits(text, &accepted), applied)
}

/// Apply sorted, non-overlapping edits.
pub fn apply_edits(text: &str, edits: &[&Edit]) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut last = 0;
    for e in edits {
        debug_assert!(e.start >= last, "edits overlap or are unsorted");
        out.push_str(&text[last..e.start]);
        out.push_str(&e.content);
        last = e.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(edits: Vec<Edit>) -> Fix {
        Fix::new(edits, Applicability::Safe, String::new())
    }

    #[test]
    fn applies_in_order_and_skips_overlaps() {
        let a = fix(vec![Edit::replacement(0, 1, "X")]);
        let b = fix(vec![Edit::replacement(0, 2, "Y")]);
        let c = fix(vec![Edit::insertion(3, "!")]);
        let (text, applied) = apply_fixes("abcd", &[&b, &c, &a]);
        assert_eq!(text, "Yc!d");
        assert_eq!(applied, vec![0, 1]);
    }

    #[test]
    fn identical_edits_count_once() {
        let a = fix(vec![Edit::insertion(1, "+")]);
        let b = fix(vec![Edit::insertion(1, "+")]);
        let (text, applied) = apply_fixes("ab", &[&a, &b]);
        assert_eq!(text, "a+b");
        assert_eq!(applied, vec![0, 1]);
    }

    #[test]
    fn two_insertions_at_one_offset_wait() {
        let a = fix(vec![Edit::insertion(1, "+")]);
        let b = fix(vec![Edit::insertion(1, "-")]);
        let (text, applied) = apply_fixes("ab", &[&a, &b]);
        assert_eq!(text, "a+b");
        assert_eq!(applied, vec![0]);
    }

    #[test]
    fn one_fix_per_group_per_pass() {
        let a = fix(vec![Edit::insertion(0, "1")]).with_group("g".into());
        let b = fix(vec![Edit::insertion(2, "2")]).with_group("g".into());
        let (text, applied) = apply_fixes("ab", &[&a, &b]);
        assert_eq!(text, "1ab");
        assert_eq!(applied, vec![0]);
    }
}
