//! Parse → phase 1 → phase 2 → fix on arbitrary bytes (seeded with the rule fixtures): no panic,
//! and every promise in `djopt::invariants` holds.
#![no_main]

use djopt::invariants::Harness;
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures");
        Harness::new(&root).expect("the fixture project loads")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Err(violation) = harness().check(data) {
        panic!("{violation}");
    }
});
