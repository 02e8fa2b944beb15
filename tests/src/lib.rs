//! # fleet-tests: fleet-level test fixtures
//!
//! Real processes on real sockets: the integration tests in `tests/tests/*.rs` start
//! `fleetd` daemons and `redis-server`s, talk to them like a user or another daemon would,
//! and wait for effects with bounded polling, never fixed sleeps. Every fixture cleans up
//! on drop and prints its process's log tail when the test fails.
//!
//! Read first:
//! - [`DaemonFixture`] ([`daemon`], options in [`daemon_builder`]): one `fleetd` with its own
//!   socket, data dir and logs; REST helpers ([`DaemonFixture::http_get`], ...), WebSocket
//!   ([`DaemonFixture::ws`]), `kill`, `terminate`, `restart`.
//! - [`RedisFixture`] ([`redis`]): a throwaway `redis-server` on a free port, with a raw
//!   RESP [`command`](RedisFixture::command) helper ([`resp`]) to inspect streams.
//! - [`assert_eventually!`] and [`eventually()`] ([`eventually`](mod@eventually)): bounded
//!   polling with the last observed value in the failure message.
//! - [`WsClient`] ([`ws`]): JSON over `/v1/ws`, reads with timeouts.
//! - [`http`]: one-shot HTTP/1.1 over a Unix socket or TCP ([`http_request_tcp`]).
//! - [`ClusterFixture`] ([`cluster`]): a throwaway 3-master + 3-replica Redis Cluster, with
//!   the owner of a key, SIGKILL of a node and a wait for the cluster's own failover.
//! - [`ports`]: free loopback ports.
//! - [`limits`]: a daemon with a low open-file limit, raw half-finished connections,
//!   `/proc` figures; [`mounts`]: a small tmpfs to fill and an ext4 image to force
//!   read-only (root only).
//! - [`proxy`]: a TCP proxy in front of Redis that can blackhole (no reset), for partitions.
//! - [`seed`]: a daemon's own sessions written into its store before it starts (fast).
//! - [`raw_ws`]: a WebSocket client that writes hand-made frames, for protocol violations.
//! - [`rss`]: a process's resident memory (`VmRSS`), for measurements, never assertions.
//! - [`TlsFiles`] ([`tls`]): a throwaway CA, server and client certificates (openssl)
//!   for `redis-server --tls-port`.
//! - [`SentinelFixture`] ([`sentinel`]): a master, replicas and three sentinels, for
//!   `redis-sentinel://` and failovers.
//!
//! The `fleetd` binary is `target/<profile>/fleetd` beside the test executable (or
//! `$FLEETD_BIN`); when missing it is built once per test process. `scripts/test.sh` builds
//! every binary first and installs `redis-server` when missing.
//!
//! ```ignore
//! use fleet_tests::{DaemonFixture, RedisFixture, StatusCode, assert_eventually, json};
//!
//! #[tokio::test]
//! async fn a_session_reaches_the_peer() {
//!     let redis = RedisFixture::start().await;
//!     let alpha = DaemonFixture::builder().computer("alpha").redis(redis.url()).start().await;
//!     let beta = DaemonFixture::builder().computer("beta").redis(redis.url()).start().await;
//!     let (status, _) = alpha.http_post_json("/v1/sessions", &json!({"title": "t"})).await;
//!     assert_eq!(status, StatusCode::CREATED);
//!     assert_eventually!(beta.http_get("/v1/sessions").await.1, |v| v
//!         .as_array()
//!         .is_some_and(|a| a.len() == 1));
//! }
//! ```

mod binary;
pub mod cluster;
pub mod daemon;
pub mod daemon_builder;
pub mod eventually;
pub mod http;
pub mod limits;
pub mod mounts;
pub mod ports;
mod process;
pub mod proxy;
pub mod raw_ws;
pub mod redis;
pub mod resp;
pub mod rss;
pub mod seed;
pub mod sentinel;
pub mod tls;
pub mod ws;

pub use binary::{fleet_path, fleetd_path};
pub use cluster::{ClusterBuilder, ClusterFixture};
pub use daemon::{DaemonFixture, TERMINATE_TIMEOUT};
pub use daemon_builder::{DAEMON_START_TIMEOUT, DaemonBuilder};
pub use eventually::{DEFAULT_POLL_INTERVAL, DEFAULT_TIMEOUT, Outcome, Poller, eventually};
pub use http::{RawResponse, body_json, http_request_tcp, try_http_request_tcp};
pub use ports::{free_addr, free_port};
pub use proxy::TcpProxy;
pub use redis::{RedisBuilder, RedisFixture};
pub use resp::RespValue;
pub use sentinel::SentinelFixture;
pub use tls::TlsFiles;
pub use ws::WsClient;

pub use bytes::Bytes;
pub use hyper::{HeaderMap, Method, StatusCode};
pub use serde_json::{Value, json};
pub use tokio_tungstenite::tungstenite::Message;
pub use tokio_tungstenite::tungstenite::protocol::CloseFrame;
pub use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
