//! A baseline: the findings a team accepts for now, so `check --baseline FILE` reports only new
//! ones. A finding is keyed by its rule, its file (relative to the project root) and a
//! fingerprint of its code, not by its line: edits elsewhere in the file keep it matched.

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// The format's version, written into the file; a file of another version is refused.
const VERSION: u32 = 1;

#[derive(Serialize, Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    #[serde(rename = "djopt-baseline")]
    pub version: u32,
    pub findings: Vec<Entry>,
}

#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule: String,
    /// Relative to the project root, with `/`.
    pub path: String,
    pub fingerprint: String,
    /// The code the finding points at, for the humans reading the file (not part of the key).
    #[serde(default)]
    pub code: String,
}

impl Entry {
    pub fn new(relative: &Path, source: &SourceFile, d: &Diagnostic) -> Entry {
        Entry {
            rule: d.rule.to_string(),
            path: relative.to_string_lossy().replace('\\', "/"),
            fingerprint: fingerprint(source, d),
            code: collapse_whitespace(&source.text[d.start..d.end]),
        }
    }

    fn key(&self) -> (String, String, String) {
        (
            self.rule.clone(),
            self.path.clone(),
            self.fingerprint.clone(),
        )
    }
}

/// A fingerprint of a finding that survives edits elsewhere in its file: the rule, the code it
/// points at and the whole line it starts on, whitespace-insensitive; 16 hex digits of SHA-256.
pub fn fingerprint(source: &SourceFile, d: &Diagnostic) -> String {
    let (line, _) = source.line_col(d.start);
    let mut hasher = Sha256::new();
    hasher.update(d.rule.as_bytes());
    hasher.update([0]);
    hasher.update(collapse_whitespace(source.line_text(line)).as_bytes());
    hasher.update([0]);
    hasher.update(collapse_whitespace(&source.text[d.start..d.end]).as_bytes());
    let digest = hasher.finalize();
    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Baseline {
    pub fn new(mut findings: Vec<Entry>) -> Baseline {
        findings.sort();
        Baseline {
            version: VERSION,
            findings,
        }
    }

    pub fn read(path: &Path) -> Result<Baseline> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!(
                "cannot read the baseline {}; create it with `djopt check --write-baseline {}`",
                path.display(),
                path.display()
            )
        })?;
        let baseline: Baseline = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a djopt baseline; write it again with `djopt check --write-baseline {}`",
                path.display(),
                path.display()
            )
        })?;
        if baseline.version != VERSION {
            bail!(
                "{} is a baseline of version {} (this djopt reads version {VERSION}); write it again with `djopt check --write-baseline {}`",
                path.display(),
                baseline.version,
                path.display()
            );
        }
        Ok(baseline)
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(path, text)
            .with_context(|| format!("cannot write the baseline {}", path.display()))
    }

    /// A matcher that hands out each baseline entry once.
    pub fn matcher(&self) -> Matcher {
        let mut left: HashMap<(String, String, String), usize> = HashMap::new();
        for entry in &self.findings {
            *left.entry(entry.key()).or_default() += 1;
        }
        Matcher { left }
    }
}

pub struct Matcher {
    left: HashMap<(String, String, String), usize>,
}

impl Matcher {
    /// True when the finding is in the baseline (and uses up one of its entries).
    pub fn take(&mut self, entry: &Entry) -> bool {
        match self.left.get_mut(&entry.key()) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        }
    }

    /// Entries no finding matched: fixed since the baseline was written.
    pub fn unmatched(&self) -> usize {
        self.left.values().sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(text: &str, needle: &str) -> (SourceFile, Diagnostic) {
        let source = SourceFile::new("a.py".into(), text.to_string(), false, vec![]);
        let start = text.find(needle).unwrap();
        let d = Diagnostic {
            kind: crate::diagnostic::Kind::Finding,
            rule: "ORM101",
            message: String::new(),
            start,
            end: start + needle.len(),
            also_suppressed_at: vec![],
            fix: None,
        };
        (source, d)
    }

    #[test]
    fn fingerprint_ignores_lines_above_and_indentation() {
        let (a, da) = finding("for b in qs:\n    print(b.author)\n", "b.author");
        let (b, db) = finding(
            "import x\n\n\nfor b in qs:\n        print(b.author)\n",
            "b.author",
        );
        assert_eq!(fingerprint(&a, &da), fingerprint(&b, &db));
        let (c, dc) = finding("for b in qs:\n    print(b.author.name)\n", "b.author");
        assert_ne!(fingerprint(&a, &da), fingerprint(&c, &dc));
    }

    #[test]
    fn matcher_hands_out_each_entry_once() {
        let (s, d) = finding("for b in qs:\n    print(b.author)\n", "b.author");
        let entry = Entry::new(Path::new("a.py"), &s, &d);
        let baseline = Baseline::new(vec![entry.clone()]);
        let mut matcher = baseline.matcher();
        assert!(matcher.take(&entry));
        assert!(!matcher.take(&entry));
        assert_eq!(matcher.unmatched(), 0);
    }
}
