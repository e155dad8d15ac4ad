//! Bakes libtorch's directory into an rpath of this crate's test and bench binaries, so they run
//! without LD_LIBRARY_PATH. torch-sys (links = "tch") exports the directory it linked against.

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    if let Ok(dir) = std::env::var("DEP_TCH_LIBTORCH_LIB") {
        // The real path: libtorch's own libraries find the CUDA runtime relative to theirs.
        let dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.into());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
}
