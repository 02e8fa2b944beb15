//! The liveness set and the record hash on a real `redis-server` (started
//! per test on a free port, killed on drop): beats on the server's clock,
//! expiries reported once to each beater, the whole set, removal, and
//! records kept byte for byte. Waits are bounded polls, never fixed sleeps.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use model::PeerTransport;
use peer_transport_redis::{RedisConfig, RedisTransport, connect};

/// How long any condition may take before a test fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// A throwaway `redis-server` on a free port, killed on drop.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    fn start() -> Self {
        let port = free_port();
        let mut server = Self { port, child: None };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                panic!("redis-server not found: install it with apt-get install -y redis-server")
            }
            Err(e) => panic!("cannot start redis-server: {e}"),
        };
        self.child = Some(child);
        let deadline = Instant::now() + PATIENCE;
        while self.command(&["PING"]).as_deref() != Some("+PONG") {
            assert!(
                Instant::now() < deadline,
                "redis-server did not answer on port {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn config(&self) -> RedisConfig {
        let mut c = RedisConfig::new(self.url());
        c.reconnect_max_delay = Duration::from_millis(200);
        c
    }

    /// One inline command over a fresh socket; the first reply line (bulk
    /// replies: their body, lines joined by `\n`). `None` if unreachable.
    fn command(&self, args: &[&str]) -> Option<String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        s.write_all(format!("{}\r\n", args.join(" ")).as_bytes())
            .ok()?;
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).ok()?;
        let line = line.trim_end().to_string();
        if let Some(len) = line.strip_prefix('$') {
            let len: usize = len.parse().ok()?;
            let mut body = vec![0; len + 2];
            std::io::Read::read_exact(&mut r, &mut body).ok()?;
            body.truncate(len);
            return String::from_utf8(body).ok();
        }
        Some(line)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    l.local_addr().expect("local addr").port()
}

async fn transport(server: &RedisServer) -> RedisTransport {
    connect(server.config())
        .await
        .expect("connect to the test server")
}

const SET: &str = "t:alive";

#[tokio::test]
async fn beats_report_each_expiry_once_on_the_server_clock() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    assert!(t.has_liveness());
    let first = t
        .alive_beat(SET, "a", Duration::from_secs(30), 0)
        .await
        .unwrap();
    assert!(!first.was_alive, "a first beat finds no deadline");
    assert!(first.expired.is_empty());
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        first.now_ms.abs_diff(wall) < 5_000,
        "the server's TIME in ms"
    );
    let again = t
        .alive_beat(SET, "a", Duration::from_secs(30), first.now_ms)
        .await
        .unwrap();
    assert!(again.was_alive);
    assert!(again.now_ms >= first.now_ms);

    // b's deadline passes: a's next beats report it, once.
    let b = t
        .alive_beat(SET, "b", Duration::from_millis(50), 0)
        .await
        .unwrap();
    let mut since = again.now_ms;
    let deadline = Instant::now() + PATIENCE;
    let expired = loop {
        let beat = t
            .alive_beat(SET, "a", Duration::from_secs(30), since)
            .await
            .unwrap();
        since = beat.now_ms;
        if !beat.expired.is_empty() {
            break beat.expired;
        }
        assert!(Instant::now() < deadline, "b never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].0, "b");
    assert_eq!(
        expired[0].1,
        b.now_ms + 50,
        "its deadline, on the server clock"
    );
    let next = t
        .alive_beat(SET, "a", Duration::from_secs(30), since)
        .await
        .unwrap();
    assert!(next.expired.is_empty(), "reported once");

    let set = t.alive_members(SET).await.unwrap();
    assert_eq!(set.members.len(), 2);
    let a = set.members.iter().find(|(m, _)| m == "a").unwrap();
    assert!(a.1 > set.now_ms, "a is alive");
    let late = t
        .alive_beat(SET, "b", Duration::from_secs(30), 0)
        .await
        .unwrap();
    assert!(!late.was_alive, "b finds it expired");

    t.alive_remove(SET, "a").await.unwrap();
    let set = t.alive_members(SET).await.unwrap();
    assert!(set.members.iter().all(|(m, _)| m != "a"));
    assert_eq!(server.command(&["TYPE", SET]).as_deref(), Some("+zset"));
    t.shutdown().await;
}

#[tokio::test]
async fn records_are_kept_byte_for_byte() {
    let server = RedisServer::start();
    let t = transport(&server).await;
    assert!(t.records("t:computers").await.unwrap().is_empty());
    let value: &[u8] = b"{\"body\":\"\xff\x00 \\u00e9\"}";
    t.put_record("t:computers", "alpha", value).await.unwrap();
    t.put_record("t:computers", "beta", b"b").await.unwrap();
    let mut got = t.records("t:computers").await.unwrap();
    got.sort();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].0, "alpha");
    assert_eq!(&got[0].1[..], value);
    t.remove_record("t:computers", "alpha").await.unwrap();
    let got = t.records("t:computers").await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "beta");
    t.shutdown().await;
}
