//! This computer's load for its record (`stats`): the 1-minute load
//! average and memory from `/proc`, the CPU count, and the free space of
//! the data dir's file system. Sampled every 10 s at most; written to the
//! cache (hence `computer_updated`, and the next heartbeat) only when a
//! value moved noticeably ([`ComputerStats::moved_noticeably`]), so a quiet
//! fleet stays quiet.

use cache_core::DaemonCache;
use model::ComputerStats;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the load is sampled.
pub const STATS_PERIOD: Duration = Duration::from_secs(10);

/// The 1-minute load average from `/proc/loadavg`'s text.
fn parse_loadavg(text: &str) -> Option<f64> {
    text.split_whitespace()
        .next()?
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// `(used, total)` memory in bytes from `/proc/meminfo`'s text: used is
/// total minus available.
fn parse_meminfo(text: &str) -> Option<(u64, u64)> {
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line[name.len()..]
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        kib.checked_mul(1024)
    };
    let total = field("MemTotal:")?;
    let available = field("MemAvailable:").or_else(|| field("MemFree:"))?;
    Some((total.saturating_sub(available), total))
}

/// Free space for unprivileged users of the file system holding `dir`.
fn disk_free(dir: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(dir).ok()?;
    st.f_bavail.checked_mul(st.f_frsize)
}

/// One sample, or `None` where the system does not tell (no `/proc`).
pub fn sample(data_dir: &Path) -> Option<ComputerStats> {
    let load1 = parse_loadavg(&std::fs::read_to_string("/proc/loadavg").ok()?)?;
    let (mem_used, mem_total) = parse_meminfo(&std::fs::read_to_string("/proc/meminfo").ok()?)?;
    let cpus = std::thread::available_parallelism()
        .map_or(1, |n| u32::try_from(n.get()).unwrap_or(u32::MAX));
    Some(ComputerStats {
        load1: (load1 * 100.0).round() / 100.0,
        cpus,
        mem_used,
        mem_total,
        disk_free: disk_free(data_dir).unwrap_or(0),
    })
}

/// Samples every [`STATS_PERIOD`] and writes a noticeable change to the
/// cache, until cancelled.
pub async fn run(cache: DaemonCache, data_dir: PathBuf, cancel: CancellationToken) {
    let mut published: Option<ComputerStats> = None;
    let mut warned = false;
    let mut tick = tokio::time::interval(STATS_PERIOD);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        let dir = data_dir.clone();
        let Ok(now) = tokio::task::spawn_blocking(move || sample(&dir)).await else {
            continue;
        };
        let Some(now) = now else {
            if !warned {
                warned = true;
                tracing::info!(
                    reason = "/proc/loadavg or /proc/meminfo unreadable",
                    "computer load not reported"
                );
            }
            continue;
        };
        if published.is_none_or(|before| now.moved_noticeably(&before)) {
            published = Some(now);
            cache.set_local_stats(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_files() {
        assert_eq!(parse_loadavg("0.52 0.58 0.59 2/345 12345\n"), Some(0.52));
        assert_eq!(parse_loadavg("garbage"), None);
        assert_eq!(parse_loadavg(""), None);
        let meminfo = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    4000000 kB\n";
        assert_eq!(
            parse_meminfo(meminfo),
            Some((12_000_000 * 1024, 16_000_000 * 1024))
        );
        assert_eq!(parse_meminfo("MemTotal: lots\n"), None);
    }

    #[test]
    fn samples_this_machine() {
        let s = sample(Path::new("/")).expect("Linux has /proc");
        assert!(s.cpus >= 1 && s.mem_total > 0 && s.mem_used <= s.mem_total);
    }

    #[test]
    fn only_noticeable_moves_count() {
        const GIB: u64 = 1 << 30;
        let base = ComputerStats {
            load1: 1.0,
            cpus: 8,
            mem_used: 4 * GIB,
            mem_total: 16 * GIB,
            disk_free: 100 * GIB,
        };
        let with = |f: &dyn Fn(&mut ComputerStats)| {
            let mut s = base;
            f(&mut s);
            s
        };
        assert!(!with(&|s| s.load1 = 1.3).moved_noticeably(&base));
        assert!(with(&|s| s.load1 = 1.6).moved_noticeably(&base));
        assert!(!with(&|s| s.mem_used += GIB / 2).moved_noticeably(&base));
        assert!(with(&|s| s.mem_used += GIB).moved_noticeably(&base));
        assert!(!with(&|s| s.disk_free -= 2 * GIB).moved_noticeably(&base));
        assert!(with(&|s| s.disk_free -= 6 * GIB).moved_noticeably(&base));
        assert!(with(&|s| s.cpus = 4).moved_noticeably(&base));
    }
}
