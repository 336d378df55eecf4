//! A file that could not be read, checked or fixed: what every layer reports instead of
//! findings, and what the sinks show.

use std::path::PathBuf;

/// A file that could not be checked or fixed, and why.
#[derive(Debug, Clone)]
pub struct FileProblem {
    pub path: PathBuf,
    pub message: String,
    /// An I/O failure or a djopt bug (exit status 2), not just a file djopt cannot read as Python.
    pub fatal: bool,
}
