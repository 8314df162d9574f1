//! Memory figures of a running process, for the benchmarks.

/// A `kB` figure of `/proc/<pid>/status` (e.g. `VmHWM`, `VmRSS`), in bytes.
fn status_kb(pid: u32, key: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc is readable");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|v| v.strip_prefix(':')))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("{key} in /proc/<pid>/status"));
    kb * 1024
}

/// Peak resident set size of process `pid` so far (`VmHWM`), in bytes.
pub fn peak_rss(pid: u32) -> u64 {
    status_kb(pid, "VmHWM")
}

/// Resident set size of process `pid` now (`VmRSS`), in bytes.
pub fn rss(pid: u32) -> u64 {
    status_kb(pid, "VmRSS")
}

/// Resets the peak of process `pid` to its resident size now (Linux `clear_refs` 5), so that
/// [`peak_rss`] afterwards is the peak of what follows; `false` when the kernel refused.
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}
