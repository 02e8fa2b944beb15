//! Smoke test: `bench all --quick` runs every scenario briefly (its own
//! Redis and daemons, small sizes, short windows) and each prints its
//! `result:` line. Nothing here looks at a number: benchmarks are never
//! timed assertions. The only bound is a watchdog against a hung run. The
//! soak is not part of `all` and must not run here.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The scenarios `all` runs.
const SCENARIOS: [&str; 7] = [
    "read",
    "propagate",
    "forward",
    "throughput",
    "idle",
    "fanout",
    "memory",
];

/// Far above a normal smoke run (about 30 s here): only a hang reaches it.
const WATCHDOG: Duration = Duration::from_secs(600);

#[test]
fn every_scenario_runs_in_quick_mode() {
    let dir = tempfile::tempdir().expect("temp dir");
    let markdown = dir.path().join("results.md");
    let mut child = Command::new(env!("CARGO_BIN_EXE_bench"))
        .args(["all", "--quick", "--markdown"])
        .arg(&markdown)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the bench binary");
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let out_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("poll the bench") {
            break status;
        }
        if started.elapsed() > WATCHDOG {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bench all --quick still ran after {WATCHDOG:?} (hung?)");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let out = out_reader.join().expect("stdout reader");
    let err = err_reader.join().expect("stderr reader");
    assert!(
        status.success(),
        "bench all --quick failed ({status})\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
    );
    for name in SCENARIOS {
        assert!(
            out.contains(&format!("result: {name}: done")),
            "no result line for {name}\n--- stdout ---\n{out}\n--- stderr ---\n{err}"
        );
    }
    assert!(
        !out.contains("=== soak ==="),
        "`all` must not run the soak (it runs for many minutes, by name only)\n{out}"
    );
    let table = std::fs::read_to_string(&markdown).expect("the --markdown file was written");
    for name in SCENARIOS {
        assert!(
            table.contains(&format!("| {name} |")),
            "{name} missing from the markdown table:\n{table}"
        );
    }
}
