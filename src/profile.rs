//! Run-time query profiles read back (`djopt check --profile FILE`): the N+1 groups that
//! `djopt.profile` recorded (docs/profile.md, one JSON record per line), matched to the static
//! findings they confirm, and the ones no finding explains.
//!
//! A group matches a finding as `djopt.profile`'s own matcher does (python/djopt/profile/
//! _static.py): trying the group's project frames innermost first, a finding on the frame's
//! line; else one whose message names the frame's `file:line` (the framework rules list the
//! reads they found that way); else one inside the frame's function. The first frame that
//! matches wins.

use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Record {
    format: String,
    version: u64,
    id: String,
    // `root` is not read: files are matched relative to the project root wherever the
    // profile was recorded (serde skips fields the struct does not name).
    groups: Vec<RawGroup>,
}

#[derive(Deserialize)]
struct RawGroup {
    sql: String,
    count: u64,
    n_plus_one: bool,
    #[serde(default)]
    frames: Vec<Frame>,
}

#[derive(Deserialize, Clone, Debug)]
pub struct Frame {
    pub file: String,
    pub line: usize,
    pub function: String,
    pub first_line: usize,
    pub last_line: usize,
}

/// One N+1 of the profile: a query shape from one line, over every record that ran it. Files
/// are relative to the project root (the record's `root` where it was recorded; a profile from
/// CI or another checkout matches the same files here).
#[derive(Debug)]
pub struct NPlusOne {
    /// The innermost project frame's file, relative, with `/`.
    pub path: PathBuf,
    pub line: usize,
    pub function: String,
    pub sql: String,
    /// The project frames (relative file, frame), innermost first.
    pub frames: Vec<(PathBuf, Frame)>,
    /// (record id, queries in it).
    pub records: Vec<(String, u64)>,
}

impl NPlusOne {
    pub fn queries(&self) -> u64 {
        self.records.iter().map(|(_, n)| n).sum()
    }

    /// What loading the rows at once saves: all but one query of the group, per record.
    pub fn saved(&self) -> u64 {
        self.records.iter().map(|(_, n)| n.saturating_sub(1)).sum()
    }
}

pub struct Profile {
    pub path: PathBuf,
    /// How many records (tests, requests) the file holds.
    pub records: usize,
    pub groups: Vec<NPlusOne>,
}

/// Read a profile; a line that is not a djopt profile record is an error naming it.
pub fn read(path: &Path) -> Result<Profile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the profile {}", path.display()))?;
    let mut groups: Vec<NPlusOne> = Vec::new();
    let mut by_key: HashMap<(PathBuf, usize, String), usize> = HashMap::new();
    let mut records = 0;
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(line).with_context(|| {
            format!(
                "{}:{}: not a djopt profile record (docs/profile.md)",
                path.display(),
                n + 1
            )
        })?;
        if record.format != "djopt-profile" {
            bail!(
                "{}:{}: not a djopt profile record (format {:?})",
                path.display(),
                n + 1,
                record.format
            );
        }
        if record.version != 1 {
            bail!(
                "{}:{}: profile format version {} (this djopt reads version 1)",
                path.display(),
                n + 1,
                record.version
            );
        }
        records += 1;
        for g in record.groups {
            let Some(inner) = g.frames.first().cloned() else {
                continue; // no frame in the project's code: nothing to point at
            };
            if !g.n_plus_one {
                continue;
            }
            let file = PathBuf::from(&inner.file);
            let key = (file.clone(), inner.line, g.sql.clone());
            let i = *by_key.entry(key).or_insert_with(|| {
                groups.push(NPlusOne {
                    path: file,
                    line: inner.line,
                    function: inner.function.clone(),
                    sql: g.sql.clone(),
                    frames: g
                        .frames
                        .iter()
                        .map(|f| (PathBuf::from(&f.file), f.clone()))
                        .collect(),
                    records: Vec::new(),
                });
                groups.len() - 1
            });
            groups[i].records.push((record.id.clone(), g.count));
        }
    }
    Ok(Profile {
        path: path.to_path_buf(),
        records,
        groups,
    })
}

/// A static finding as the matcher sees it: its file (relative to the project root, with `/`),
/// its lines and its message.
pub struct Located<'a> {
    pub path: PathBuf,
    pub first_line: usize,
    pub last_line: usize,
    pub message: &'a str,
}

/// For each group, the finding it confirms (an index into `findings`), or None.
pub fn matches(profile: &Profile, findings: &[Located]) -> Vec<Option<usize>> {
    profile
        .groups
        .iter()
        .map(|g| {
            g.frames.iter().find_map(|(file, frame)| {
                let here = |f: &&Located| &f.path == file;
                let on_line = findings
                    .iter()
                    .position(|f| here(&f) && (f.first_line..=f.last_line).contains(&frame.line));
                let named = || {
                    let name = Path::new(&frame.file)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let needle = format!("{name}:{}", frame.line);
                    findings.iter().position(|f| f.message.contains(&needle))
                };
                let inside = || {
                    findings.iter().position(|f| {
                        here(&f)
                            && frame.first_line <= f.first_line
                            && f.last_line <= frame.last_line
                    })
                };
                on_line.or_else(named).or_else(inside)
            })
        })
        .collect()
}

/// What a profile measured for one finding: the groups it explains, summed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Measured {
    pub queries: u64,
    pub saved: u64,
    /// Distinct records (tests, requests) that ran the queries.
    pub records: usize,
    /// One of them, for the message.
    pub example: String,
}

/// The measured numbers per finding (None: the profile did not see it) and the groups no
/// finding explains.
pub fn measure<'p>(
    profile: &'p Profile,
    findings: &[Located],
) -> (Vec<Option<Measured>>, Vec<&'p NPlusOne>) {
    let mut measured: Vec<Option<Measured>> = vec![None; findings.len()];
    let mut ids: Vec<Vec<&str>> = vec![Vec::new(); findings.len()];
    let mut unmatched = Vec::new();
    for (group, m) in profile.groups.iter().zip(matches(profile, findings)) {
        let Some(i) = m else {
            unmatched.push(group);
            continue;
        };
        let entry = measured[i].get_or_insert_with(Measured::default);
        entry.queries += group.queries();
        entry.saved += group.saved();
        for (id, _) in &group.records {
            if !ids[i].contains(&id.as_str()) {
                ids[i].push(id);
            }
        }
        entry.records = ids[i].len();
        if entry.example.is_empty() {
            entry.example = ids[i][0].to_string();
        }
    }
    unmatched.sort_by(|a, b| b.saved().cmp(&a.saved()).then(a.path.cmp(&b.path)));
    (measured, unmatched)
}

/// "40 queries in 2 tests (app.tests.T.test_x, ...)": what a profile saw, for messages.
pub fn describe(m: &Measured) -> String {
    let others = if m.records > 1 {
        format!(" ({}, and {} more)", m.example, m.records - 1)
    } else {
        format!(" ({})", m.example)
    };
    format!(
        "measured: {} quer{} in {} run{}{others}; loading the rows at once saves {}",
        m.queries,
        if m.queries == 1 { "y" } else { "ies" },
        m.records,
        if m.records == 1 { "" } else { "s" },
        m.saved
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, root: &str, groups: &str) -> String {
        format!(
            r#"{{"format":"djopt-profile","version":1,"kind":"test","id":"{id}","run":"r","started_at":"2026-12-03T00:00:00.000Z","root":"{root}","threshold":3,"queries":0,"time_ms":0,"n_plus_one":0,"groups":[{groups}]}}"#
        )
    }

    fn group(sql: &str, count: u64, n1: bool, frames: &[(&str, usize, usize, usize)]) -> String {
        let frames: Vec<String> = frames
            .iter()
            .map(|(file, line, first, last)| {
                format!(
                    r#"{{"file":"{file}","line":{line},"function":"f{line}","first_line":{first},"last_line":{last}}}"#
                )
            })
            .collect();
        format!(
            r#"{{"db":"default","op":"select","sql":"{sql}","example":"x","count":{count},"time_ms":1,"n_plus_one":{n1},"distinct_params":{count},"callers":1,"first":0,"fed_by":null,"file":null,"line":null,"frames":[{}]}}"#,
            frames.join(",")
        )
    }

    fn profile_of(lines: &[String]) -> Profile {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jsonl");
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        read(&path).unwrap()
    }

    fn located(path: &str, first: usize, last: usize, message: &'static str) -> Located<'static> {
        Located {
            path: PathBuf::from(path),
            first_line: first,
            last_line: last,
            message,
        }
    }

    #[test]
    fn groups_match_by_line_then_by_name_then_by_function_and_sum_over_records() {
        let p = profile_of(&[
            record(
                "t1",
                "/p",
                &[
                    group("SELECT a", 10, true, &[("shop/views.py", 5, 4, 6)]),
                    // the innermost frame is a helper; the caller's line has the finding
                    group(
                        "SELECT b",
                        4,
                        true,
                        &[("shop/util.py", 9, 8, 9), ("shop/views.py", 12, 10, 14)],
                    ),
                    // named in a framework finding's message
                    group("SELECT c", 7, true, &[("shop/templates/x.html", 3, 1, 9)]),
                    // inside the function of a finding elsewhere in it
                    group("SELECT d", 5, true, &[("shop/reports.py", 30, 20, 40)]),
                    group("SELECT e", 9, true, &[("shop/other.py", 3, 1, 5)]),
                    group("SELECT f", 50, false, &[("shop/views.py", 5, 4, 6)]),
                ]
                .join(","),
            ),
            record(
                "t2",
                "/p",
                &group("SELECT a", 6, true, &[("shop/views.py", 5, 4, 6)]),
            ),
        ]);
        assert_eq!(p.records, 2);
        assert_eq!(
            p.groups.len(),
            5,
            "the group under the threshold is not an N+1"
        );
        let findings = [
            located("shop/views.py", 5, 5, "loop"),
            located("shop/views.py", 12, 13, "loop"),
            located(
                "shop/views.py",
                40,
                40,
                "template reads `x.html:3 b.author`",
            ),
            located("shop/reports.py", 25, 26, "loop"),
        ];
        assert_eq!(
            matches(&p, &findings),
            [Some(0), Some(1), Some(2), Some(3), None]
        );
        let (measured, unmatched) = measure(&p, &findings);
        let first = measured[0].as_ref().unwrap();
        assert_eq!((first.queries, first.saved, first.records), (16, 14, 2));
        assert_eq!(first.example, "t1");
        assert_eq!(unmatched.len(), 1);
        assert_eq!(unmatched[0].sql, "SELECT e");
        assert_eq!(unmatched[0].path, PathBuf::from("shop/other.py"));
        assert!(describe(first).contains("16 queries in 2 runs (t1, and 1 more)"));
    }

    #[test]
    fn a_line_that_is_not_a_profile_record_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.jsonl");
        std::fs::write(&path, format!("{}\n{{\"x\": 1}}\n", record("t", "/p", ""))).unwrap();
        let err = format!("{:#}", read(&path).err().unwrap());
        assert!(
            err.contains("p.jsonl:2: not a djopt profile record"),
            "{err}"
        );
        std::fs::write(
            &path,
            record("t", "/p", "").replace("\"version\":1", "\"version\":2"),
        )
        .unwrap();
        let err = format!("{:#}", read(&path).err().unwrap());
        assert!(err.contains("version 2"), "{err}");
        assert!(read(&dir.path().join("missing.jsonl")).is_err());
    }
}
