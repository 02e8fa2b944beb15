//! The faults a soak injects, one at a time, chosen with the run's seed.

use super::rng::Rng;
use std::time::Duration;

/// One kind of fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// `redis-server` SIGKILLed and restarted on the same port with its
    /// append-only file (data kept).
    RedisKill,
    /// `redis-server` frozen (SIGSTOP) for the given time, then SIGCONT.
    RedisStall(Duration),
    /// `redis-server` killed and restarted with no data at all.
    RedisEmpty,
    /// A writer daemon (index) SIGKILLed and restarted on its data dir.
    WriterKill(usize),
    /// Every churning WebSocket client drops its connection and resumes
    /// with `since`.
    WatcherChurn,
}

impl Fault {
    /// A random fault; stalls last 5 to 60 s.
    pub fn pick(rng: &mut Rng, writers: usize) -> Self {
        match rng.index(5) {
            0 => Self::RedisKill,
            1 => Self::RedisStall(Duration::from_secs(rng.range(5, 60))),
            2 => Self::RedisEmpty,
            3 => Self::WriterKill(rng.index(writers)),
            _ => Self::WatcherChurn,
        }
    }

    /// Its kind's name, for the report.
    pub fn kind(self) -> &'static str {
        match self {
            Self::RedisKill => "redis SIGKILL + restart",
            Self::RedisStall(_) => "redis SIGSTOP 5-60 s + SIGCONT",
            Self::RedisEmpty => "redis restarted empty",
            Self::WriterKill(_) => "writer daemon SIGKILL + restart",
            Self::WatcherChurn => "watcher WebSocket churn",
        }
    }

    /// Every kind, in report order.
    pub const KINDS: [&'static str; 5] = [
        "redis SIGKILL + restart",
        "redis SIGSTOP 5-60 s + SIGCONT",
        "redis restarted empty",
        "writer daemon SIGKILL + restart",
        "watcher WebSocket churn",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_reachable_and_named() {
        let mut rng = Rng::new(1);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let f = Fault::pick(&mut rng, 2);
            if let Fault::RedisStall(d) = f {
                assert!((5..=60).contains(&d.as_secs()));
            }
            if let Fault::WriterKill(i) = f {
                assert!(i < 2);
            }
            assert!(Fault::KINDS.contains(&f.kind()));
            seen.insert(f.kind());
        }
        assert_eq!(seen.len(), Fault::KINDS.len());
    }
}
