//! The arguments of each command, as clap reads them (`cli` parses, `commands` run).

use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Files or folders to check (default: the current folder)
    pub paths: Vec<PathBuf>,
    /// Only these rules (codes or prefixes, comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "CODE")]
    pub select: Option<Vec<String>>,
    /// Skip these rules (codes or prefixes, comma-separated)
    #[arg(long, value_delimiter = ',', value_name = "CODE")]
    pub ignore: Vec<String>,
    /// Skip paths matching these globs (added to the configuration's)
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Also apply (or count) fixes that may change behaviour at the edges
    #[arg(long)]
    pub unsafe_fixes: bool,
    /// Print only the findings or the diff, no summary
    #[arg(long, short)]
    pub quiet: bool,
    /// Neither read nor write the cache of results (`.djopt_cache/` in the project root)
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
    /// SARIF 2.1.0, for code scanning
    Sarif,
    /// GitHub Actions annotations
    Github,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Print the number of findings per rule instead of the findings (text or json)
    #[arg(long)]
    pub statistics: bool,
    /// Exit 0 even when there are findings (errors still exit 2)
    #[arg(long)]
    pub exit_zero: bool,
    /// Report only findings that are not in this baseline file
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Write every current finding to this baseline file and exit 0
    #[arg(long, value_name = "FILE", conflicts_with_all = ["baseline", "statistics"])]
    pub write_baseline: Option<PathBuf>,
    /// A run-time profile (djopt.profile, docs/profile.md): findings it confirms get the
    /// measured queries and come first; its N+1s that no finding explains are reported too
    #[arg(long, value_name = "FILE", conflicts_with_all = ["write_baseline", "statistics"])]
    pub profile: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FixArgs {
    #[command(flatten)]
    pub common: CommonArgs,
}

#[derive(Args, Debug)]
pub struct FixCommandArgs {
    #[command(flatten)]
    pub fix: FixArgs,
    /// Show each fix and ask: y yes, n no, a all in this file, d skip this file, s suppress, q quit
    #[arg(long, short)]
    pub interactive: bool,
}

#[derive(Args, Debug)]
pub struct PrArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Branch to create (default: djopt/fixes-<short hash of HEAD>)
    #[arg(long)]
    pub branch: Option<String>,
    /// Write the pull request description here (default: stdout)
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,
    /// Push the branch to this remote
    #[arg(long, value_name = "REMOTE")]
    pub push: Option<String>,
    /// Open the pull request with the GitHub CLI `gh` (needs --push)
    #[arg(long, requires = "push")]
    pub open: bool,
}

#[derive(Args, Debug)]
pub struct ModelsArgs {
    /// Project folder (default: the current folder)
    pub path: Option<PathBuf>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RuleArgs {
    /// Rule code, e.g. ORM101
    pub code: Option<String>,
    /// Every rule
    #[arg(long)]
    pub all: bool,
    /// Print the rule table in Markdown (as in the README)
    #[arg(long, conflicts_with_all = ["code", "all"])]
    pub table: bool,
}
