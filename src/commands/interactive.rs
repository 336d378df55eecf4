//! `djopt fix -i`: one fix at a time, as `git add -p` asks about hunks. Each answer is one key:
//! y apply, n skip, a apply the rest of this file, d skip the rest of this file, s suppress
//! (`# djopt: ignore[CODE]` on the finding's line), q quit. A file is written once its
//! questions are answered (or on quit), with exactly the fixes accepted.
//!
//! Fixes interact (one fix moves the offsets of the next), so after each accepted fix the file
//! is analysed again and the questions go on over the new text; findings already declined are
//! recognised by their rule, message, code and line (followed to where it moved when a fix
//! added lines above it: a wrapped call, an import).

use crate::commands::args::FixArgs;
use crate::diagnostic::Diagnostic;
use crate::fix::{Applicability, apply_fixes};
use crate::problem::FileProblem;
use crate::project::{Project, write_atomic};
use crate::render::style::{self, paint};
use crate::render::{self, Report};
use crate::source::SourceFile;
use crate::syntax::NodeKind;
use anyhow::{Result, bail};
use dialoguer::console::{Key, Term};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

const HELP: &str = "y - apply this fix
n - do not apply this fix
a - apply this fix and every other fix in this file
d - apply no other fix in this file (the ones accepted are kept)
s - do not fix: add `# djopt: ignore[CODE]` at the end of the finding's line
q - quit; this file keeps the fixes accepted so far, the files after it are not touched
? - print this help
";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Answer {
    Yes,
    No,
    All,
    Done,
    Suppress,
    Quit,
}

/// How a finding is recognised again after the file changed around it: its rule, message
/// (line numbers left out: "the loop on line 12" moves when a fix adds lines above), code and
/// line (moved with the text by [`follow`]).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Key3 {
    rule: &'static str,
    message: String,
    code: String,
    line: usize,
}

fn key(text: &str, d: &Diagnostic) -> Key3 {
    Key3 {
        rule: d.rule,
        message: without_line_numbers(&d.message),
        code: text[d.start..d.end].to_string(),
        line: crate::project::line_of(text, d.start),
    }
}

/// `message` with the number after each "line " left out.
fn without_line_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("line ") {
        out.push_str(&rest[..at + 5]);
        rest = rest[at + 5..].trim_start_matches(|c: char| c.is_ascii_digit());
    }
    out.push_str(rest);
    out
}

/// `keys` of findings in `old`, with their lines moved to where those lines are in `new`.
fn follow(keys: &[Key3], old: &str, new: &str) -> Vec<Key3> {
    if keys.is_empty() || old == new {
        return keys.to_vec();
    }
    let diff = similar::TextDiff::from_lines(old, new);
    let ops = diff.ops();
    keys.iter()
        .map(|k| {
            let at = k.line - 1;
            let line = ops
                .iter()
                .map(|op| op.as_tag_tuple())
                .find(|(_, old_lines, _)| old_lines.contains(&at))
                .map_or(k.line, |(tag, old_lines, new_lines)| match tag {
                    similar::DiffTag::Equal => new_lines.start + (at - old_lines.start) + 1,
                    _ => new_lines.start + 1,
                });
            Key3 { line, ..k.clone() }
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    applied: usize,
    declined: usize,
    suppressed: usize,
    without_fix: usize,
    files_written: usize,
}

struct Session<'p> {
    project: &'p Project,
    level: Applicability,
    term: Term,
    out: anstream::Stdout,
    tally: Tally,
    problems: Vec<FileProblem>,
}

pub fn run(args: FixArgs) -> Result<ExitCode> {
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        bail!(
            "`djopt fix --interactive` asks about each fix and needs a terminal; without one, review the fixes with `djopt diff` and apply them with `djopt fix`"
        );
    }
    let started = Instant::now();
    let project = Project::load(&args.common.paths, &super::overrides(&args.common))?;
    let level = if project.settings.unsafe_fixes {
        Applicability::Unsafe
    } else {
        Applicability::Safe
    };
    let mut session = Session {
        project: &project,
        level,
        term: Term::stdout(),
        out: anstream::stdout(),
        tally: Tally::default(),
        problems: Vec::new(),
    };
    for path in &project.targets {
        if session.review_file(path)? == Answer::Quit {
            break;
        }
    }
    let t = &session.tally;
    writeln!(
        session.out,
        "Applied {} fix{}, declined {}, suppressed {}; {} finding{} without a fix to apply; {} file{} written ({}).",
        t.applied,
        if t.applied == 1 { "" } else { "es" },
        t.declined,
        t.suppressed,
        t.without_fix,
        if t.without_fix == 1 { "" } else { "s" },
        t.files_written,
        if t.files_written == 1 { "" } else { "s" },
        style::duration(started.elapsed())
    )?;
    let fatal = super::print_problems(&session.problems);
    Ok(if fatal {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

impl Session<'_> {
    /// Ask about every fix of one file, then write it. Returns Quit when the user quit.
    fn review_file(&mut self, path: &Path) -> Result<Answer> {
        let source = match self.project.read(path) {
            Ok(source) => source,
            Err(p) => {
                self.problems.push(p);
                return Ok(Answer::No);
            }
        };
        let mut text = source.text.clone();
        let mut declined: Vec<Key3> = Vec::new();
        let mut listed: Vec<Key3> = Vec::new();
        let mut outcome = Answer::No;
        loop {
            let diagnostics = match self.project.analyze_text(path, &text) {
                Ok(d) => d,
                Err(p) => {
                    self.problems.push(p);
                    break;
                }
            };
            let current = source.with_text(text.clone());
            let without_fix: Vec<&Diagnostic> =
                diagnostics.iter().filter(|d| !self.applicable(d)).collect();
            for d in without_fix {
                if !listed.contains(&key(&text, d)) {
                    self.list_without_fix(&current, d)?;
                    listed.push(key(&text, d));
                }
            }
            let pending: Vec<&Diagnostic> = diagnostics
                .iter()
                .filter(|d| self.applicable(d) && !declined.contains(&key(&text, d)))
                .collect();
            let Some(&d) = pending.first() else { break };
            self.show(&current, d, pending.len())?;
            let answer = self.ask()?;
            match answer {
                Answer::Yes => match self.apply(&current, |t, x| key(t, x) == key(&text, d)) {
                    Some(new) => {
                        declined = follow(&declined, &text, &new);
                        listed = follow(&listed, &text, &new);
                        text = new;
                    }
                    None => declined.push(key(&text, d)),
                },
                Answer::All => {
                    // The passes after the first see the declined findings moved.
                    let moved: std::cell::RefCell<Option<(String, Vec<Key3>)>> =
                        std::cell::RefCell::new(None);
                    let wanted = |t: &str, x: &Diagnostic| {
                        if t == text {
                            return !declined.contains(&key(t, x));
                        }
                        let mut moved = moved.borrow_mut();
                        if moved.as_ref().is_none_or(|(seen, _)| seen != t) {
                            *moved = Some((t.to_string(), follow(&declined, &text, t)));
                        }
                        let (_, keys) = moved.as_ref().expect("just set");
                        !keys.contains(&key(t, x))
                    };
                    if let Some(new) = self.apply(&current, wanted) {
                        text = new;
                    }
                    // Whatever is still pending now could not be applied: stop asking.
                    outcome = Answer::Done;
                }
                Answer::No => {
                    self.tally.declined += 1;
                    declined.push(key(&text, d));
                }
                Answer::Suppress => match self.suppress(&current, d) {
                    Some(new) => {
                        self.tally.suppressed += 1;
                        declined = follow(&declined, &text, &new);
                        listed = follow(&listed, &text, &new);
                        text = new;
                    }
                    None => declined.push(key(&text, d)),
                },
                Answer::Done | Answer::Quit => {
                    self.tally.declined += pending.len();
                    outcome = answer;
                }
            }
            if matches!(outcome, Answer::Done | Answer::Quit) {
                break;
            }
        }
        if text != source.text {
            match write_atomic(&source, &text) {
                Ok(()) => self.tally.files_written += 1,
                Err(p) => self.problems.push(p),
            }
        }
        Ok(outcome)
    }

    fn applicable(&self, d: &Diagnostic) -> bool {
        d.fix.as_ref().is_some_and(|f| {
            f.applicability >= self.level && f.applicability > Applicability::Suggestion
        })
    }

    /// The fixes `wanted` accepts, through the project's fix loop (re-parse, rollback); the
    /// new text, or None when nothing changed (the reason is printed).
    fn apply(
        &mut self,
        current: &SourceFile,
        wanted: impl Fn(&str, &Diagnostic) -> bool,
    ) -> Option<String> {
        match self
            .project
            .fix_source_where(current.clone(), self.level, &wanted)
        {
            Ok(fixed) if fixed.fixed != current.text => {
                self.tally.applied += fixed.applied.len();
                Some(fixed.fixed)
            }
            Ok(_) => {
                let _ = writeln!(self.out, "This fix changes nothing now; skipped.\n");
                None
            }
            Err(p) => {
                let _ = writeln!(self.out, "Not applied: {}\n", p.message);
                None
            }
        }
    }

    /// Add `# djopt: ignore[CODE]` to the finding's line (or its loop's line when the finding's
    /// line cannot carry a comment), and check the finding is gone.
    fn suppress(&mut self, current: &SourceFile, d: &Diagnostic) -> Option<String> {
        let lines = std::iter::once(d.start).chain(d.also_suppressed_at.iter().copied());
        for offset in lines {
            let Some(new) = with_suppression(&current.text, offset, d.rule) else {
                continue;
            };
            let still_there = match self.project.analyze_text(&current.path, &new) {
                Ok(diagnostics) => diagnostics
                    .iter()
                    .any(|x| key(&new, x) == key(&current.text, d)),
                Err(_) => true,
            };
            if !still_there {
                return Some(new);
            }
        }
        let _ = writeln!(
            self.out,
            "Cannot add a comment on this line (it is inside a string or continues on the next one); add `# djopt: ignore[{}]` by hand.\n",
            d.rule
        );
        None
    }

    fn show(&mut self, current: &SourceFile, d: &Diagnostic, pending: usize) -> Result<()> {
        let fix = d
            .fix
            .as_ref()
            .expect("asked only about findings with a fix");
        let (line, col) = current.line_col(d.start);
        let safety = match fix.applicability {
            Applicability::Safe => paint(true, style::SAFE, "safe"),
            _ => paint(true, style::UNSAFE, fix.applicability.as_str()),
        };
        let (preview, _) = apply_fixes(&current.text, &[fix]);
        let diff = render::diff::unified(&display(&current.path), &current.text, &preview);
        write!(
            self.out,
            "{}:{line}:{col}: {} {}\n{} fix ({safety}): {}{}\n{}",
            paint(true, style::PATH, current.path.display()),
            paint(true, style::CODE, d.rule),
            d.message,
            paint(true, style::GUTTER, "="),
            fix.message,
            if pending > 1 {
                format!(" ({} more in this file)", pending - 1)
            } else {
                String::new()
            },
            render::diff::colorize(&diff)
        )?;
        Ok(())
    }

    fn list_without_fix(&mut self, current: &SourceFile, d: &Diagnostic) -> Result<()> {
        self.tally.without_fix += 1;
        let report = Report {
            path: current.path.clone(),
            source: current,
            diagnostic: d,
            measured: None,
        };
        let why = match &d.fix {
            Some(f) if f.applicability == Applicability::Unsafe => {
                "its fix is unsafe: run with --unsafe-fixes to be asked about it"
            }
            Some(_) => "a suggestion only: no automatic fix",
            None => "no automatic fix",
        };
        write!(
            self.out,
            "{}{} {}\n\n",
            render::text::render_styled(std::slice::from_ref(&report), false),
            paint(true, style::GUTTER, "="),
            paint(true, style::DIM, why)
        )?;
        Ok(())
    }

    /// One key, as `git add -p` reads it; Ctrl-C and end of input count as quit.
    fn ask(&mut self) -> Result<Answer> {
        loop {
            write!(
                self.out,
                "{} ",
                paint(true, style::EMPHASIS, "Apply this fix [y,n,a,d,s,q,?]?")
            )?;
            self.out.flush()?;
            let key = match self.term.read_key() {
                Ok(key) => key,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Key::Char('q'),
                Err(e) => return Err(e.into()),
            };
            let c = match key {
                Key::Char(c) => c.to_ascii_lowercase(),
                Key::CtrlC | Key::Escape => 'q',
                _ => '?',
            };
            writeln!(self.out, "{c}")?;
            let answer = match c {
                'y' => Answer::Yes,
                'n' => Answer::No,
                'a' => Answer::All,
                'd' => Answer::Done,
                's' => Answer::Suppress,
                'q' => Answer::Quit,
                _ => {
                    write!(self.out, "{}", paint(true, style::DIM, HELP))?;
                    continue;
                }
            };
            writeln!(self.out)?;
            return Ok(answer);
        }
    }
}

fn display(path: &Path) -> std::path::PathBuf {
    path.strip_prefix(".").unwrap_or(path).to_path_buf()
}

/// The text with `code` suppressed on the line holding `offset`: added to a `djopt:
/// ignore[...]` already there, or as a new comment at the end of the line, before its line
/// ending (`\n` or `\r\n`, as the file has it). None when the end of the line is inside a
/// string, or the comment would break the syntax (a line continued with `\`).
pub fn with_suppression(text: &str, offset: usize, code: &str) -> Option<String> {
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = text[line_start..line_end].trim_end_matches('\r');
    let content_end = line_start + line.trim_end().len();
    let tree = crate::syntax::parse::parse(text)?;
    if inside_string(&tree, content_end) {
        return None;
    }
    let new = if let Some(at) = line.find("djopt: ignore[") {
        let close = line[at..].find(']')? + at;
        let mut new = text.to_string();
        new.insert_str(line_start + close, &format!(", {code}"));
        new
    } else {
        let mut new = text.to_string();
        new.insert_str(content_end, &format!("  # djopt: ignore[{code}]"));
        new
    };
    let tree = crate::syntax::parse::parse(&new)?;
    (crate::syntax::parse::error_count(&tree) == 0).then_some(new)
}

/// True when the byte at `offset - 1`..`offset` belongs to a string literal that goes on after
/// `offset` (a triple-quoted string spanning lines).
fn inside_string(tree: &tree_sitter::Tree, offset: usize) -> bool {
    let Some(mut node) = tree
        .root_node()
        .descendant_for_byte_range(offset.saturating_sub(1), offset)
    else {
        return false;
    };
    loop {
        if node.node_kind() == "string" && node.start_byte() < offset && node.end_byte() > offset {
            return true;
        }
        match node.parent() {
            Some(parent) => node = parent,
            None => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_their_lines_when_a_fix_adds_lines_above() {
        let k = |line| Key3 {
            rule: "ORM101",
            message: without_line_numbers("`b.author` for each row of the loop on line 7"),
            code: "b.author".into(),
            line,
        };
        assert_eq!(k(1).message, "`b.author` for each row of the loop on line ");
        let old = "a\nb = [x for x in y]\nc\nd\n";
        let new = "a\nb = [\n    x for x in y\n]\nc\nd\n";
        let moved = follow(&[k(1), k(3), k(4)], old, new);
        assert_eq!(moved.iter().map(|k| k.line).collect::<Vec<_>>(), [1, 5, 6]);
        assert_eq!(follow(&[k(3)], old, old), [k(3)]);
    }

    #[test]
    fn suppression_goes_before_the_line_ending() {
        let text = "for b in qs:\r\n    print(b.author)\r\n";
        let at = text.find("b.author").unwrap();
        assert_eq!(
            with_suppression(text, at, "ORM101").unwrap(),
            "for b in qs:\r\n    print(b.author)  # djopt: ignore[ORM101]\r\n"
        );
        let text = "print(b.author)";
        assert_eq!(
            with_suppression(text, 6, "ORM101").unwrap(),
            "print(b.author)  # djopt: ignore[ORM101]"
        );
    }

    #[test]
    fn suppression_joins_an_existing_list() {
        let text = "print(b.author)  # djopt: ignore[ORM102]\n";
        assert_eq!(
            with_suppression(text, 6, "ORM101").unwrap(),
            "print(b.author)  # djopt: ignore[ORM102, ORM101]\n"
        );
    }

    #[test]
    fn no_suppression_inside_a_string_or_after_a_backslash() {
        let text = "x = f\"\"\"{b.author}\nmore\"\"\"\n";
        assert_eq!(
            with_suppression(text, text.find("b.author").unwrap(), "ORM101"),
            None
        );
        let text = "x = b.author + \\\n    1\n";
        assert_eq!(with_suppression(text, 4, "ORM101"), None);
    }
}
