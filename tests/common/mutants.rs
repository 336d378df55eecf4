//! Phase 2's syntax proof against whole parses, on a project's files and mutants of them with
//! syntax errors put in (see `Parts::rest_proves_whole`). Used by `tests/syntax_proof.rs` and
//! `examples/syntax_proof.rs` (the whole corpus).
#![allow(dead_code)]

use djopt::syntax::parse::{parse, parse_ranges};
use rayon::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Text put into a line: indentation, brackets, keywords, quotes, continuations.
const INSERTS: &[&str] = &[
    " ", "  ", "    ", "\t", "\n", "\n    ", "(", ")", "]", ":", ",", "*", "'", "\"\"\"", "#",
    "\\\n", "def ", "class", "lambda", "x = ", "@d\n", "else:\n", "if x:\n",
];

fn mutants(text: &str, count: usize, seed: u64) -> Vec<String> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .filter(|&i| i < text.len())
        .collect();
    let mut state = (text.len() as u64) ^ seed | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::new();
    for _ in 0..count {
        if starts.is_empty() {
            break;
        }
        let r = next();
        let at = starts[(r % starts.len() as u64) as usize];
        let end = text[at..].find('\n').map_or(text.len(), |e| at + e);
        let insert = INSERTS[((r >> 20) % INSERTS.len() as u64) as usize];
        let mut middle = at + ((r >> 8) as usize % (end - at + 1));
        while !text.is_char_boundary(middle) {
            middle += 1;
        }
        let mut t = text.to_string();
        match (r >> 40) % 5 {
            0 => t.insert_str(at, insert),
            1 => t.insert_str(end, insert),
            2 => t.replace_range(at..(end + 1).min(text.len()), ""),
            3 if middle < t.len() => {
                t.remove(middle);
            }
            _ => t.insert_str(middle, insert),
        }
        out.push(t);
    }
    out
}

/// What [`probe`] saw.
#[derive(Debug, Default)]
pub struct Probe {
    /// Texts whose kept parts parse (the only ones the proof is asked about).
    pub checked: usize,
    /// Of those, proven to parse whole.
    pub proven: usize,
    /// Of those, parsing whole without an error.
    pub whole_ok: usize,
    /// Proven, yet the whole parse has an error: each text, with the file it came from.
    pub false_proofs: Vec<(String, String)>,
}

/// Every Python file of the project at `root`, and `count` mutants of each.
pub fn probe(root: &Path, count: usize, seed: u64) -> Probe {
    let project = djopt::project::Project::load(&[root.to_path_buf()], &Default::default())
        .expect("the project loads");
    let (checked, proven, whole_ok) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let false_proofs = std::sync::Mutex::new(Vec::new());
    project.targets.par_iter().for_each(|path| {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let mut texts = mutants(&text, count, seed);
        texts.push(text);
        for t in texts {
            let outline = project.outlines.get(path, &t);
            let Some(needles) = project.needles.as_ref() else {
                continue;
            };
            let Some(parts) =
                djopt::prefilter::analysis_ranges(&t, needles, &project.index, outline)
            else {
                continue;
            };
            let Some(kept) = parse_ranges(&t, &parts.keep)
                .filter(|k| !parts.keep.is_empty() && !k.root_node().has_error())
            else {
                continue;
            };
            checked.fetch_add(1, Ordering::Relaxed);
            let proof = parts.rest_proves_whole(&t, &kept);
            let whole = parse(&t).is_some_and(|w| !w.root_node().has_error());
            proven.fetch_add(proof as usize, Ordering::Relaxed);
            whole_ok.fetch_add(whole as usize, Ordering::Relaxed);
            if proof && !whole {
                let file = path.display().to_string();
                false_proofs.lock().unwrap().push((file, t));
            }
        }
    });
    Probe {
        checked: checked.into_inner(),
        proven: proven.into_inner(),
        whole_ok: whole_ok.into_inner(),
        false_proofs: false_proofs.into_inner().unwrap(),
    }
}
