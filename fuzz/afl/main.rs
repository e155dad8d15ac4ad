//! One AFL++ binary for every target: `fuzz TARGET` runs the named one of `kale_fuzz::TARGETS`
//! in AFL's persistent mode (see `scripts/fuzz.sh`).

fn main() {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(&(_, target)) = kale_fuzz::TARGETS.iter().find(|(n, _)| *n == name) else {
        let names: Vec<&str> = kale_fuzz::TARGETS.iter().map(|(n, _)| *n).collect();
        eprintln!("usage: fuzz TARGET (one of {})", names.join(", "));
        std::process::exit(2);
    };
    afl::fuzz!(|data: &[u8]| target(data));
}
