//! `fleet computers`: `GET /v1/computers`, this computer first, offline ones marked, with
//! each one's load and whether it accepts remote writes.

use crate::age::ago;
use crate::client::http::HttpClient;
use crate::commands::{now, print, print_body};
use crate::error::FleetError;
use crate::load;
use crate::table::Table;
use model::{Computer, Timestamp};

/// Runs the command.
///
/// # Errors
/// When the daemon cannot be asked or the output cannot be written.
pub async fn run(client: &HttpClient, json: bool) -> Result<(), FleetError> {
    let answer = client.get("/v1/computers").await?;
    if json {
        return print_body(&answer.body);
    }
    let computers: Vec<Computer> = answer.json()?;
    print(&table(&computers, now()))
}

/// The human table, ages counted to `now`.
pub fn table(computers: &[Computer], now: Timestamp) -> String {
    if computers.is_empty() {
        return "No computers.\n".into();
    }
    let mut t = Table::new(&[
        "NAME",
        "STATE",
        "HOST",
        "USER",
        "VERSION",
        "STARTED",
        "LAST SEEN",
        "LOAD",
        "MEMORY",
        "DISK FREE",
        "REMOTE WRITES",
    ]);
    for c in computers {
        let name = if c.is_self {
            format!("{} (self)", c.name)
        } else {
            c.name.clone()
        };
        t.row(vec![
            name,
            if c.online { "online" } else { "OFFLINE" }.into(),
            c.host.clone(),
            c.user.clone(),
            c.version.clone(),
            ago(c.started_at, now),
            ago(c.last_seen, now),
            load::load(c),
            load::memory(c),
            load::disk(c),
            load::writes(c),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Interest;

    fn computer(name: &str, online: bool, is_self: bool, seen_s: i64) -> Computer {
        Computer {
            name: name.into(),
            online,
            is_self,
            host: format!("{name}.lan"),
            user: "ana".into(),
            version: "0.1.0".into(),
            boot_id: "b".into(),
            started_at: Timestamp::from_millis(1_000_000),
            last_seen: Timestamp::from_millis(1_000_000 + seen_s * 1000),
            remote_writes: false,
            stats: None,
            interest: Interest::default(),
        }
    }

    fn loaded(mut c: Computer) -> Computer {
        c.remote_writes = true;
        c.stats = Some(model::ComputerStats {
            load1: 0.52,
            cpus: 8,
            mem_used: 4 << 30,
            mem_total: 16 << 30,
            disk_free: 120 << 30,
        });
        c
    }

    #[test]
    fn offline_computers_are_marked() {
        let now = Timestamp::from_millis(1_000_000 + 3_600_000);
        let text = table(
            &[
                loaded(computer("alpha", true, true, 3_600)),
                computer("beta", false, false, 3_000),
            ],
            now,
        );
        assert_eq!(
            text,
            "NAME          STATE    HOST       USER  VERSION  STARTED  LAST SEEN  LOAD    MEMORY    DISK FREE  REMOTE WRITES\n\
             alpha (self)  online   alpha.lan  ana   0.1.0    1h ago   just now   0.52/8  4.0G/16G  120G       yes\n\
             beta          OFFLINE  beta.lan   ana   0.1.0    1h ago   10m ago    -       -         -          no\n"
        );
        assert_eq!(table(&[], now), "No computers.\n");
    }
}
