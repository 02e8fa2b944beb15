//! `fleet sessions [--computer X]`: `GET /v1/sessions`, newest activity first, stale
//! sessions (their owner is offline) marked.

use crate::age::ago;
use crate::client::http::{HttpClient, with_query};
use crate::commands::{now, print, print_body};
use crate::error::FleetError;
use crate::table::Table;
use crate::text::{base_name, truncate};
use model::{Session, Timestamp};

/// Titles longer than this are cut in the table.
const TITLE_WIDTH: usize = 40;

/// Runs the command.
///
/// # Errors
/// When the daemon cannot be asked or the output cannot be written.
pub async fn run(
    client: &HttpClient,
    json: bool,
    computer: Option<&str>,
) -> Result<(), FleetError> {
    let answer = client
        .get(&with_query("/v1/sessions", &[("computer", computer)]))
        .await?;
    if json {
        return print_body(&answer.body);
    }
    let sessions: Vec<Session> = answer.json()?;
    print(&table(&sessions, now()))
}

/// The human table, ages counted to `now`.
pub fn table(sessions: &[Session], now: Timestamp) -> String {
    if sessions.is_empty() {
        return "No sessions.\n".into();
    }
    let mut t = Table::new(&[
        "ID",
        "COMPUTER",
        "STATUS",
        "TITLE",
        "PROJECT",
        "AGENT",
        "LAST ACTIVITY",
    ]);
    for s in sessions {
        let status = if s.stale {
            format!("{} (STALE)", s.status.as_str())
        } else {
            s.status.as_str().to_owned()
        };
        t.row(vec![
            s.session_id.clone(),
            s.computer.clone(),
            status,
            truncate(&s.title, TITLE_WIDTH),
            s.project_path.as_deref().map_or("-", base_name).to_owned(),
            s.agent.clone(),
            ago(s.last_activity, now),
        ]);
    }
    t.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::SessionStatus;

    #[test]
    fn stale_sessions_are_marked() {
        let now = Timestamp::from_millis(10_000_000);
        let s = |id: &str, stale: bool, ago_s: i64| Session {
            session_id: id.into(),
            computer: "beta".into(),
            title: "Fix\nthe flaky test".into(),
            project_path: Some("/home/ana/src/fleet".into()),
            agent: "claude".into(),
            thinking_mode: None,
            status: SessionStatus::Idle,
            created_at: Timestamp::from_millis(0),
            last_activity: Timestamp::from_millis(10_000_000 - ago_s * 1000),
            last_input: None,
            last_output: None,
            rev: 1,
            stale,
        };
        assert_eq!(
            table(&[s("s-1", false, 180), s("s-2", true, 7200)], now),
            "ID   COMPUTER  STATUS        TITLE               PROJECT  AGENT   LAST ACTIVITY\n\
             s-1  beta      idle          Fix the flaky test  fleet    claude  3m ago\n\
             s-2  beta      idle (STALE)  Fix the flaky test  fleet    claude  2h ago\n"
        );
        assert_eq!(table(&[], now), "No sessions.\n");
    }
}
