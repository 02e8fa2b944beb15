//! `fleet events [--topic T]... [--computer X]...`: subscribes on the WebSocket and
//! prints every frame as one JSON line, exactly as received, until the daemon closes
//! the connection or refuses a subscription (exit 1, with why on stderr), the reader
//! of the output goes away, or fleet is interrupted (exit 0).

use crate::cli::TopicArg;
use crate::client::protocol::{ServerFrame, subscribe_op};
use crate::client::ws::{self, Incoming};
use crate::endpoint::Endpoint;
use crate::error::{ClientError, FleetError};
use model::Topic;
use std::io::{self, Write as _};
use std::time::Duration;

/// Runs the command.
///
/// # Errors
/// When no daemon answers, the connection ends, or the output cannot be written.
pub async fn run(
    endpoint: &Endpoint,
    topics: &[TopicArg],
    computers: &[String],
) -> Result<(), FleetError> {
    let topics: Vec<Topic> = if topics.is_empty() {
        Topic::ALL.to_vec()
    } else {
        let mut t: Vec<Topic> = topics.iter().map(|&t| Topic::from(t)).collect();
        t.dedup();
        t
    };
    let mut ws = ws::connect(endpoint).await?;
    for topic in topics {
        ws::send_text(&mut ws, subscribe_op(topic, computers, None)).await?;
    }
    let interrupted = tokio::signal::ctrl_c();
    tokio::pin!(interrupted);
    loop {
        tokio::select! {
            _ = &mut interrupted => {
                ws::close(&mut ws, Duration::from_millis(500)).await;
                return Ok(());
            }
            incoming = ws::next_text(&mut ws) => match incoming {
                Incoming::Text(line) => {
                    if !print_line(&line)? {
                        // The reader went away (`fleet events | head -3`): done.
                        ws::close(&mut ws, Duration::from_millis(500)).await;
                        return Ok(());
                    }
                    // Only subscriptions were sent: an error frame means one was refused
                    // (e.g. a bad computer name), and nothing would ever come for it.
                    if let Ok(ServerFrame::Error { code, message }) = ServerFrame::decode(&line) {
                        ws::close(&mut ws, Duration::from_millis(500)).await;
                        return Err(ClientError::Refused { code, message }.into());
                    }
                }
                Incoming::Closed(reason) => {
                    return Err(ClientError::Exchange {
                        endpoint: endpoint.describe(),
                        reason: format!("the event stream ended: {reason}"),
                    }
                    .into());
                }
            },
        }
    }
}

/// Writes one line to stdout and flushes it, so a script sees each frame at once.
/// `Ok(false)` when the reader closed the pipe.
fn print_line(line: &str) -> Result<bool, FleetError> {
    let mut out = io::stdout().lock();
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(false),
        Err(e) => Err(FleetError::Output(e)),
    }
}
