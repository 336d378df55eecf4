//! `djopt pr` against a real git repository, a local bare remote, and a stand-in `gh` that
//! records its arguments.
#![cfg(unix)]

mod common;

use common::{REPORTS, VIEWS, write_project};
use predicates::prelude::*;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;

struct Repo {
    _dir: tempfile::TempDir,
    /// The clone djopt works in.
    work: PathBuf,
    /// The bare repository behind `origin`.
    remote: PathBuf,
    /// Holds the stand-in `gh` and a `git` link.
    bin: PathBuf,
    home: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let repo = Repo {
            work: root.join("work"),
            remote: root.join("remote.git"),
            bin: root.join("bin"),
            home: root.join("home"),
            _dir: dir,
        };
        for d in [&repo.work, &repo.bin, &repo.home] {
            fs::create_dir_all(d).unwrap();
        }
        write_project(&repo.work);
        repo.git(&["init", "--quiet", "--initial-branch=main"]);
        repo.git(&["add", "."]);
        repo.git(&["commit", "--quiet", "-m", "initial"]);
        let bare = repo.remote.to_str().unwrap().to_string();
        Command::new("git")
            .args(["init", "--quiet", "--bare", &bare])
            .status()
            .unwrap();
        repo.git(&["remote", "add", "origin", &bare]);
        repo
    }

    /// git in the clone, isolated from the machine's configuration.
    fn git(&self, args: &[&str]) -> String {
        let out = self.env(Command::new("git")).args(args).output().unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    }

    fn env(&self, mut cmd: Command) -> Command {
        cmd.current_dir(&self.work)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_NAME", "Test")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("NO_COLOR", "1");
        cmd
    }

    fn djopt(&self) -> assert_cmd::Command {
        let std = self.env(Command::new(env!("CARGO_BIN_EXE_djopt")));
        let mut cmd = assert_cmd::Command::from_std(std);
        cmd.env("PATH", self.path_with_bin());
        cmd
    }

    fn path_with_bin(&self) -> String {
        format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }

    /// A `gh` that writes its arguments, one a line, and a copy of the body it was given.
    fn install_gh(&self) {
        let script = format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{args}'\nwhile [ $# -gt 0 ]; do\n  if [ \"$1\" = --body-file ]; then cp \"$2\" '{body}'; fi\n  shift\ndone\necho https://github.com/example/shop/pull/7\n",
            args = self.gh_args().display(),
            body = self.gh_body().display()
        );
        let gh = self.bin.join("gh");
        fs::write(&gh, script).unwrap();
        fs::set_permissions(&gh, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn gh_args(&self) -> PathBuf {
        self.home.join("gh-args.txt")
    }

    fn gh_body(&self) -> PathBuf {
        self.home.join("gh-body.md")
    }

    fn short_head(&self) -> String {
        self.git(&["rev-parse", "--short", "HEAD"])
            .trim()
            .to_string()
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.work.join(path)).unwrap()
    }
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn branch_one_commit_per_rule_push_and_open() {
    let repo = Repo::new();
    repo.install_gh();
    let head = repo.short_head();
    let branch = format!("djopt/fixes-{head}");
    let body_file = repo.home.join("pr.md");
    repo.djopt()
        .args(["pr", "--push", "origin", "--open", "--body-file"])
        .arg(&body_file)
        .assert()
        .code(0)
        .stderr(predicate::str::contains(format!(
            "Branch {branch}: 2 commits fixing 3 findings; 2 left for a reviewer"
        )))
        .stderr(predicate::str::contains(
            "Opened the pull request: https://github.com/example/shop/pull/7",
        ));

    // On the new branch, one commit per rule in rule order, each with only its own files.
    assert_eq!(
        repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        branch
    );
    assert_eq!(
        lines(&repo.git(&["log", "--format=%s", "main..HEAD"])),
        [
            "perf(orm): ORM102 prefetch-related-in-loop (1 fix)",
            "perf(orm): ORM101 select-related-in-loop (2 fixes)",
        ]
    );
    assert_eq!(
        lines(&repo.git(&["show", "--name-only", "--format=", "HEAD~1"])),
        ["shop/reports.py", "shop/views.py"]
    );
    assert_eq!(
        lines(&repo.git(&["show", "--name-only", "--format=", "HEAD"])),
        ["shop/views.py"]
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    // Everything safe is fixed: `djopt diff` has nothing more to say.
    repo.djopt().args(["diff"]).assert().code(0).stdout("");
    assert!(
        repo.read("shop/reports.py")
            .contains(".select_related(\"author\"):")
    );

    // Pushed: the bare remote has the branch at the same commit.
    let pushed = Command::new("git")
        .arg("--git-dir")
        .arg(&repo.remote)
        .args(["rev-parse", &branch])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(pushed.stdout).unwrap(),
        repo.git(&["rev-parse", "HEAD"])
    );

    // gh was asked to open the PR from this branch into main, with the description.
    let args = fs::read_to_string(repo.gh_args()).unwrap();
    assert_eq!(
        lines(&args),
        [
            "pr",
            "create",
            "--base",
            "main",
            "--head",
            &branch,
            "--title",
            "perf(orm): fix 3 N+1 queries found by djopt",
            "--body-file",
            body_file.to_str().unwrap(),
        ]
    );
    let body = fs::read_to_string(&body_file).unwrap();
    assert_eq!(fs::read_to_string(repo.gh_body()).unwrap(), body);

    // The next scheduled run on the same commit (a fresh clone) finds the branch pushed
    // already and does nothing.
    repo.git(&["switch", "--quiet", "main"]);
    repo.git(&["branch", "--quiet", "-D", &branch]);
    fs::remove_file(repo.gh_args()).unwrap();
    repo.djopt()
        .args(["pr", "--push", "origin", "--open"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains(format!(
            "Branch {branch} is already on origin: the fixes for this commit were proposed before; nothing to do."
        )));
    assert!(!repo.gh_args().exists());
    assert_eq!(repo.git(&["branch", "--list"]).trim(), "* main");

    // The description: summary, table, files, checklist, how to reproduce, version.
    for expected in [
        "## perf(orm): fix 3 N+1 queries found by djopt",
        "found **5** N+1 query patterns in **2** files. This pull request fixes **3** of them",
        "| rule | findings | fixed | files changed |",
        "| ORM101 select-related-in-loop | 4 | 2 | 2 |",
        "| ORM102 prefetch-related-in-loop | 1 | 1 | 1 |",
        "- `shop/reports.py` (ORM101)",
        "- `shop/views.py` (ORM101, ORM102)",
        // Lines of the fixed branch: the two fixes above them were wrapped (5 lines more).
        "- [ ] `shop/views.py:18` ORM101: `b.author` runs a query",
        "(no automatic fix: rows come from `.union()`)\n",
        "- [ ] `shop/views.py:23` ORM101:",
        "— to apply after review: Add `.select_related(\"author\")` (`djopt fix --unsafe-fixes --select ORM101`)",
        "```sh\ndjopt fix\n```",
        &format!("Made by djopt {}.", env!("CARGO_PKG_VERSION")),
    ] {
        assert!(body.contains(expected), "missing {expected:?} in:\n{body}");
    }
}

#[test]
fn description_goes_to_stdout_and_unsafe_fixes_only_when_asked() {
    let repo = Repo::new();
    let out = repo
        .djopt()
        .args(["pr", "--unsafe-fixes", "--branch", "perf/n-plus-one"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let body = String::from_utf8(out.stdout).unwrap();
    assert!(
        body.contains("| ORM101 select-related-in-loop | 4 | 3 | 2 |"),
        "{body}"
    );
    assert!(
        body.contains("```sh\ndjopt fix --unsafe-fixes\n```"),
        "{body}"
    );
    // The unsafe finding (line 23 of the fixed views) is fixed, the `.union()` one is left.
    assert!(!body.contains("shop/views.py:23"), "{body}");
    assert!(body.contains("shop/views.py:18"), "{body}");
    assert_eq!(
        repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "perf/n-plus-one"
    );
    assert!(
        repo.read("shop/views.py")
            .contains("books = Book.objects.all().select_related(\"author\")")
    );
}

#[test]
fn refuses_a_dirty_worktree() {
    let repo = Repo::new();
    fs::write(
        repo.work.join("shop/views.py"),
        format!("{VIEWS}\n# edited\n"),
    )
    .unwrap();
    repo.djopt()
        .args(["pr"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the worktree has uncommitted changes (shop/views.py); commit or stash them first",
        ));
    assert_eq!(
        repo.git(&["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    assert_eq!(repo.git(&["branch", "--list"]).trim(), "* main");

    // Untracked files count too: they could end up in a commit.
    fs::write(repo.work.join("shop/views.py"), VIEWS).unwrap();
    fs::write(repo.work.join("shop/new.py"), REPORTS).unwrap();
    repo.djopt()
        .args(["pr"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("shop/new.py"));
}

#[test]
fn refuses_outside_git_and_an_existing_branch() {
    let dir = common::project();
    common::djopt(dir.path())
        .args(["pr"])
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not in a git repository"));

    let repo = Repo::new();
    repo.git(&["branch", "taken"]);
    repo.djopt()
        .args(["pr", "--branch", "taken"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "branch `taken` already exists; delete it (`git branch -D taken`) or name another with --branch",
        ));
}

#[test]
fn without_gh_it_says_what_to_run() {
    let repo = Repo::new();
    // A PATH with git and nothing else.
    let git = String::from_utf8(
        Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    std::os::unix::fs::symlink(git.trim(), repo.bin.join("git")).unwrap();
    let head = repo.short_head();
    repo.djopt()
        .env("PATH", &repo.bin)
        .args(["pr", "--push", "origin", "--open", "--body-file", "../home/pr.md"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("the GitHub CLI `gh` is not on PATH"))
        .stderr(predicate::str::contains(format!(
            "gh pr create --base main --head djopt/fixes-{head} --title 'perf(orm): fix 3 N+1 queries found by djopt' --body-file ../home/pr.md"
        )));
    // The branch is pushed all the same.
    let pushed = Command::new("git")
        .arg("--git-dir")
        .arg(&repo.remote)
        .args(["branch", "--list"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8(pushed.stdout)
            .unwrap()
            .contains(&format!("djopt/fixes-{head}"))
    );
}

#[test]
fn open_needs_push() {
    let repo = Repo::new();
    repo.djopt()
        .args(["pr", "--open"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--push <REMOTE>"));
}

#[test]
fn nothing_to_fix_leaves_no_branch() {
    let repo = Repo::new();
    fs::write(repo.work.join("shop/views.py"), "").unwrap();
    fs::write(repo.work.join("shop/reports.py"), "").unwrap();
    repo.git(&["commit", "--quiet", "-am", "clean"]);
    repo.djopt()
        .args(["pr"])
        .assert()
        .code(0)
        .stdout("")
        .stderr(predicate::str::contains(
            "Nothing to fix with safe fixes: no branch, no commit",
        ));
    assert_eq!(repo.git(&["branch", "--list"]).trim(), "* main");
}

#[test]
fn the_project_can_be_named_by_a_path_through_a_symlink() {
    let repo = Repo::new();
    let link = repo.home.join("link");
    std::os::unix::fs::symlink(&repo.work, &link).unwrap();
    repo.djopt()
        .arg("pr")
        .arg(&link)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "| ORM101 select-related-in-loop | 4 | 2 | 2 |",
        ));
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    assert_eq!(
        lines(&repo.git(&["log", "--format=%s", "main..HEAD"])).len(),
        2
    );
}
