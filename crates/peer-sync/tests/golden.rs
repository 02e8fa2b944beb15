//! The exact bodies of the `event` entries a daemon appends to its events
//! stream (`PROTOCOL.md` section 5): a refactor of how they are built must
//! leave every byte as it is.

mod common;

use common::*;

fn bodies(hub: &MemoryHub, stream: &str) -> Vec<String> {
    hub.entries(stream)
        .iter()
        .map(|e| {
            let env = Envelope::from_fields(&e.fields, None).unwrap();
            assert_eq!(env.kind, Kind::Event);
            String::from_utf8(env.body.to_vec()).unwrap()
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn event_bodies_are_byte_exact() {
    let hub = MemoryHub::new();
    let (mut a, b) = two_online(&hub).await;
    let _sessions = b.watch(Topic::Sessions);
    let _preparation = b.watch(Topic::Preparation);
    until(PERIOD / 2, "a sees b's interest", || {
        a.touch("warm-up");
        hub.appends("fleet:events:{a}") > 0
    })
    .await;
    run_for(Duration::from_millis(100)).await;
    let before = hub.len("fleet:events:{a}");

    let s1 = a.touch("s1");
    a.end("s1");
    a.set_preparation(&["x"], 1);
    until(Duration::from_secs(5), "four more entries", || {
        hub.len("fleet:events:{a}") == before + 4
    })
    .await;
    let got = bodies(&hub, "fleet:events:{a}");
    let session = serde_json::to_string(&s1).unwrap();
    assert_eq!(
        got[before..],
        [
            format!(r#"{{"event":"session_started","data":{session},"rev":1}}"#),
            r#"{"event":"session_closed","data":{"session_id":"s1","computer":"a"},"rev":2}"#
                .to_owned(),
            r#"{"event":"projects_updated","data":{"computer":"a","projects":[{"computer":"a","name":"x","path":"/p/x","description":null}]}}"#
                .to_owned(),
            r#"{"event":"todos_updated","data":{"computer":"a","project_path":"/p/x","todos":[{"computer":"a","project_path":"/p/x","slug":"t0","status":"pending","description":null,"has_requirements":false,"has_impl_plan":false}]}}"#
                .to_owned(),
        ]
    );
}
