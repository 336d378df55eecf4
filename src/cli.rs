//! Arguments → one command.

use crate::commands;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "djopt",
    version,
    about = "Finds and fixes N+1 queries in Django projects, without running them",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report N+1 query patterns (exit 1 when there are findings)
    Check(CheckArgs),
    /// Print the unified diff `djopt fix` would apply; writes nothing (exit 1 when there is one)
    Diff(FixArgs),
    /// Apply the fixes
    Fix(FixArgs),
    /// Print the models djopt learned from the project
    Models(ModelsArgs),
    /// Print a rule's documentation
    Rule(RuleArgs),
}

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
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Output format
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Args, Debug)]
pub struct FixArgs {
    #[command(flatten)]
    pub common: CommonArgs,
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

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Diff(args) => commands::fix::run(args, commands::fix::Mode::Diff),
        Command::Fix(args) => commands::fix::run(args, commands::fix::Mode::Write),
        Command::Models(args) => commands::models::run(args),
        Command::Rule(args) => commands::rule::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("djopt: error: {error:#}");
            ExitCode::from(2)
        }
    }
}
