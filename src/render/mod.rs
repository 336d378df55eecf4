//! Everything djopt prints goes through here.

pub mod diff;
pub mod github;
pub mod json;
pub mod progress;
pub mod sarif;
pub mod style;
pub mod text;

use crate::diagnostic::Diagnostic;
use crate::source::SourceFile;
use std::path::PathBuf;

/// A finding with what the printers need: the file it is in and its display path.
pub struct Report<'a> {
    pub path: PathBuf,
    pub source: &'a SourceFile,
    pub diagnostic: &'a Diagnostic,
    /// What a run-time profile measured for it (`check --profile`).
    pub measured: Option<crate::profile::Measured>,
}
