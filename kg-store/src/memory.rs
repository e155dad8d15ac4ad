//! What this process holds in memory, as the kernel counts it: the resident set now (which a
//! load's `--memory-limit` is measured against, so what the binary holds before the load starts
//! is taken from the limit) and at its peak (which `kale bench load` reports). Both are 0 where
//! `/proc` is not there. And the one call that hands the allocator's free memory back to the
//! system, between a load's phases and at each rotation of its term map.

/// The resident set now (VmRSS), in bytes.
pub fn resident_bytes() -> u64 {
    status_bytes("VmRSS:")
}

/// The peak resident set so far (VmHWM), in bytes.
pub fn peak_resident_bytes() -> u64 {
    status_bytes("VmHWM:")
}

/// Returns the allocator's free pages to the system. glibc keeps what a phase freed in its
/// arenas, fragmented among what is still live, and counts against the resident set until it is
/// reused: a load's index phase, the same code in two builds, peaked at 421 MB in one run and
/// 540 MB in the other (the 100M world under 440M) by what its reading phase had left there.
pub fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only walks glibc's own arenas under their locks; it touches no
    // memory the program holds.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// One `kB` field of `/proc/self/status`.
fn status_bytes(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn the_peak_is_at_least_what_is_held_now() {
        let now = resident_bytes();
        assert!(now > 0, "/proc/self/status has VmRSS on Linux");
        assert!(peak_resident_bytes() >= now);
    }
}
