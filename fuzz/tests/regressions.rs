//! Every seed of `fuzz/corpus/TARGET/` and every input a campaign found (`fuzz/regressions/TARGET/`,
//! crashes and hangs once fixed) through its target: a fix that regresses fails here, in CI,
//! without AFL.

use std::path::Path;

#[test]
fn every_seed_and_every_finding_runs_through_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, target) in kale_fuzz::TARGETS {
        let seeds = kale_fuzz::replay(*target, &root.join("corpus").join(name));
        assert!(seeds > 0, "fuzz/corpus/{name} has no seeds");
        kale_fuzz::replay(*target, &root.join("regressions").join(name));
    }
}
