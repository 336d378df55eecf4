//! `djopt fix` (write) and `djopt diff` (print what fix would write).

use crate::commands::args::FixArgs;
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
                let changed = fixed.fixed != fixed.source.text;
                if mode == Mode::Write && changed {
                    write_atomic(&fixed.source, &fixed.fixed)?;
                }
                // The texts are kept only for the diff of a changed file: holding every file's
                // text twice until the end doubled the peak memory of a large run.
                Ok(Outcome {
                    changed,
                    applied: if changed { fixed.applied.len() } else { 0 },
                    remaining: fixed.remaining.len(),
                    file: (mode == Mode::Diff && changed).then_some(fixed),
                })
            });
            progress.inc();
            result
        })
        .collect();
    progress.finish();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut problems = Vec::new();
    for result in results {
        match result {
            Ok(outcome) => outcomes.push(outcome),
            Err(p) if p.message == crate::interrupt::NOT_WRITTEN => {}
            Err(p) => problems.push(p),
        }
    }
    let changed = outcomes.iter().filter(|o| o.changed).count();
    let applied: usize = outcomes.iter().map(|o| o.applied).sum();
    let remaining: usize = outcomes.iter().map(|o| o.remaining).sum();
    let mut stdout = anstream::stdout().lock();
    if mode == Mode::Diff {
        for f in outcomes.iter().filter_map(|o| o.file.as_ref()) {
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
            changed,
            if changed == 1 { "" } else { "s" },
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
    let code = if fatal {
        ExitCode::from(2)
    } else if mode == Mode::Diff && changed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    super::leave(project);
    super::leave(outcomes);
    Ok(code)
}

/// What the summary needs of one fixed file.
struct Outcome {
    changed: bool,
    /// Fixes applied (in a changed file).
    applied: usize,
    /// Findings left.
    remaining: usize,
    /// The file's texts, for `diff` of a changed file only.
    file: Option<FixedFile>,
}
