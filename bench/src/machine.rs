//! The machine the numbers come from: cores, CPU model, memory, kernel,
//! Redis version and the load when the run started (other work running
//! beside the bench shows up there).

use std::fmt::Write as _;

/// A description of this machine, one fact per line.
pub fn describe() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown", |(_, m)| m.trim())
        .to_owned();
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kib: u64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let redis = std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "not found".into());
    let mut out = String::new();
    let _ = writeln!(out, "- CPU: {cores} cores, {model}");
    let _ = writeln!(
        out,
        "- memory: {:.1} GiB",
        mem_kib as f64 / (1024.0 * 1024.0)
    );
    let _ = writeln!(out, "- kernel: Linux {}", kernel.trim());
    let _ = writeln!(out, "- {redis}");
    let _ = writeln!(
        out,
        "- load average at the start (1, 5, 15 min): {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(", ")
    );
    out
}
