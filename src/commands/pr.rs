//! `djopt pr`: in a clean git worktree, a new branch with the fixes, one commit per rule, and
//! the pull request's description in Markdown; optionally pushed and opened with `gh`.

use crate::commands::args::PrArgs;
use crate::diagnostic::Diagnostic;
use crate::fix::Applicability;
use crate::git::Git;
use crate::problem::FileProblem;
use crate::project::{Project, write_atomic};
use crate::render::style;
use crate::rules::registry;
use anyhow::{Context, Result, bail};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

/// Rounds of "every rule once"; a fix of one rule rarely opens a finding of an earlier one.
const MAX_ROUNDS: usize = 3;

/// A finding as the description lists it.
struct Finding {
    path: PathBuf,
    line: usize,
    rule: &'static str,
    message: String,
    fix: Option<(Applicability, String)>,
}

/// What one rule's commits did.
#[derive(Default)]
struct RuleOutcome {
    fixes: usize,
    files: Vec<PathBuf>,
}

pub fn run(args: PrArgs) -> Result<ExitCode> {
    let started = Instant::now();
    let start = match args.common.paths.first() {
        Some(p) if p.is_dir() => p.clone(),
        Some(p) => p
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf),
        None => PathBuf::from("."),
    };
    let git = Git::discover(&start)?;
    let dirty = git.dirty_paths()?;
    if !dirty.is_empty() {
        let shown: Vec<&str> = dirty.iter().take(5).map(String::as_str).collect();
        bail!(
            "the worktree has uncommitted changes ({}{}); commit or stash them first (`git stash --include-untracked`) so the pull request holds only djopt's fixes",
            shown.join(", "),
            if dirty.len() > 5 { ", …" } else { "" }
        );
    }
    let head = git.short_head()?;
    let base = git.current_branch()?;
    let branch = args
        .branch
        .clone()
        .unwrap_or_else(|| format!("djopt/fixes-{head}"));
    if let Some(remote) = &args.push
        && git.remote_has_branch(remote, &branch)?
    {
        // A scheduled run on an unchanged repository: its pull request exists already.
        eprintln!(
            "Branch {branch} is already on {remote}: the fixes for this commit were proposed before; nothing to do."
        );
        return Ok(ExitCode::SUCCESS);
    }
    if git.branch_exists(&branch)? {
        bail!(
            "branch `{branch}` already exists; delete it (`git branch -D {branch}`) or name another with --branch"
        );
    }
    let project = Project::load(&args.common.paths, &super::overrides(&args.common))?;
    let level = if project.settings.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let (before, mut problems) = findings(&project);

    git.run(&["switch", "--quiet", "--create", &branch])?;
    let mut outcomes: BTreeMap<&'static str, RuleOutcome> = BTreeMap::new();
    let mut commits = 0;
    for _ in 0..MAX_ROUNDS {
        let mut changed_any = false;
        for rule in &registry().rules {
            let code = rule.meta.code.as_str();
            let (fixes, files, rule_problems) = fix_rule(&project, level, code);
            problems.extend(rule_problems);
            if files.is_empty() {
                continue;
            }
            git.commit_files(&files, &commit_message(code, &rule.meta.name, fixes))?;
            commits += 1;
            changed_any = true;
            let outcome = outcomes.entry(registry_code(code)).or_default();
            outcome.fixes += fixes;
            for f in files {
                if !outcome.files.contains(&f) {
                    outcome.files.push(f);
                }
            }
        }
        if !changed_any {
            break;
        }
    }
    let fatal = super::print_problems(&problems);
    if commits == 0 {
        match &base {
            Some(base) => git.run(&["switch", "--quiet", base])?,
            None => git.run(&["switch", "--quiet", "--detach", &head])?,
        };
        git.run(&["branch", "--quiet", "-D", &branch])?;
        eprintln!(
            "Nothing to fix{}: no branch, no commit ({} findings left for a reviewer; see `djopt check`).",
            if project.settings.unsafe_fixes {
                ""
            } else {
                " with safe fixes"
            },
            before.len()
        );
        return Ok(if fatal {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        });
    }

    let (left, _) = findings(&project);
    let body = description(&args, &project, &before, &left, &outcomes);
    match &args.body_file {
        Some(path) => std::fs::write(path, &body)
            .with_context(|| format!("cannot write the description to {}", path.display()))?,
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(body.as_bytes())?;
            stdout.flush()?;
        }
    }
    let fixed: usize = outcomes.values().map(|o| o.fixes).sum();
    eprintln!(
        "Branch {branch}: {commits} commit{} fixing {fixed} finding{}; {} left for a reviewer ({}).",
        plural(commits),
        plural(fixed),
        left.len(),
        style::duration(started.elapsed())
    );
    if let Some(remote) = &args.push {
        git.run(&["push", "--quiet", "--set-upstream", remote, &branch])
            .with_context(|| format!("the fixes are committed on {branch} but not pushed"))?;
        eprintln!("Pushed {branch} to {remote}.");
    }
    if args.open {
        open_pull_request(&args, &git, &branch, base.as_deref(), fixed, &body)?;
    }
    Ok(if fatal {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// The registry's `&'static str` for a code (outcomes are keyed by it).
fn registry_code(code: &str) -> &'static str {
    registry()
        .codes()
        .find(|c| *c == code)
        .expect("code comes from the registry")
}

/// Every finding in the project now, in path order, and the files that could not be read.
fn findings(project: &Project) -> (Vec<Finding>, Vec<FileProblem>) {
    let results: Vec<_> = project
        .targets
        .par_iter()
        .map(|path| project.check_file(path))
        .collect();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for result in results {
        match result {
            Ok(file) => out.extend(file.diagnostics.iter().map(|d| Finding {
                path: file.source.path.clone(),
                line: file.source.line_col(d.start).0,
                rule: d.rule,
                message: d.message.clone(),
                fix: d.fix.as_ref().map(|f| (f.applicability, f.message.clone())),
            })),
            Err(p) => problems.push(p),
        }
    }
    (out, problems)
}

/// Apply one rule's fixes to every file and write them: (fixes, files changed, problems).
fn fix_rule(
    project: &Project,
    level: Applicability,
    code: &str,
) -> (usize, Vec<PathBuf>, Vec<FileProblem>) {
    let wanted = |_: &str, d: &Diagnostic| d.rule == code;
    let results: Vec<_> = project
        .targets
        .par_iter()
        .map(|path| -> Result<Option<(usize, PathBuf)>, FileProblem> {
            let source = project.read(path)?;
            let fixed = project.fix_source_where(source, level, &wanted)?;
            if fixed.fixed != fixed.source.text {
                write_atomic(&fixed.source, &fixed.fixed)?;
                Ok(Some((fixed.applied.len(), fixed.source.path.clone())))
            } else {
                Ok(None)
            }
        })
        .collect();
    let mut fixes = 0;
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for result in results {
        match result {
            Ok(Some((n, path))) => {
                fixes += n;
                files.push(path);
            }
            Ok(None) => {}
            // Unreadable and unparsable files were reported by the first look already.
            Err(p) if !p.fatal => {}
            Err(p) => problems.push(p),
        }
    }
    (fixes, files, problems)
}

/// `perf(orm): ORM101 select-related-in-loop (3 fixes)`, and a body that says what and how.
fn commit_message(code: &str, name: &str, fixes: usize) -> String {
    let rule = registry().by_code(code).expect("registered rule");
    format!(
        "perf(orm): {code} {name} ({fixes} fix{})\n\n{}.\n{}.\n\nMade by djopt {} (`djopt rule {code}` explains the rule).\n",
        if fixes == 1 { "" } else { "es" },
        rule.meta.summary,
        rule.meta.fix,
        env!("CARGO_PKG_VERSION"),
    )
}

fn title(fixed: usize) -> String {
    format!(
        "perf(orm): fix {fixed} N+1 quer{} found by djopt",
        if fixed == 1 { "y" } else { "ies" }
    )
}

/// The pull request's description in Markdown.
fn description(
    args: &PrArgs,
    project: &Project,
    before: &[Finding],
    left: &[Finding],
    outcomes: &BTreeMap<&'static str, RuleOutcome>,
) -> String {
    let fixed: usize = outcomes.values().map(|o| o.fixes).sum();
    let show = |p: &Path| project.relative(p).to_string_lossy().replace('\\', "/");
    let mut files_before: Vec<&Path> = before.iter().map(|f| f.path.as_path()).collect();
    files_before.sort();
    files_before.dedup();
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", title(fixed));
    let _ = writeln!(
        out,
        "djopt read the code (without running it) and found **{}** N+1 query pattern{} in **{}** file{}. This pull request fixes **{fixed}** of them, one commit per rule, with {}.\n",
        before.len(),
        plural(before.len()),
        files_before.len(),
        plural(files_before.len()),
        if project.settings.unsafe_fixes {
            "safe and unsafe fixes (review the unsafe ones: they may behave differently at the edges)"
        } else {
            "safe fixes only: the same rows, objects and exceptions, only fewer queries"
        }
    );
    out.push_str("| rule | findings | fixed | files changed |\n| --- | ---: | ---: | ---: |\n");
    for rule in &registry().rules {
        let code = rule.meta.code.as_str();
        let found = before.iter().filter(|f| f.rule == code).count();
        let outcome = outcomes.get(code);
        if found == 0 && outcome.is_none() {
            continue;
        }
        let _ = writeln!(
            out,
            "| {code} {} | {found} | {} | {} |",
            rule.meta.name,
            outcome.map_or(0, |o| o.fixes),
            outcome.map_or(0, |o| o.files.len())
        );
    }

    let mut touched: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (code, outcome) in outcomes {
        for f in &outcome.files {
            touched.entry(show(f)).or_default().push(code);
        }
    }
    out.push_str("\n### Files changed\n\n");
    for (path, codes) in &touched {
        let _ = writeln!(out, "- `{path}` ({})", codes.join(", "));
    }

    out.push_str("\n### Left for a reviewer\n\n");
    if left.is_empty() {
        out.push_str("Nothing: every finding is fixed.\n");
    } else {
        out.push_str("These findings have no fix djopt applies on its own; `djopt rule CODE` explains each rule.\n\n");
        for f in left {
            // The message says why there is no safe fix; say what to do about it.
            let next = match &f.fix {
                Some((Applicability::Unsafe, message)) => format!(
                    " — to apply after review: {message} (`djopt fix --unsafe-fixes --select {}`)",
                    f.rule
                ),
                Some((_, message)) => format!(" — suggestion: {message}"),
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "- [ ] `{}:{}` {}: {}{next}",
                show(&f.path),
                f.line,
                f.rule,
                f.message
            );
        }
    }

    let _ = writeln!(
        out,
        "\n### Reproduce\n\n```sh\n{}\n```\n",
        reproduce_command(args, project.settings.unsafe_fixes)
    );
    let _ = writeln!(
        out,
        "<sub>Made by djopt {}.</sub>",
        env!("CARGO_PKG_VERSION")
    );
    out
}

/// `djopt fix` with the options of this run: the same changes in one go.
fn reproduce_command(args: &PrArgs, unsafe_fixes: bool) -> String {
    let c = &args.common;
    let mut words = vec!["djopt".to_string(), "fix".to_string()];
    if unsafe_fixes {
        words.push("--unsafe-fixes".into());
    }
    if let Some(select) = &c.select {
        words.push(format!("--select {}", select.join(",")));
    }
    if !c.ignore.is_empty() {
        words.push(format!("--ignore {}", c.ignore.join(",")));
    }
    for glob in &c.exclude {
        words.push(format!("--exclude '{glob}'"));
    }
    for path in &c.paths {
        words.push(path.to_string_lossy().into_owned());
    }
    words.join(" ")
}

/// `gh pr create` with the description; when `gh` is missing, the command to run instead.
fn open_pull_request(
    args: &PrArgs,
    git: &Git,
    branch: &str,
    base: Option<&str>,
    fixed: usize,
    body: &str,
) -> Result<()> {
    let temp;
    let body_file = match &args.body_file {
        Some(path) => path.clone(),
        None => {
            temp = tempfile::Builder::new()
                .prefix("djopt-pr-")
                .suffix(".md")
                .tempfile()?;
            std::fs::write(temp.path(), body)?;
            temp.path().to_path_buf()
        }
    };
    let title = title(fixed);
    let mut gh_args: Vec<String> = vec!["pr".into(), "create".into()];
    if let Some(base) = base {
        gh_args.extend(["--base".into(), base.to_string()]);
    }
    gh_args.extend([
        "--head".into(),
        branch.to_string(),
        "--title".into(),
        title.clone(),
        "--body-file".into(),
        std::path::absolute(&body_file)?
            .to_string_lossy()
            .into_owned(),
    ]);
    match Command::new("gh")
        .args(&gh_args)
        .current_dir(&git.top)
        .output()
    {
        Ok(output) if output.status.success() => {
            eprintln!(
                "Opened the pull request: {}",
                String::from_utf8_lossy(&output.stdout).trim()
            );
            Ok(())
        }
        Ok(output) => bail!(
            "`gh pr create` failed: {}; the branch {branch} is pushed, open the pull request by hand",
            String::from_utf8_lossy(&output.stderr).trim()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let body_hint = match &args.body_file {
                Some(path) => path.display().to_string(),
                None => "FILE (write it with --body-file FILE)".into(),
            };
            bail!(
                "the GitHub CLI `gh` is not on PATH, so the pull request is not opened; the branch {branch} is pushed: install gh (https://cli.github.com) or run\n  gh pr create{} --head {branch} --title '{title}' --body-file {body_hint}",
                base.map(|b| format!(" --base {b}")).unwrap_or_default()
            )
        }
        Err(e) => Err(e).context("cannot run `gh`"),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
