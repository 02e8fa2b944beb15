//! `fleet refresh [--computer X] [--topic T]...`: `POST /v1/refresh`. The daemon drops
//! the cached data and pulls it again in the background; the answer (202) comes at once.

use crate::cli::TopicArg;
use crate::client::http::HttpClient;
use crate::commands::{print, print_body};
use crate::error::FleetError;
use hyper::Method;
use model::Topic;
use serde_json::{Map, Value, json};

/// Runs the command.
///
/// # Errors
/// When the daemon cannot be asked or refuses, or the output cannot be written.
pub async fn run(
    client: &HttpClient,
    json: bool,
    computer: Option<&str>,
    topics: &[TopicArg],
) -> Result<(), FleetError> {
    let mut body = Map::new();
    if let Some(c) = computer {
        body.insert("computer".into(), json!(c));
    }
    if !topics.is_empty() {
        let names: Vec<&str> = topics.iter().map(|&t| Topic::from(t).as_str()).collect();
        body.insert("topics".into(), json!(names));
    }
    let answer = client
        .send(Method::POST, "/v1/refresh", Some(&Value::Object(body)))
        .await?;
    if json {
        return print_body(&answer.body);
    }
    let whose = computer.map_or_else(|| "every computer".to_owned(), |c| format!("computer {c}"));
    print(&format!(
        "Refresh started: {whose}'s data is being pulled again in the background.\n"
    ))
}
