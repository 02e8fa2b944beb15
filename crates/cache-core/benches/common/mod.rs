//! Fixtures shared by the cache-core benchmarks: a cache for computer `me`
//! holding `n` sessions of 10 remote computers, each about the size of a
//! real agent session (~420 bytes of JSON).

use cache_core::{CacheConfig, DaemonCache};
use model::{Computer, Interest, Session, SessionStatus, SystemClock, Timestamp};
use std::sync::Arc;

/// Remote computers the sessions belong to.
pub const COMPUTERS: usize = 10;

fn computer(name: &str) -> Computer {
    Computer {
        name: name.into(),
        online: true,
        is_self: true,
        host: name.into(),
        user: "bench".into(),
        version: "0".into(),
        boot_id: format!("boot-{name}"),
        started_at: Timestamp::from_millis(0),
        last_seen: Timestamp::from_millis(0),
        remote_writes: false,
        stats: None,
        interest: Interest::default(),
    }
}

/// Session `i` (owned by computer `c{i % 10}`) at revision `rev`.
pub fn session(i: usize, rev: u64) -> Session {
    let owner = format!("c{}", i % COMPUTERS);
    let at = 1_800_000_000_000
        + i64::try_from(i).unwrap_or(0)
        + i64::try_from(rev).unwrap_or(0) * 1_000_000;
    Session {
        session_id: format!("00000000-0000-4000-8000-{i:012}"),
        title: format!(
            "refactor the {owner} parser, step {i}: split the tokenizer from the AST builder"
        ),
        project_path: Some(format!("/home/dev/src/{owner}/project-{:03}", i % 50)),
        computer: owner,
        agent: "claude".into(),
        thinking_mode: Some("extended".into()),
        status: SessionStatus::Active,
        created_at: Timestamp::from_millis(1_700_000_000_000),
        last_activity: Timestamp::from_millis(at),
        last_input: None,
        last_output: None,
        rev,
        stale: false,
    }
}

/// A cache holding sessions `0..n`, each at revision 1.
pub fn cache_with(n: usize) -> DaemonCache {
    let cache = DaemonCache::new(
        computer("me"),
        CacheConfig::default(),
        Arc::new(SystemClock),
    );
    for i in 0..n {
        cache.put_session(session(i, 1));
    }
    cache
}
