//! `fleet notify [--exec CMD] [--computer X]... [--existing]`: for every session that
//! starts waiting for a person, anywhere in the fleet, runs CMD (through `sh -c`, with
//! `FLEET_COMPUTER`, `FLEET_SESSION_ID`, `FLEET_TITLE`, `FLEET_MESSAGE`, `FLEET_AGENT`),
//! or `notify-send` when it is installed, else prints a line.
//!
//! Exactly once per wait: the sessions already notified are remembered while they stay
//! waiting, and after a lost connection the subscription resumes with `since` (a
//! snapshot, after a daemon restart, finds them in that set). Waits present at start are
//! not notified unless `--existing`. A wait is one session's stay in `waiting`: leaving
//! it and coming back is a new wait.

use crate::client::protocol::{Resume, ServerFrame};
use crate::client::ws::{self, Incoming};
use crate::endpoint::Endpoint;
use crate::error::FleetError;
use crate::watch::fleet::Fleet;
use crate::watch::view;
use model::{Session, Topic};
use std::collections::BTreeSet;
use std::time::Duration;

/// Runs `fleet notify` until interrupted.
///
/// # Errors
/// Only for output that cannot be written; a lost daemon is retried.
pub async fn run(
    endpoint: &Endpoint,
    exec: Option<&str>,
    computers: &[String],
    existing: bool,
) -> Result<(), FleetError> {
    let mut resume = Resume::default();
    let mut fleet = Fleet::default();
    let mut notified: Option<BTreeSet<String>> = None;
    let has_notify_send = exec.is_none() && on_path("notify-send");
    let mut pause = Duration::from_millis(100);
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        let mut conn = match ws::connect(endpoint).await {
            Ok(conn) => conn,
            Err(e) => {
                eprintln!("fleet notify: {e}; retrying in {} ms", pause.as_millis());
                tokio::select! {
                    _ = &mut interrupted => return Ok(()),
                    () = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(Duration::from_secs(5));
                continue;
            }
        };
        let mut subscribed = true;
        for op in resume.subscribe_ops(&[Topic::Sessions], computers) {
            subscribed &= ws::send_text(&mut conn, op).await.is_ok();
        }
        if !subscribed {
            continue;
        }
        pause = Duration::from_millis(100);
        loop {
            tokio::select! {
                _ = &mut interrupted => {
                    ws::close(&mut conn, Duration::from_millis(500)).await;
                    return Ok(());
                }
                incoming = ws::next_text(&mut conn) => match incoming {
                    Incoming::Text(text) => {
                        let Ok(frame) = ServerFrame::decode(&text) else {
                            eprintln!("fleet notify: ignored a frame that is not of the contract");
                            continue;
                        };
                        resume.note(&frame);
                        let outcome = match frame {
                            ServerFrame::Snapshot { topic, data, .. } => fleet.load(topic, data),
                            ServerFrame::Event { event, data, .. } => fleet.change(event, data),
                            ServerFrame::Error { code, message } => {
                                eprintln!("fleet notify: the daemon refused: {message} ({code})");
                                Ok(())
                            }
                        };
                        if let Err(reason) = outcome {
                            eprintln!("fleet notify: ignored a frame: {reason}");
                            continue;
                        }
                        if !fleet.is_loaded(Topic::Sessions) {
                            continue;
                        }
                        let waiting = view::waiting(&fleet);
                        let first = notified.is_none();
                        let seen = notified.get_or_insert_with(BTreeSet::new);
                        for s in &waiting {
                            if !seen.contains(&s.session_id) && (!first || existing) {
                                fire(s, exec, has_notify_send).await;
                            }
                        }
                        *seen = waiting.iter().map(|s| s.session_id.clone()).collect();
                    }
                    Incoming::Closed(reason) => {
                        eprintln!("fleet notify: connection lost ({reason}); resuming");
                        break;
                    }
                },
            }
        }
    }
}

/// Tells a person about one new wait.
async fn fire(s: &Session, exec: Option<&str>, has_notify_send: bool) {
    let message = s.last_output.clone().unwrap_or_default();
    let env = [
        ("FLEET_COMPUTER", s.computer.as_str()),
        ("FLEET_SESSION_ID", s.session_id.as_str()),
        ("FLEET_TITLE", s.title.as_str()),
        ("FLEET_MESSAGE", message.as_str()),
        ("FLEET_AGENT", s.agent.as_str()),
    ];
    let mut cmd = match exec {
        Some(exec) => {
            let mut c = std::process::Command::new("sh");
            c.args(["-c", exec]);
            c
        }
        None if has_notify_send => {
            let mut c = std::process::Command::new("notify-send");
            c.arg(format!("{} needs you on {}", s.title, s.computer))
                .arg(&message);
            c
        }
        None => {
            println!(
                "{} waiting on {}: {} ({}) {}",
                s.session_id, s.computer, s.title, s.agent, message
            );
            return;
        }
    };
    cmd.envs(env).stdin(std::process::Stdio::null());
    let status = tokio::task::spawn_blocking(move || cmd.status())
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())));
    match status {
        Ok(status) if !status.success() => eprintln!(
            "fleet notify: the command for session {} exited with {status}",
            s.session_id
        ),
        Ok(_) => {}
        Err(e) => eprintln!(
            "fleet notify: cannot run the command for session {}: {e}",
            s.session_id
        ),
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}
