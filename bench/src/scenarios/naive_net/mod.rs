//! Scenario `naive-net` (issue 13): the cache against the naive design with
//! a network between the computers. Every simulated computer (each `fleetd`,
//! and the naive reader) reaches Redis through a [`DelayProxy`] of its own,
//! for two links: a LAN (0.5 ms round trip) and a link between sites
//! (20 ms). For each, in the same run: `GET /v1/sessions` of 1,000 sessions
//! on c0's cache (kept-alive connection), the naive read of the same
//! sessions (ask the 9 peers and c0 through Redis, [`NaiveReader`]), the
//! round trip to Redis through the proxy as measured (`PING`), and how long
//! `fleet watch` takes from start to a full screen ([`watch`]).

mod watch;

use super::Ctx;
use crate::client::Conn;
use crate::daemon::{Daemon, DaemonOptions, START_TIMEOUT};
use crate::delay_proxy::DelayProxy;
use crate::fleet::{wait_count, wait_peers};
use crate::naive::NaiveReader;
use crate::redis_server::RedisServer;
use crate::report::{Outcome, ScenarioReport, Table, Verdict};
use crate::stats::{Human, LATENCY_HEADERS, Samples, Summary, grouped, ratio};
use crate::workload::create_sessions;
use crate::ws::Ws;
use anyhow::{Context as _, bail};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Computers in the fleet.
const COMPUTERS: usize = 10;

/// A simulated link: its name and its round trip.
struct Link {
    name: &'static str,
    rtt: Duration,
    /// Naive reads (warm-up, measured): fewer on the slow link.
    naive: (usize, usize),
}

const LINKS: [Link; 2] = [
    Link {
        name: "LAN",
        rtt: Duration::from_micros(500),
        naive: (5, 100),
    },
    Link {
        name: "between sites",
        rtt: Duration::from_millis(20),
        naive: (3, 30),
    },
];

/// Cached reads (warm-up, measured).
const CACHED: (usize, usize) = (200, 2_000);

pub(super) async fn run(ctx: &Ctx) -> anyhow::Result<ScenarioReport> {
    let sessions = ctx.pick(1_000, 100);
    let watch_runs = ctx.pick(5, 2);
    let mut report = ScenarioReport::new("naive-net");
    let mut headers = vec!["link (RTT set / PING p50 measured)", "way of reading"];
    headers.extend(LATENCY_HEADERS);
    let mut reads = Table::new(
        format!(
            "naive-net: GET /v1/sessions of {} sessions on c0 (cache) vs. asking {COMPUTERS} \
             computers through Redis (naive), each computer behind a delaying proxy",
            grouped(sessions as u64)
        ),
        &headers,
    );
    let mut watches = watch::table(watch_runs);
    for link in &LINKS {
        let net = NetFleet::start(ctx, link, sessions).await?;
        let ping = net.ping().await?;
        let label = format!("{} ({} / {})", link.name, Human(link.rtt), Human(ping.p50));
        let (cache, naive) = net.reads(link, sessions).await?;
        for (way, sum) in [
            ("cache, kept-alive connection", &cache),
            ("naive, 10 computers via Redis", &naive),
        ] {
            let mut row = vec![label.clone(), way.to_owned()];
            row.extend(sum.cells());
            reads.row(row);
        }
        report.outcomes.push(Outcome {
            scenario: "naive-net",
            metric: format!(
                "GET /v1/sessions, {} sessions, {} link ({} RTT): p50 / p99",
                grouped(sessions as u64),
                link.name,
                Human(link.rtt)
            ),
            result: format!("{} / {}", Human(cache.p50), Human(cache.p99)),
            baseline: format!("naive {} / {}", Human(naive.p50), Human(naive.p99)),
            ratio: format!("naive/cache p50 {}", ratio(naive.p50, cache.p50)),
            goal: "-".into(),
            verdict: Verdict::Info,
        });
        let times = watch::measure(ctx, net, watch_runs, sessions).await?;
        watches.row(watch::cells(&label, &times));
        report
            .outcomes
            .push(watch::outcome(link.name, link.rtt, &times));
    }
    report.tables.push(reads);
    report.tables.push(watches);
    report.notes.push(format!(
        "{COMPUTERS} daemons, the naive reader and Redis on this machine; each daemon and the \
         naive reader reach Redis through a delaying TCP proxy of their own (threads; each \
         chunk held RTT/2 in each direction, order kept, no bandwidth limit), so a message \
         from one computer to another crosses two links; sessions created over REST, an \
         equal share on every daemon"
    ));
    Ok(report)
}

/// Redis, one delaying proxy per computer, and the daemons behind them.
pub(super) struct NetFleet {
    /// The daemons, c0 first (dropped before the proxies and Redis).
    daemons: Vec<Daemon>,
    /// Each daemon's proxy, in the same order, then the naive reader's.
    proxies: Vec<DelayProxy>,
    redis: RedisServer,
    names: Vec<String>,
}

impl NetFleet {
    /// Starts Redis, a proxy per computer and one for the naive reader,
    /// the daemons, waits until every daemon sees the others, and creates
    /// `sessions` spread evenly.
    async fn start(ctx: &Ctx, link: &Link, sessions: usize) -> anyhow::Result<Self> {
        let redis = RedisServer::start().await?;
        let upstream: SocketAddr = redis
            .url()
            .trim_start_matches("redis://")
            .parse()
            .context("Redis's address")?;
        let names: Vec<String> = (0..COMPUTERS).map(|i| format!("c{i}")).collect();
        let mut proxies = Vec::with_capacity(COMPUTERS + 1);
        for _ in 0..=COMPUTERS {
            proxies.push(DelayProxy::start(upstream, link.rtt / 2)?);
        }
        let mut daemons = Vec::with_capacity(COMPUTERS);
        for (name, proxy) in names.iter().zip(&proxies) {
            daemons.push(Daemon::spawn(
                &ctx.fleetd,
                &DaemonOptions::fleet(name.clone(), &proxy.redis_url()),
            )?);
        }
        for d in &mut daemons {
            d.wait_healthy(START_TIMEOUT).await?;
        }
        wait_peers(&daemons, COMPUTERS - 1, Duration::from_secs(60)).await?;
        let mut tasks = JoinSet::new();
        for d in &daemons {
            let socket = d.socket().to_owned();
            let computer = d.computer().to_owned();
            let per = sessions / COMPUTERS;
            tasks.spawn(async move { create_sessions(&socket, &computer, per, 4).await });
        }
        while let Some(done) = tasks.join_next().await {
            done.context("a creating task failed")??;
        }
        Ok(Self {
            daemons,
            proxies,
            redis,
            names,
        })
    }

    /// Round trips of `PING` to Redis through the naive reader's proxy.
    async fn ping(&self) -> anyhow::Result<Summary> {
        let proxy = self.proxies.last().context("no proxy")?;
        let addr = proxy.redis_url();
        let addr = addr.trim_start_matches("redis://");
        let mut s = TcpStream::connect(addr)
            .await
            .context("connect through the proxy")?;
        s.set_nodelay(true)?;
        let mut samples = Samples::with_capacity(20);
        let start = Instant::now();
        let mut buf = [0u8; 7];
        for _ in 0..20 {
            let t0 = Instant::now();
            s.write_all(b"PING\r\n").await?;
            s.read_exact(&mut buf).await?;
            if &buf != b"+PONG\r\n" {
                bail!("Redis answered {:?} to PING", String::from_utf8_lossy(&buf));
            }
            samples.record(t0.elapsed());
        }
        samples.summary(start.elapsed()).context("no PING samples")
    }

    /// The cache's reads on c0 (after a watcher made it pull every peer)
    /// and the naive reads, same fleet, same link.
    async fn reads(&self, link: &Link, sessions: usize) -> anyhow::Result<(Summary, Summary)> {
        let c0 = self.daemons.first().context("no daemons")?;
        let mut ws = Ws::connect(c0.socket()).await?;
        ws.subscribe("sessions", None, Duration::from_secs(60))
            .await?;
        let mut watcher: JoinSet<anyhow::Result<()>> = JoinSet::new();
        watcher.spawn(async move {
            loop {
                ws.next_text(Duration::from_secs(3600)).await?;
            }
        });
        let mut conn = Conn::connect(c0.socket()).await?;
        wait_count(
            &mut conn,
            "/v1/sessions",
            sessions,
            Duration::from_secs(120),
        )
        .await
        .context("c0 did not get every session")?;
        let (warmup, timed) = CACHED;
        let cache = timed_loop(warmup, timed, async || {
            conn.get_ok("/v1/sessions").await.map(|_| ())
        })
        .await?;
        watcher.abort_all();

        let proxy = self.proxies.last().context("no proxy")?;
        let mut naive =
            NaiveReader::connect(&proxy.redis_url(), "fleet", "naive", self.names.clone()).await?;
        let (warmup, timed) = link.naive;
        let naive = timed_loop(warmup, timed, async || {
            let answer = naive.read(Duration::from_secs(60)).await?;
            if answer.sessions != sessions {
                bail!(
                    "the naive read merged {} sessions, not {sessions}",
                    answer.sessions
                );
            }
            Ok(())
        })
        .await?;
        Ok((cache, naive))
    }

    /// Stops every daemon, then the proxies, then Redis.
    async fn stop(self) {
        for d in self.daemons {
            d.stop().await;
        }
        drop(self.proxies);
        drop(self.redis);
    }
}

/// Runs `op` `warmup` times, then `timed` times measured.
async fn timed_loop(
    warmup: usize,
    timed: usize,
    mut op: impl AsyncFnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Summary> {
    for _ in 0..warmup {
        op().await?;
    }
    let mut samples = Samples::with_capacity(timed);
    let start = Instant::now();
    for _ in 0..timed {
        let t0 = Instant::now();
        op().await?;
        samples.record(t0.elapsed());
    }
    samples.summary(start.elapsed()).context("no samples")
}
