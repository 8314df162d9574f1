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

/// CPU time process `pid` has used so far (user and system, all threads), in seconds, from
/// `/proc/<pid>/stat` (fields 14 and 15, in clock ticks of 1/100 s, as on every Linux the
/// benches run on).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("/proc is readable");
    // The command name (field 2) may hold spaces; the fields after it start past its ')'.
    let rest = &stat[stat.rfind(')').expect("a stat line") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields[i].parse::<u64>().expect("a tick count");
    // `rest` starts at field 3, so fields 14 and 15 are at 11 and 12.
    (ticks(11) + ticks(12)) as f64 / 100.0
}

/// The processes whose command line contains `needle` (e.g. Azurite's), by pid.
pub fn pids_with(needle: &str) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).contains(needle))
                .unwrap_or(false)
        })
        .collect()
}
