//! Does phase 2's proof that a file parses (its kept parts and its rest parsed apart, see
//! `Parts::rest_proves_whole`) ever say yes where a parse of the whole file finds an error?
//!
//! `cargo run --release --example syntax_proof -- PROJECT [MUTANTS] [SEED]` reads every Python
//! file of PROJECT as `djopt check` does, and MUTANTS copies of each with a syntax error put in
//! at random (text inserted at a line's start, end or middle, a line or a byte deleted). For
//! every text whose kept parts parse, it compares the proof with a whole parse, and exits with
//! status 1 on a false proof (the text is written to `/tmp/djopt-false-proof-N.py`).

use djopt::parse::{parse, parse_ranges};
use rayon::prelude::*;
use std::path::PathBuf;
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

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(root) = args.first() else {
        eprintln!("usage: syntax_proof PROJECT [MUTANTS] [SEED]");
        std::process::exit(2);
    };
    let count: usize = args
        .get(1)
        .map_or(0, |m| m.parse().expect("MUTANTS: a number"));
    let seed: u64 = args
        .get(2)
        .map_or(0x9E37_79B9_7F4A_7C15, |s| s.parse().expect("SEED"));
    let project = djopt::project::Project::load(&[PathBuf::from(root)], &Default::default())
        .expect("the project loads");
    let (checked, proven, whole_ok, false_proofs) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    project.targets.par_iter().for_each(|path| {
        let Ok(text) = std::fs::read_to_string(path) else {
            return;
        };
        let mut texts = mutants(&text, count, seed);
        texts.push(text);
        for t in texts {
            let Some(parts) = djopt::prefilter::analysis_ranges(
                &t,
                &project.index,
                project.outlines.get(path, &t),
            ) else {
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
                let n = false_proofs.fetch_add(1, Ordering::Relaxed) + 1;
                let saved = format!("/tmp/djopt-false-proof-{n}.py");
                eprintln!("false proof: {} (saved as {saved})", path.display());
                let _ = std::fs::write(saved, &t);
            }
        }
    });
    let false_proofs = false_proofs.into_inner();
    println!(
        "texts with kept parts that parse: {}, proven: {}, parse whole: {}, false proofs: {false_proofs}",
        checked.into_inner(),
        proven.into_inner(),
        whole_ok.into_inner()
    );
    std::process::exit(i32::from(false_proofs > 0));
}
