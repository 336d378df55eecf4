//! `djopt fix` (write) and `djopt diff` (print what fix would write).

use crate::cli::FixArgs;
use crate::fix::Applicability;
use crate::project::{FixedFile, Project, write_atomic};
use crate::render;
use crate::render::progress::Progress;
use anyhow::Result;
use rayon::prelude::*;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Diff,
    Write,
}

pub fn run(args: FixArgs, mode: Mode) -> Result<ExitCode> {
    let started = Instant::now();
    let project = Project::load(&args.common.paths, &super::overrides(&args.common))?;
    let level = if project.settings.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let progress = Progress::new(project.targets.len(), args.common.quiet);
    progress.message("Fixing");
    // A signal now stops djopt between two writes (see `interrupt`).
    let _deferred = (mode == Mode::Write).then(crate::interrupt::defer);
    let results: Vec<_> = project
        .targets
        .par_iter()
        .filter(|_| !crate::interrupt::interrupted())
        .map(|path| {
            let result = project.fix_file(path, level).and_then(|fixed| {
                if mode == Mode::Write && fixed.fixed != fixed.source.text {
                    write_atomic(&fixed.source, &fixed.fixed)?;
                }
                Ok(fixed)
            });
            progress.inc();
            result
        })
        .collect();
    progress.finish();
    let mut files: Vec<FixedFile> = Vec::new();
    let mut problems = Vec::new();
    for result in results {
        match result {
            Ok(file) => files.push(file),
            Err(p) if p.message == crate::interrupt::NOT_WRITTEN => {}
            Err(p) => problems.push(p),
        }
    }
    let changed: Vec<&FixedFile> = files.iter().filter(|f| f.fixed != f.source.text).collect();
    let applied: usize = changed.iter().map(|f| f.applied.len()).sum();
    let remaining: usize = files.iter().map(|f| f.remaining.len()).sum();
    let mut stdout = anstream::stdout().lock();
    if mode == Mode::Diff {
        for f in &changed {
            let path = f.source.path.strip_prefix(".").unwrap_or(&f.source.path);
            let diff = render::diff::unified(path, &f.source.text, &f.fixed);
            write!(stdout, "{}", render::diff::colorize(&diff))?;
        }
    }
    stdout.flush()?;
    if !args.common.quiet {
        let verb = if mode == Mode::Diff {
            "Would fix"
        } else {
            "Fixed"
        };
        eprintln!(
            "{verb} {applied} finding{} in {} file{}; {remaining} left without an automatic fix{} ({}).",
            if applied == 1 { "" } else { "s" },
            changed.len(),
            if changed.len() == 1 { "" } else { "s" },
            if project.settings.unsafe_fixes {
                ""
            } else {
                " (some may need --unsafe-fixes)"
            },
            render::style::duration(started.elapsed())
        );
    }
    let fatal = super::print_problems(&problems);
    if let Some(status) = crate::interrupt::exit_status() {
        eprintln!(
            "djopt: interrupted: every file is either as it was or wholly fixed; run `djopt fix` again to finish."
        );
        return Ok(ExitCode::from(status));
    }
    Ok(if fatal {
        ExitCode::from(2)
    } else if mode == Mode::Diff && !changed.is_empty() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
