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
}
