//! djopt: finds and fixes Django N+1 queries statically.
//!
//! Data flow: walk → parse → phase 1 (project index) → phase 2 (per-file analysis) → rules →
//! diagnostics with fixes → a sink (check, diff, fix).

pub mod alloc;
pub mod analysis;
pub mod baseline;
pub mod cache;
pub mod cli;
pub mod commands;
pub mod crash;
pub mod diagnostic;
pub mod django;
pub mod fix;
pub mod git;
pub mod index;
pub mod interrupt;
pub mod invariants;
pub mod phase1;
pub mod prefilter;
pub mod problem;
pub mod profile;
pub mod project;
pub mod render;
pub mod rules;
pub mod settings;
pub mod source;
pub mod suppression;
pub mod syntax;
pub mod text;
pub mod timings;
pub mod walk;
pub mod write;
