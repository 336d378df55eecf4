//! Configuration: `[tool.djopt]` in the nearest `pyproject.toml`, then the command line.

use anyhow::{Context, Result, bail};
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// `[tool.djopt]` as written. Unknown keys are an error that names the key.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FileConfig {
    pub select: Option<Vec<String>>,
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub per_file_ignores: BTreeMap<String, Vec<String>>,
    pub unsafe_fixes: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct PyProject {
    tool: Option<Tool>,
}

#[derive(Debug, Deserialize)]
struct Tool {
    djopt: Option<toml::Value>,
}

/// What the command line adds.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub select: Option<Vec<String>>,
    pub ignore: Vec<String>,
    pub exclude: Vec<String>,
    pub unsafe_fixes: bool,
}

#[derive(Debug)]
pub struct Settings {
    /// Where module names start and models are looked for.
    pub project_root: PathBuf,
    pub config_file: Option<PathBuf>,
    select: Vec<String>,
    ignore: Vec<String>,
    pub exclude: GlobSet,
    per_file: Vec<(GlobSet, Vec<String>)>,
    pub unsafe_fixes: bool,
    /// The project's line length: `line-length` of ruff's configuration, else black's, else
    /// 88. A fix that makes a line longer is wrapped (`fix::wrap`).
    pub line_length: usize,
}

/// Directories never walked into (a path named on the command line is still checked).
pub const DEFAULT_EXCLUDES: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "env",
    ".tox",
    ".nox",
    "node_modules",
    "site-packages",
    "__pycache__",
    "build",
    "dist",
    "migrations",
    ".djopt_cache",
];

impl Settings {
    pub fn load(paths: &[PathBuf], overrides: &Overrides) -> Result<Settings> {
        let start = paths.first().cloned().unwrap_or_else(|| PathBuf::from("."));
        let start = std::path::absolute(&start)
            .with_context(|| format!("cannot resolve path {}", start.display()))?;
        let start_dir = if start.is_dir() {
            start.clone()
        } else {
            start
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or(start.clone())
        };
        let config_file = find_upwards(&start_dir, "pyproject.toml");
        let file_config = match &config_file {
            Some(path) => read_config(path)?,
            None => FileConfig::default(),
        };
        let project_root = project_root(&start_dir);
        let line_length = line_length(&start_dir);
        let codes: Vec<String> = crate::rules::registry().codes().map(String::from).collect();
        let check_codes = |list: &[String], origin: &str| -> Result<()> {
            for code in list {
                if code != "ALL" && !codes.iter().any(|c| c.starts_with(code.as_str())) {
                    bail!(
                        "{origin}: unknown rule code `{code}` (known: {})",
                        codes.join(", ")
                    );
                }
            }
            Ok(())
        };
        let origin = config_file
            .as_ref()
            .map(|p| format!("{} [tool.djopt]", p.display()))
            .unwrap_or_default();
        if let Some(select) = &file_config.select {
            check_codes(select, &origin)?;
        }
        check_codes(&file_config.ignore, &origin)?;
        for list in file_config.per_file_ignores.values() {
            check_codes(list, &origin)?;
        }
        if let Some(select) = &overrides.select {
            check_codes(select, "--select")?;
        }
        check_codes(&overrides.ignore, "--ignore")?;
        let select = overrides
            .select
            .clone()
            .or(file_config.select)
            .unwrap_or_else(|| vec!["ALL".into()]);
        let mut ignore = file_config.ignore;
        ignore.extend(overrides.ignore.iter().cloned());
        let mut excludes = file_config.exclude;
        excludes.extend(overrides.exclude.iter().cloned());
        let exclude = globs(&excludes).context("invalid exclude pattern")?;
        let mut per_file = Vec::new();
        for (pattern, codes) in &file_config.per_file_ignores {
            per_file.push((
                globs(std::slice::from_ref(pattern))
                    .with_context(|| format!("invalid per-file-ignores pattern `{pattern}`"))?,
                codes.clone(),
            ));
        }
        Ok(Settings {
            project_root,
            config_file,
            select,
            ignore,
            exclude,
            per_file,
            unsafe_fixes: overrides.unsafe_fixes || file_config.unsafe_fixes.unwrap_or(false),
            line_length,
        })
    }

    /// Is the rule enabled for this file (path relative to the project root)?
    pub fn rule_enabled(&self, code: &str, relative: &Path) -> bool {
        let matches = |list: &[String]| {
            list.iter()
                .any(|s| s == "ALL" || code.starts_with(s.as_str()))
        };
        if !matches(&self.select) || matches(&self.ignore) {
            return false;
        }
        !self
            .per_file
            .iter()
            .any(|(set, codes)| set.is_match(relative) && matches(codes))
    }

    /// Do a suggestion rule's reports fail `check`? Only when `select` names the rule by its
    /// code (`--select ORM107`, or `select = ["ORM107"]` in `[tool.djopt]`): a prefix or `ALL`
    /// shows suggestions without failing on them.
    pub fn selects_by_code(&self, code: &str) -> bool {
        self.select.iter().any(|s| s == code)
    }

    pub fn is_excluded(&self, relative: &Path) -> bool {
        !self.exclude.is_empty() && self.exclude.is_match(relative)
    }

    /// The path relative to the project root (or as given, if outside it).
    pub fn relative<'p>(&self, path: &'p Path) -> std::borrow::Cow<'p, Path> {
        if let Ok(abs) = std::path::absolute(path)
            && let Ok(rel) = abs.strip_prefix(&self.project_root)
        {
            return std::borrow::Cow::Owned(rel.to_path_buf());
        }
        std::borrow::Cow::Borrowed(path)
    }
}

fn globs(patterns: &[String]) -> Result<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        builder.add(Glob::new(p).with_context(|| format!("bad glob `{p}`"))?);
        // `dir` also excludes everything below it; `*.py` matches at any depth.
        let trimmed = p.trim_end_matches('/');
        builder.add(Glob::new(&format!("{trimmed}/**"))?);
        if !p.contains('/') {
            builder.add(Glob::new(&format!("**/{trimmed}"))?);
            builder.add(Glob::new(&format!("**/{trimmed}/**"))?);
        }
    }
    Ok(builder.build()?)
}

fn read_config(path: &Path) -> Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let doc: PyProject = toml::from_str(&text).with_context(|| {
        format!(
            "{} is not valid TOML; fix it or run djopt from another folder",
            path.display()
        )
    })?;
    let Some(value) = doc.tool.and_then(|t| t.djopt) else {
        return Ok(FileConfig::default());
    };
    value.try_into().map_err(|e: toml::de::Error| {
        anyhow::anyhow!(
            "{} [tool.djopt]: {} (allowed keys: select, ignore, exclude, per-file-ignores, unsafe-fixes)",
            path.display(),
            e.message()
        )
    })
}

/// The line length ruff formats to: `line-length` of the first configuration ruff reads going
/// up from `start` (`.ruff.toml`, `ruff.toml`, a `pyproject.toml` with `[tool.ruff]`); else
/// `[tool.black] line-length` of the nearest `pyproject.toml` that sets it; else 88. A file
/// that does not read as TOML counts as none (it is not ours to report).
fn line_length(start: &Path) -> usize {
    let read = |path: &Path| -> Option<toml::Table> {
        toml::from_str(&std::fs::read_to_string(path).ok()?).ok()
    };
    let number = |v: Option<&toml::Value>| {
        v.and_then(toml::Value::as_integer)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n > 0)
    };
    let mut black = None;
    for dir in start.ancestors() {
        for name in [".ruff.toml", "ruff.toml"] {
            if let Some(table) = read(&dir.join(name)) {
                return number(table.get("line-length"))
                    .or(black)
                    .unwrap_or(crate::fix::wrap::DEFAULT_LINE_LENGTH);
            }
        }
        if let Some(table) = read(&dir.join("pyproject.toml")) {
            let tool = table.get("tool");
            if black.is_none() {
                black = number(
                    tool.and_then(|t| t.get("black"))
                        .and_then(|b| b.get("line-length")),
                );
            }
            if let Some(ruff) = tool.and_then(|t| t.get("ruff")) {
                return number(ruff.get("line-length"))
                    .or(black)
                    .unwrap_or(crate::fix::wrap::DEFAULT_LINE_LENGTH);
            }
        }
    }
    black.unwrap_or(crate::fix::wrap::DEFAULT_LINE_LENGTH)
}

fn find_upwards(start: &Path, name: &str) -> Option<PathBuf> {
    start
        .ancestors()
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The project root: the nearest folder up from `start` holding `manage.py`, `pyproject.toml`,
/// `setup.cfg`, `setup.py` or `.git`; else `start` itself.
fn project_root(start: &Path) -> PathBuf {
    for dir in start.ancestors() {
        if [
            "manage.py",
            "pyproject.toml",
            "setup.cfg",
            "setup.py",
            ".git",
        ]
        .iter()
        .any(|m| dir.join(m).exists())
        {
            return dir.to_path_buf();
        }
    }
    start.to_path_buf()
}
