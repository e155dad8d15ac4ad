//! Bakes libtorch's directory (exported by torch-sys, `links = "tch"`) into an rpath of the
//! binaries of the crates that use it (the `kale` binary; the tests, benches and doc tests of
//! `kale-trainer` and `kale-experiment`, which name this file as their build script), so they run
//! without LD_LIBRARY_PATH.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        // The real path: libtorch's own libraries find the CUDA runtime relative to theirs.
        let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.into());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
