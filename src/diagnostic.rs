//! A finding: where, which rule, what, and maybe a fix.

use crate::fix::Fix;

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub rule: &'static str,
    pub message: String,
    /// Byte range of the code that causes the queries.
    pub start: usize,
    pub end: usize,
    /// Other byte offsets whose line may carry a suppression comment (the loop header).
    pub also_suppressed_at: Vec<usize>,
    pub fix: Option<Fix>,
    /// An N+1 finding, or a suggestion (an optimization to weigh: not an N+1, not counted as
    /// a finding, and failing `check` only when its rule is selected by its code).
    pub kind: Kind,
}

/// What a diagnostic is: a query cost that grows with rows, or an optimization to weigh.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Kind {
    #[default]
    Finding,
    Suggestion,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Finding => "finding",
            Kind::Suggestion => "suggestion",
        }
    }
}
