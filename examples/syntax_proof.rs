//! Does phase 2's proof that a file parses (its kept parts and its rest parsed apart, see
//! `Parts::rest_proves_whole`) ever say yes where a parse of the whole file finds an error?
//!
//! `cargo run --release --example syntax_proof -- PROJECT [MUTANTS] [SEED]` reads every Python
//! file of PROJECT as `djopt check` does, and MUTANTS copies of each with a syntax error put in
//! at random (text inserted at a line's start, end or middle, a line or a byte deleted). For
//! every text whose kept parts parse, it compares the proof with a whole parse, and exits with
//! status 1 on a false proof (the text is written to `/tmp/djopt-false-proof-N.py`).
//! `tests/syntax_proof.rs` runs the same on the test projects.

#[path = "../tests/common/mutants.rs"]
mod mutants;

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
    let probe = mutants::probe(std::path::Path::new(root), count, seed);
    for (n, (file, text)) in probe.false_proofs.iter().enumerate() {
        let saved = format!("/tmp/djopt-false-proof-{}.py", n + 1);
        eprintln!("false proof: {file} (saved as {saved})");
        let _ = std::fs::write(saved, text);
    }
    println!(
        "texts with kept parts that parse: {}, proven: {}, parse whole: {}, false proofs: {}",
        probe.checked,
        probe.proven,
        probe.whole_ok,
        probe.false_proofs.len()
    );
    std::process::exit(i32::from(!probe.false_proofs.is_empty()));
}
