//! This computer's record as the daemon announces it: name, host, user,
//! version, a boot id that changes at every start, and whether it accepts
//! forwarded writes.

use model::{Clock, Computer, Interest};

/// The record of this computer at start.
pub fn local_computer(name: &str, remote_writes: bool, clock: &dyn Clock) -> Computer {
    let now = clock.now();
    Computer {
        name: name.to_owned(),
        online: true,
        is_self: true,
        host: crate::config::system_host_name()
            .ok()
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| name.to_owned()),
        user: user_name(),
        version: model::VERSION.to_owned(),
        boot_id: uuid::Uuid::new_v4().to_string(),
        started_at: now,
        last_seen: now,
        remote_writes,
        stats: None,
        interest: Interest::default(),
    }
}

fn user_name() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| format!("uid {}", crate::config::current_uid()))
}
