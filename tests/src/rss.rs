//! A process's resident memory from `/proc/<pid>/status`, for measurements that go into
//! reports and docs. Tests print it; they never assert on it.

/// `VmRSS` of process `pid` in KiB, or `None` when it cannot be read (not Linux, gone).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        assert!(rss_kib(std::process::id()).is_some_and(|kib| kib > 0));
    }
}
