//! The commands the documentation shows are commands djopt accepts: every `djopt …` line of the
//! README, docs/ and action.yml parses with the real command line.

use clap::Parser;
use djopt::cli::Cli;
use std::fs;
use std::path::Path;

const DOCUMENTS: &[&str] = &["README.md", "docs/github-action.md", "action.yml"];

/// `djopt …` command lines in a document (in Markdown, inside code blocks), without prompts,
/// comments and redirections.
fn documented_commands(text: &str, markdown: bool) -> Vec<String> {
    let mut commands = Vec::new();
    let mut in_code = !markdown;
    for line in text.lines() {
        let line = line.trim();
        if markdown && line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if !in_code {
            continue;
        }
        let line = ["$ ", "- run: ", "run: "]
            .iter()
            .fold(line, |l, prefix| l.strip_prefix(prefix).unwrap_or(l));
        if !line.starts_with("djopt ") {
            continue;
        }
        let end = [" #", " >", " |", " &&", ";", "`"]
            .iter()
            .filter_map(|stop| line.find(stop))
            .min()
            .unwrap_or(line.len());
        commands.push(line[..end].trim().to_string());
    }
    commands
}

fn words(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .filter(|w| *w != "$DJOPT_ARGS")
        .map(|w| {
            if w.starts_with('$') {
                "value".into()
            } else {
                w.to_string()
            }
        })
        .collect()
}

#[test]
fn documented_commands_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for document in DOCUMENTS {
        let text = fs::read_to_string(root.join(document)).unwrap();
        for command in documented_commands(&text, document.ends_with(".md")) {
            seen += 1;
            match Cli::try_parse_from(words(&command)) {
                Ok(_) => {}
                Err(e) if e.kind() == clap::error::ErrorKind::DisplayVersion => {}
                Err(e) => panic!("{document}: `{command}` does not parse:\n{e}"),
            }
        }
    }
    assert!(seen >= 20, "only {seen} documented commands found");
}

#[test]
fn the_extraction_finds_commands_and_drops_the_rest() {
    let text = "djopt finds\n```sh\n$ djopt check --format json .   # for tools\n- run: djopt pr --push origin \"$X\" $DJOPT_ARGS\ncargo run -- diff\n```\n";
    let commands = documented_commands(text, true);
    assert_eq!(
        commands,
        [
            "djopt check --format json .",
            "djopt pr --push origin \"$X\" $DJOPT_ARGS"
        ]
    );
    assert_eq!(
        words(&commands[1]),
        ["djopt", "pr", "--push", "origin", "value"]
    );
    assert!(Cli::try_parse_from(words("djopt check --no-such-flag")).is_err());
}
