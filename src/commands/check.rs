//! `djopt check`: findings, exit 1 when there are any (unless `--exit-zero`); suggestions only
//! when their rule is selected by its code.

use crate::baseline::{Baseline, Entry};
use crate::commands::args::{CheckArgs, Format};
use crate::diagnostic::Kind;
use crate::problem::FileProblem;
use crate::project::{CheckedFile, Project, Walked};
use crate::render::progress::Progress;
use crate::render::{self, Report};
use anyhow::{Result, bail};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

pub fn run(args: CheckArgs) -> Result<ExitCode> {
    let started = Instant::now();
    if args.statistics && !matches!(args.format, Format::Text | Format::Json) {
        bail!("--statistics prints text or json; drop it or use --format text/json");
    }
    let baseline = args.baseline.as_deref().map(Baseline::read).transpose()?;
    let walked = Walked::new(&args.common.paths, &super::overrides(&args.common))?;
    let quiet = args.common.quiet;
    let (project, checked, problems) =
        crate::cache::check(walked, !args.common.no_cache, |project, targets| {
            check_all(project, targets, quiet)
        });
    let all: Vec<Report> = checked
        .iter()
        .flat_map(|file| {
            file.diagnostics.iter().map(move |d| Report {
                path: file.source.path.clone(),
                source: &file.source,
                diagnostic: d,
                measured: None,
            })
        })
        .collect();

    if let Some(path) = &args.write_baseline {
        let entries = all.iter().map(|r| baseline_entry(&project, r)).collect();
        Baseline::new(entries).write(path)?;
        if !args.common.quiet {
            eprintln!(
                "Wrote {} finding{} to the baseline {}; check against it with `djopt check --baseline {}`.",
                all.len(),
                if all.len() == 1 { "" } else { "s" },
                path.display(),
                path.display()
            );
        }
        let fatal = super::print_problems(&problems);
        return Ok(if fatal {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        });
    }

    let mut note = String::new();
    let reports: Vec<Report> = match &baseline {
        None => all,
        Some(baseline) => {
            let mut matcher = baseline.matcher();
            let before = all.len();
            let new: Vec<Report> = all
                .into_iter()
                .filter(|r| !matcher.take(&baseline_entry(&project, r)))
                .collect();
            let hidden = before - new.len();
            let _ = writeln!(
                note,
                "{hidden} finding{} in the baseline not shown.",
                if hidden == 1 { "" } else { "s" }
            );
            let gone = matcher.unmatched();
            if gone > 0 {
                let path = args.baseline.as_deref().unwrap_or(std::path::Path::new(""));
                let _ = writeln!(
                    note,
                    "{gone} baseline entr{} no longer found (fixed?): refresh it with `djopt check --write-baseline {}`.",
                    if gone == 1 { "y" } else { "ies" },
                    path.display()
                );
            }
            new
        }
    };

    // A run-time profile: measured numbers on the findings it confirms (those first, by the
    // queries a fix saves), and its N+1s that no finding explains.
    let mut reports = reports;
    let profile = match &args.profile {
        Some(path) => Some(crate::profile::read(path)?),
        None => None,
    };
    let unmatched = match &profile {
        Some(profile) => {
            let located: Vec<crate::profile::Located> = reports
                .iter()
                .map(|r| crate::profile::Located {
                    path: PathBuf::from(
                        project
                            .settings
                            .relative(&r.path)
                            .to_string_lossy()
                            .replace('\\', "/"),
                    ),
                    first_line: r.source.line_col(r.diagnostic.start).0,
                    last_line: r.source.line_col(r.diagnostic.end).0,
                    message: &r.diagnostic.message,
                })
                .collect();
            let (measured, unmatched) = crate::profile::measure(profile, &located);
            for (r, m) in reports.iter_mut().zip(measured) {
                r.measured = m;
            }
            reports.sort_by_key(|r| std::cmp::Reverse(r.measured.as_ref().map_or(0, |m| m.saved)));
            unmatched
        }
        None => Vec::new(),
    };
    let cwd = std::env::current_dir()?;
    let root = project.settings.project_root.clone();

    let unsafe_fixes = project.settings.unsafe_fixes;
    let mut out = String::new();
    match (args.format, args.statistics) {
        (Format::Json, true) => out = statistics_json(&reports),
        (Format::Json, false) => {
            out = render::json::render_profiled(&reports, &unmatched, &root, &cwd)
        }
        (Format::Sarif, _) => {
            out = render::sarif::render(&reports, &problems, &std::env::current_dir()?)
        }
        (Format::Github, _) => out = render::github::render(&reports, &problems),
        (Format::Text, statistics) => {
            if statistics {
                out.push_str(&render::text::statistics(&reports, unsafe_fixes));
            } else {
                out.push_str(&render::text::render_styled(&reports, !args.common.quiet));
                out.push_str(&render::text::unexplained(&unmatched, &root, &cwd));
            }
            if !args.common.quiet {
                out.push_str(&render::text::summary_timed(
                    &reports,
                    project.targets.len(),
                    unsafe_fixes,
                    started.elapsed(),
                ));
                out.push_str(&note);
                if let Some(profile) = &profile {
                    let confirmed = reports.iter().filter(|r| r.measured.is_some()).count();
                    let _ = writeln!(
                        out,
                        "Profile {} ({} runs): {confirmed} finding{} confirmed, {} run-time N+1{} no rule explains.",
                        profile.path.display(),
                        profile.records,
                        if confirmed == 1 { "" } else { "s" },
                        unmatched.len(),
                        if unmatched.len() == 1 { "" } else { "s" }
                    );
                }
            }
        }
    }
    if args.format != Format::Text && !args.common.quiet {
        eprint!("{note}");
    }
    let mut stdout = anstream::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    let fatal = super::print_problems(&problems);
    // Suggestions do not fail the check unless their rule is selected by its code.
    let failing = !unmatched.is_empty()
        || reports.iter().any(|r| {
            r.diagnostic.kind == Kind::Finding
                || project.settings.selects_by_code(r.diagnostic.rule)
        });
    let code = if fatal {
        ExitCode::from(2)
    } else if !failing || args.exit_zero {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    };
    drop(reports);
    super::leave(project);
    super::leave(checked);
    Ok(code)
}

/// Every target checked in parallel, with a progress bar for long runs: the files with findings
/// (a file without any is dropped at once: holding every file's text doubled peak memory) and the
/// files that could not be checked.
fn check_all(
    project: &Project,
    targets: &[PathBuf],
    quiet: bool,
) -> (Vec<CheckedFile>, Vec<FileProblem>) {
    let progress = Progress::new(targets.len(), quiet);
    progress.message("Checking");
    let results: Vec<_> = targets
        .par_iter()
        .filter_map(|path| {
            let result = project.check_file(path);
            progress.inc();
            match result {
                Ok(file) if file.diagnostics.is_empty() => None,
                other => Some(other),
            }
        })
        .collect();
    progress.finish();
    crate::timings::mark("phase 2");
    let (left, read) = crate::index::lazy::counts();
    crate::timings::note(&format!(
        "methods phase 1 left unparsed: {left}, read since: {read}"
    ));
    let [index, scanned, kept, rest, whole] = crate::timings::counted_mb();
    crate::timings::note(&format!(
        "MB parsed by phase 1: {index:.2}; phase 2 tokenized {scanned:.2}, parsed {kept:.2} \
         kept + {rest:.2} rest (files with findings) + {whole:.2} whole"
    ));
    let mut checked = Vec::new();
    let mut problems = Vec::new();
    for result in results {
        match result {
            Ok(file) => checked.push(file),
            Err(p) => problems.push(p),
        }
    }
    (checked, problems)
}

fn baseline_entry(project: &Project, r: &Report) -> Entry {
    Entry::new(&project.relative(&r.source.path), r.source, r.diagnostic)
}

fn statistics_json(reports: &[Report]) -> String {
    let counts: Vec<serde_json::Value> = render::text::rule_counts(reports)
        .into_iter()
        .map(|c| {
            serde_json::json!({
                "code": c.code,
                "name": c.name,
                "count": c.count,
                "safe_fixes": c.safe_fixes,
                "unsafe_fixes": c.unsafe_fixes,
                "suggestions": c.suggestions,
            })
        })
        .collect();
    let mut out = serde_json::to_string_pretty(&counts).expect("statistics serialize");
    out.push('\n');
    out
}
