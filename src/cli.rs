//! Arguments → one command.

use crate::commands;
use crate::commands::args::*;
use clap::{Parser, Subcommand, ValueEnum};
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
    /// Colors: auto follows the terminal and NO_COLOR
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: ColorWhen,
}

#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Report N+1 query patterns (exit 1 when there are findings)
    Check(CheckArgs),
    /// Print the unified diff `djopt fix` would apply; writes nothing (exit 1 when there is one)
    Diff(FixArgs),
    /// Apply the fixes (or choose them one by one with -i)
    Fix(FixCommandArgs),
    /// Print the models djopt learned from the project
    Models(ModelsArgs),
    /// Print a rule's documentation
    Rule(RuleArgs),
    /// In a git repository: a branch with the fixes, one commit per rule, and a PR description
    Pr(PrArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    set_colors(cli.color);
    let result = match cli.command {
        Command::Check(args) => commands::check::run(args),
        Command::Diff(args) => commands::fix::run(args, commands::fix::Mode::Diff),
        Command::Fix(args) if args.interactive => commands::interactive::run(args.fix),
        Command::Fix(args) => commands::fix::run(args.fix, commands::fix::Mode::Write),
        Command::Pr(args) => commands::pr::run(args),
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

/// `--color`: every stream djopt prints through (anstream, and console for the prompts)
/// follows it; `auto` leaves the choice to the terminal, `NO_COLOR` and `CLICOLOR_FORCE`.
fn set_colors(when: ColorWhen) {
    let choice = match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
    if when != ColorWhen::Auto {
        dialoguer::console::set_colors_enabled(when == ColorWhen::Always);
        dialoguer::console::set_colors_enabled_stderr(when == ColorWhen::Always);
    }
}
