//! Fixes as data: byte-range edits with a safety level. Knows nothing of rules.

use serde::Serialize;
use std::collections::BTreeMap;

pub mod wrap;

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

    /// Can the fix be applied to `text` at all: every edit inside it, on character boundaries,
    /// and its own edits apart from each other? A fix that is not is a bug in its rule;
    /// `apply_fixes` leaves it out rather than cut a character in two.
    pub fn fits(&self, text: &str) -> bool {
        let inside = self.edits.iter().all(|e| {
            e.start <= e.end
                && e.end <= text.len()
                && text.is_char_boundary(e.start)
                && text.is_char_boundary(e.end)
        });
        inside
            && self
                .edits
                .iter()
                .enumerate()
                .all(|(i, a)| self.edits[i + 1..].iter().all(|b| !a.conflicts_with(b)))
    }
}

/// Choose a non-conflicting subset of `fixes` (in position order) and apply it.
/// Returns the new text and the indices of the fixes applied.
pub fn apply_fixes(text: &str, fixes: &[&Fix]) -> (String, Vec<usize>) {
    let mut order: Vec<usize> = (0..fixes.len()).collect();
    order.sort_by_key(|&i| (fixes[i].start(), i));
    // Accepted edits by start. They never overlap, counting an insertion as one byte wide, so
    // an edit conflicts with one of them only if it does with the last that starts before its
    // end: one look-up, not a scan (a file can have tens of thousands of fixes).
    let mut accepted: BTreeMap<usize, &Edit> = BTreeMap::new();
    let mut groups: Vec<&str> = Vec::new();
    let mut applied = Vec::new();
    for i in order {
        let fix = fixes[i];
        if fix.edits.is_empty() || !fix.fits(text) {
            continue;
        }
        if let Some(group) = &fix.group
            && groups.contains(&group.as_str())
        {
            continue;
        }
        let present = |e: &Edit| accepted.get(&e.start).is_some_and(|a| *a == e);
        if fix.edits.iter().all(present) {
            // The same edits again (two findings, one fix): counts once.
            applied.push(i);
            continue;
        }
        let conflict = fix.edits.iter().any(|e| {
            !present(e)
                && accepted
                    .range(..e.end.max(e.start + 1))
                    .next_back()
                    .is_some_and(|(_, a)| a.conflicts_with(e))
        });
        if conflict {
            continue;
        }
        for e in &fix.edits {
            accepted.insert(e.start, e);
        }
        if let Some(group) = &fix.group {
            groups.push(group);
        }
        applied.push(i);
    }
    let edits: Vec<&Edit> = accepted.into_values().collect();
    (apply_edits(text, &edits), applied)
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

/// Properties of edit application over arbitrary texts and fixes, valid or not.
#[cfg(test)]
mod properties {
    use super::*;
    use proptest::prelude::*;

    /// Text with multi-byte characters, so that offsets can fall inside one.
    fn text() -> impl Strategy<Value = String> {
        "[a-cé\u{1F600}\n\r ]{0,24}"
    }

    fn edit() -> impl Strategy<Value = Edit> {
        (0usize..40, 0usize..6, "[xyé\n]{0,3}").prop_map(|(start, len, content)| Edit {
            start,
            end: start + len,
            content,
        })
    }

    fn fixes() -> impl Strategy<Value = Vec<Fix>> {
        let fix = (
            prop::collection::vec(edit(), 0..3),
            prop::option::of(0u8..3),
        )
            .prop_map(|(edits, group)| {
                let fix = Fix::new(edits, Applicability::Safe, String::new());
                match group {
                    Some(g) => fix.with_group(format!("g{g}")),
                    None => fix,
                }
            });
        prop::collection::vec(fix, 0..6)
    }

    /// The edits of the fixes `apply_fixes` accepted, once each, in position order.
    fn accepted_edits<'f>(fixes: &'f [Fix], applied: &[usize]) -> Vec<&'f Edit> {
        let mut edits: Vec<&Edit> = applied.iter().flat_map(|&i| &fixes[i].edits).collect();
        edits.sort_by_key(|e| (e.start, e.end, e.content.clone()));
        edits.dedup();
        edits
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Never panics, applies only fixes that fit, and the accepted edits are sorted and do
        /// not overlap (identical edits count once).
        #[test]
        fn applied_edits_fit_and_do_not_overlap(text in text(), fixes in fixes()) {
            let refs: Vec<&Fix> = fixes.iter().collect();
            let (_, applied) = apply_fixes(&text, &refs);
            for &i in &applied {
                prop_assert!(fixes[i].fits(&text));
            }
            let edits = accepted_edits(&fixes, &applied);
            for pair in edits.windows(2) {
                prop_assert!(!pair[0].conflicts_with(pair[1]), "{:?} overlaps {:?}", pair[0], pair[1]);
                prop_assert!(pair[0].end <= pair[1].start);
            }
        }

        /// The result is the text with exactly the accepted edits, the rest kept byte for byte:
        /// applying them back to front, each on the text so far, gives the same.
        #[test]
        fn result_is_the_text_with_the_accepted_edits(text in text(), fixes in fixes()) {
            let refs: Vec<&Fix> = fixes.iter().collect();
            let (result, applied) = apply_fixes(&text, &refs);
            let mut expected = text.clone();
            for e in accepted_edits(&fixes, &applied).iter().rev() {
                expected.replace_range(e.start..e.end, &e.content);
            }
            prop_assert_eq!(result, expected);
        }

        /// One fix per group, and a fix left out had a reason: its group was taken, it does not
        /// fit, or it overlaps an accepted edit.
        #[test]
        fn only_conflicting_fixes_wait(text in text(), fixes in fixes()) {
            let refs: Vec<&Fix> = fixes.iter().collect();
            let (_, applied) = apply_fixes(&text, &refs);
            let groups: Vec<&String> = applied.iter().filter_map(|&i| fixes[i].group.as_ref()).collect();
            let mut unique = groups.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), groups.len(), "two fixes of one group in one pass");
            let edits = accepted_edits(&fixes, &applied);
            for (i, fix) in fixes.iter().enumerate() {
                if applied.contains(&i) || fix.edits.is_empty() {
                    continue;
                }
                let group_taken = fix.group.as_ref().is_some_and(|g| groups.contains(&g));
                let overlaps = fix.edits.iter().any(|e| edits.iter().any(|a| a.conflicts_with(e)));
                prop_assert!(group_taken || !fix.fits(&text) || overlaps, "fix {} left out for no reason", i);
            }
        }

        /// Two findings with the same fix count once: the fixes twice give the same text.
        #[test]
        fn duplicate_fixes_change_nothing(text in text(), fixes in fixes()) {
            let once: Vec<&Fix> = fixes.iter().collect();
            let twice: Vec<&Fix> = fixes.iter().chain(fixes.iter()).collect();
            prop_assert_eq!(apply_fixes(&text, &once).0, apply_fixes(&text, &twice).0);
        }
    }
}
