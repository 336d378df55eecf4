//! The `git` binary, as `djopt pr` uses it: the user's own git, with their configuration,
//! hooks and credentials.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Git {
    /// The top of the worktree; every command runs there.
    pub top: PathBuf,
}

impl Git {
    /// The repository holding `dir`, or an error that says to run inside one.
    pub fn discover(dir: &Path) -> Result<Git> {
        let output = command(dir, &["rev-parse", "--show-toplevel"])?;
        if !output.status.success() {
            bail!(
                "{} is not in a git repository; run `djopt pr` inside a clone of the project (or use `djopt fix`)",
                dir.display()
            );
        }
        let top = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Ok(Git { top: top.into() })
    }

    /// Run git and return its stdout; a failure names the command and repeats git's words.
    pub fn run(&self, args: &[&str]) -> Result<String> {
        let output = command(&self.top, args)?;
        if !output.status.success() {
            bail!(
                "`git {}` failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// Changed, staged or untracked paths (`git status --porcelain`), empty when clean.
    pub fn dirty_paths(&self) -> Result<Vec<String>> {
        Ok(self
            .run(&["status", "--porcelain", "--untracked-files=normal"])?
            .lines()
            .map(|l| l.get(3..).unwrap_or(l).to_string())
            .collect())
    }

    pub fn short_head(&self) -> Result<String> {
        self.run(&["rev-parse", "--short", "HEAD"])
            .map(|s| s.trim().to_string())
            .context("the repository has no commit yet; commit once, then run djopt pr")
    }

    /// The branch checked out, or None on a detached HEAD.
    pub fn current_branch(&self) -> Result<Option<String>> {
        let output = command(&self.top, &["symbolic-ref", "--quiet", "--short", "HEAD"])?;
        Ok(output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string()))
    }

    pub fn branch_exists(&self, name: &str) -> Result<bool> {
        let reference = format!("refs/heads/{name}");
        let output = command(&self.top, &["rev-parse", "--verify", "--quiet", &reference])?;
        Ok(output.status.success())
    }

    /// True when `remote` has a branch of this name (asks the remote).
    pub fn remote_has_branch(&self, remote: &str, name: &str) -> Result<bool> {
        let reference = format!("refs/heads/{name}");
        let output = command(
            &self.top,
            &["ls-remote", "--exit-code", "--heads", remote, &reference],
        )?;
        match output.status.code() {
            Some(0) => Ok(true),
            Some(2) => Ok(false),
            _ => bail!(
                "cannot reach the remote `{remote}`: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        }
    }

    /// Commit exactly these files (absolute or relative to the current folder; they exist).
    pub fn commit_files(&self, files: &[PathBuf], message: &str) -> Result<()> {
        let mut add: Vec<String> = vec!["add".into(), "--".into()];
        let mut commit: Vec<String> = vec!["commit".into(), "--quiet".into(), "-m".into()];
        commit.push(message.to_string());
        commit.push("--".into());
        for file in files {
            // Resolved like git resolves its top folder (symlinks included, as /tmp on macOS).
            let absolute = std::fs::canonicalize(file)
                .with_context(|| format!("cannot resolve {}", file.display()))?;
            add.push(absolute.to_string_lossy().into_owned());
            commit.push(absolute.to_string_lossy().into_owned());
        }
        self.run(&add.iter().map(String::as_str).collect::<Vec<_>>())?;
        self.run(&commit.iter().map(String::as_str).collect::<Vec<_>>())
            .context("git could not commit the fixes (if it asks who you are: set user.name and user.email with `git config`)")?;
        Ok(())
    }
}

fn command(dir: &Path, args: &[&str]) -> Result<Output> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .with_context(|| {
            format!(
                "cannot run `git {}`; is git installed and on PATH?",
                args.join(" ")
            )
        })
}
