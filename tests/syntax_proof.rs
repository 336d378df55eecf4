//! Phase 2 proves that a file with findings parses from its kept parts and its rest parsed apart
//! (`Parts::rest_proves_whole`). On the test projects and 40 mutants of each of their files with
//! a syntax error put in, the proof never says yes where a parse of the whole file finds an
//! error, and it does say yes for the files that parse (it is not vacuous).
//! `cargo run --release --example syntax_proof -- CORPUS 100` does the same on the corpus.

mod common;
#[path = "common/mutants.rs"]
mod mutants;

use std::path::Path;

#[test]
fn the_syntax_proof_never_passes_a_file_that_does_not_parse() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // (The bundled example's files hold little but what can hold a finding: nothing is left
    // out to prove.)
    for project in ["tests/fixtures", "tests/e2e/project"] {
        let probe = mutants::probe(&root.join(project), 40, 7);
        assert!(
            probe.false_proofs.is_empty(),
            "{project}: false proofs in {:?}",
            probe.false_proofs.iter().map(|f| &f.0).collect::<Vec<_>>()
        );
        assert!(probe.checked > 50, "{project}: {probe:?}");
        assert!(probe.proven > 0, "{project}: {probe:?}");
        // Mutants that break the file are caught, not proven.
        assert!(probe.whole_ok < probe.checked, "{project}: {probe:?}");
        eprintln!("{project}: {probe:?}");
    }
}

/// A file made for the proof: kept functions and methods between left-out ones, module-level
/// statements between them, a class kept in part. Its mutants hit the cases the guards are for
/// (a statement left incomplete at a range's end, code the outline misreads into no part).
#[test]
fn the_syntax_proof_on_a_file_of_kept_and_left_out_parts() {
    let dir = common::small::project();
    let root = dir.path();
    let kept = "    for b in Book.objects.all():\n        print(b.author.name)\n";
    let left_out = "    total = 0\n    for i in range(3):\n        total += i\n    return total\n";
    let mut text =
        String::from("\"\"\"Reports.\"\"\"\nfrom shop.models import Book\n\nLIMIT = 3\n");
    for i in 0..4 {
        text += &format!(
            "\n\ndef kept_{i}():\n{kept}\n\nNAME_{i} = \"x\"\n\n\ndef left_{i}():\n{left_out}\nVALUE_{i} = (1,\n    2)\n"
        );
    }
    text += "\n\nclass Report:\n    limit = 3\n\n    @property\n    def left(self):\n        return 1\n\n    def kept(self):\n";
    text += &kept.replace("    ", "        ");
    text += "\n    def also_left(self):\n        return [i for i in range(3)]\n";
    std::fs::write(root.join("shop/reports.py"), text).unwrap();
    let probe = mutants::probe(root, 3000, 11);
    assert!(
        probe.false_proofs.is_empty(),
        "false proofs: {:?}",
        probe
            .false_proofs
            .iter()
            .map(|f| &f.1)
            .take(2)
            .collect::<Vec<_>>()
    );
    assert!(
        probe.proven > 100 && probe.whole_ok < probe.checked,
        "{probe:?}"
    );
}
