//! `djopt check`: findings, exit 1 when there are any.

use crate::cli::{CheckArgs, Format};
use crate::project::{CheckedFile, Project};
use crate::render::{self, Report};
use anyhow::Result;
use rayon::prelude::*;
use std::io::Write;
use std::process::ExitCode;

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let project = Project::load(&args.common.paths, &super::overrides(&args.common))?;
    let results: Vec<_> = project
        .targets
        .par_iter()
        .map(|path| project.check_file(path))
        .collect();
    let mut checked: Vec<(std::path::PathBuf, CheckedFile)> = Vec::new();
    let mut problems = Vec::new();
    for result in results {
        match result {
            Ok(file) => checked.push((file.source.path.clone(), file)),
            Err(p) => problems.push(p),
        }
    }
    let reports: Vec<Report> = checked
        .iter()
        .flat_map(|(path, file)| {
            file.diagnostics.iter().map(move |d| Report {
                path: path.clone(),
                source: &file.source,
                diagnostic: d,
            })
        })
        .collect();
    let mut stdout = std::io::stdout().lock();
    match args.format {
        Format::Json => write!(stdout, "{}", render::json::render(&reports))?,
        Format::Text => {
            write!(
                stdout,
                "{}",
                render::text::render(&reports, !args.common.quiet)
            )?;
            if !args.common.quiet {
                write!(
                    stdout,
                    "{}",
                    render::text::summary(
                        &reports,
                        project.targets.len(),
                        project.settings.unsafe_fixes
                    )
                )?;
            }
        }
    }
    stdout.flush()?;
    let fatal = super::print_problems(&problems);
    Ok(if fatal {
        ExitCode::from(2)
    } else if reports.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
