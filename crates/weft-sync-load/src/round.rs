//! One round at N clients: a fresh server and database, teams, joins, N streams, the switching
//! phase, then the figures.

use crate::http::{Conn, Request};
use crate::measure::{self, FanOut, Seen, Sent, Summary};
use crate::server::{self, Memory, Server};
use crate::stream::{self, Log, StreamCounters};
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weft_proto::sync::{JoinRequest, Joined, StatusAck, StatusUpdate};
use weft_proto::State;

/// Everything a round needs to know.
#[derive(Debug, Clone)]
pub struct Config {
    pub server_bin: PathBuf,
    pub server_rate_limit: Option<u32>,
    pub team_size: usize,
    pub seconds: f64,
    /// Switches per second over all members; `None`: [`default_rate`].
    pub rate: Option<f64>,
    pub grace: Duration,
    pub connect_batch: usize,
    pub concurrency: usize,
    pub settle: Duration,
    pub seed: u64,
}

/// N/20 switches per second (each member switches every 20 s on average, about 100 times a
/// real person's rate), at most 500/s: 500 × 49 ≈ 25k deliveries a second at 10k clients,
/// which the generator parses in well under a core.
pub fn default_rate(clients: usize) -> f64 {
    (clients as f64 / 20.0).clamp(1.0, 500.0)
}

/// The figures of one round.
#[derive(Debug)]
pub struct Outcome {
    pub clients: usize,
    pub teams: usize,
    pub rate: f64,
    /// Applied switches.
    pub switches: usize,
    pub fan_out: FanOut,
    pub put: Summary,
    pub put_errors: usize,
    pub first_put_error: Option<String>,
    pub skipped: usize,
    pub stream_failures: usize,
    pub first_stream_error: Option<String>,
    pub mem_open: Memory,
    pub mem_end: Memory,
    /// Average cores used during the switching phase.
    pub server_cores: f64,
    pub generator_cores: f64,
    pub setup: Duration,
    pub total: Duration,
}

/// A joined member.
#[derive(Debug, Clone)]
struct Member {
    team: usize,
    team_id: i64,
    id: i64,
    token: String,
}

/// Per-member switching state: one PUT in flight at most, so seqs arrive in order.
#[derive(Debug, Default)]
struct Slot {
    busy: AtomicBool,
    seq: AtomicU64,
}

type Pool = Arc<Mutex<Vec<Conn>>>;

pub async fn run(cfg: &Config, clients: usize) -> Result<Outcome> {
    let started = Instant::now();
    let log = |msg: String| {
        crate::out::say(format_args!(
            "[{clients:>6} | {:>6.1}s] {msg}",
            started.elapsed().as_secs_f64()
        ))
    };
    let dir = tempfile::tempdir().context("creating a temporary directory")?;
    let db = dir.path().join("sync.db");

    let team_count = clients.div_ceil(cfg.team_size);
    let team_sizes: Vec<usize> = (0..team_count)
        .map(|t| cfg.team_size.min(clients - t * cfg.team_size))
        .collect();
    log(format!(
        "creating {team_count} teams with `weft-sync team create`"
    ));
    let mut invites = Vec::with_capacity(team_count);
    for t in 0..team_count {
        invites.push(server::create_team(&cfg.server_bin, &db, &format!("load-team-{t}")).await?);
    }

    let mut server = Server::start(&cfg.server_bin, &db, cfg.server_rate_limit).await?;
    log(format!("server pid {} on {}", server.pid, server.addr));
    let result = drive(
        cfg,
        clients,
        &mut server,
        &invites,
        &team_sizes,
        &log,
        started,
    )
    .await;
    let stopped = server.stop().await;
    let mut outcome = result?;
    stopped.context("stopping the server")?;
    outcome.total = started.elapsed();
    Ok(outcome)
}

async fn drive(
    cfg: &Config,
    clients: usize,
    server: &mut Server,
    invites: &[String],
    team_sizes: &[usize],
    log: &impl Fn(String),
    started: Instant,
) -> Result<Outcome> {
    let addr = server.addr;
    let pool: Pool = Arc::new(Mutex::new(Vec::new()));
    let members = join_all(addr, clients, cfg, invites, &pool).await?;
    log(format!("{clients} members joined"));

    // Streams, in batches so the accept queue is never overrun.
    let counters = Arc::new(StreamCounters::default());
    let mut tasks = Vec::with_capacity(clients);
    let mut logs: Vec<Log> = Vec::with_capacity(clients);
    for batch in members.chunks(cfg.connect_batch) {
        for m in batch {
            let log: Log = Arc::default();
            logs.push(log.clone());
            let path = format!("/v1/teams/{}/events?after_ping=0", m.team_id);
            tasks.push(tokio::spawn(stream::run(
                addr,
                path,
                m.token.clone(),
                m.id,
                counters.clone(),
                log,
            )));
        }
        let want = tasks.len();
        let deadline = Instant::now() + Duration::from_secs(60);
        while counters.snapshots.load(Ordering::Relaxed) < want {
            check_streams(&counters)?;
            server.check_alive()?;
            if Instant::now() > deadline {
                bail!(
                    "only {} of {want} streams got their snapshot within 60 s",
                    counters.snapshots.load(Ordering::Relaxed)
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    log(format!("{clients} streams open, each with its snapshot"));
    // Let the last batch's online/offline fan-out drain before measuring.
    tokio::time::sleep(cfg.settle).await;
    let mem_open = server.memory()?;
    let setup = started.elapsed();

    let rate = cfg.rate.unwrap_or_else(|| default_rate(clients));
    log(format!(
        "switching for {:.0} s at {rate:.0} switches/s (Poisson)",
        cfg.seconds
    ));
    let cpu_server = server.cpu_seconds()?;
    let cpu_self = server::cpu_seconds("/proc/self/stat")?;
    let phase_start = Instant::now();
    let switching = switch_phase(cfg, rate, addr, &members, &pool).await;
    let expected: usize = switching
        .sent
        .iter()
        .filter(|s| s.applied)
        .map(|s| team_sizes[s.team] - 1)
        .sum();
    let grace_end = Instant::now() + cfg.grace;
    while counters.member_events.load(Ordering::Relaxed) < expected && Instant::now() < grace_end {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let phase = phase_start.elapsed().as_secs_f64();
    let server_cores = (server.cpu_seconds()? - cpu_server) / phase;
    let generator_cores = (server::cpu_seconds("/proc/self/stat")? - cpu_self) / phase;
    let mem_end = server.memory()?;
    server.check_alive()?;

    for task in &tasks {
        task.abort();
    }
    let first_stream_error = counters.first_error.lock().ok().and_then(|e| e.clone());
    let stream_failures = counters.failed.load(Ordering::Relaxed);
    let seen: Vec<Seen> = members
        .iter()
        .zip(logs)
        .map(|(m, log)| Seen {
            member: m.id,
            team: m.team,
            deliveries: log
                .lock()
                .map(|mut l| std::mem::take(&mut *l))
                .unwrap_or_default(),
        })
        .collect();
    let put = Summary::of(
        switching
            .sent
            .iter()
            .map(|s| s.put_latency.as_micros() as u64)
            .collect(),
    );
    let switches = switching.sent.iter().filter(|s| s.applied).count();
    let fan_out = measure::fan_out(&switching.sent, seen, team_sizes);
    Ok(Outcome {
        clients,
        teams: team_sizes.len(),
        rate,
        switches,
        fan_out,
        put,
        put_errors: switching.errors,
        first_put_error: switching.first_error,
        skipped: switching.skipped,
        stream_failures,
        first_stream_error,
        mem_open,
        mem_end,
        server_cores,
        generator_cores,
        setup,
        total: Duration::ZERO,
    })
}

fn check_streams(counters: &StreamCounters) -> Result<()> {
    if counters.failed.load(Ordering::Relaxed) > 0 {
        let first = counters.first_error.lock().ok().and_then(|e| e.clone());
        bail!(
            "{} event stream(s) failed; first: {}",
            counters.failed.load(Ordering::Relaxed),
            first.unwrap_or_default()
        );
    }
    Ok(())
}

/// `POST /v1/join` for every member, `concurrency` requests at a time; member `i` is in team
/// `i / team_size`. The connections end up in the pool for the switching phase.
async fn join_all(
    addr: SocketAddr,
    clients: usize,
    cfg: &Config,
    invites: &[String],
    pool: &Pool,
) -> Result<Vec<Member>> {
    let next = Arc::new(AtomicUsize::new(0));
    let invites: Arc<Vec<String>> = Arc::new(invites.to_vec());
    let mut workers = Vec::new();
    for _ in 0..cfg.concurrency.min(clients) {
        let (next, invites, pool) = (next.clone(), invites.clone(), pool.clone());
        let team_size = cfg.team_size;
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::connect(addr).await?;
            let mut joined = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= clients {
                    break;
                }
                let team = i / team_size;
                let body = serde_json::to_vec(&JoinRequest {
                    invite: invites[team].clone(),
                    name: format!("member-{i}"),
                })?;
                let j: Joined = loop {
                    let req = Request {
                        method: "POST",
                        path: "/v1/join",
                        token: None,
                        accept: None,
                        json: Some(&body),
                    };
                    let resp = conn.request(req).await?;
                    if !resp.reusable {
                        conn = Conn::connect(addr).await?;
                    }
                    match resp.status {
                        200 | 201 => break serde_json::from_slice(&resp.body)?,
                        429 => tokio::time::sleep(Duration::from_millis(20)).await,
                        status => bail!(
                            "POST /v1/join answered {status}: {}",
                            String::from_utf8_lossy(&resp.body)
                        ),
                    }
                };
                joined.push((
                    i,
                    Member {
                        team,
                        team_id: j.team.id,
                        id: j.member_id,
                        token: j.token,
                    },
                ));
            }
            if let Ok(mut pool) = pool.lock() {
                pool.push(conn);
            }
            anyhow::Ok(joined)
        }));
    }
    let mut members: Vec<Option<Member>> = vec![None; clients];
    for worker in workers {
        for (i, m) in worker.await.context("a join task panicked")?? {
            members[i] = Some(m);
        }
    }
    members
        .into_iter()
        .enumerate()
        .map(|(i, m)| m.with_context(|| format!("member {i} did not join")))
        .collect()
}

struct Switching {
    sent: Vec<Sent>,
    errors: usize,
    first_error: Option<String>,
    skipped: usize,
}

/// Poisson arrivals at `rate` for `cfg.seconds`; each picks a random member without a PUT in
/// flight and sends its next status.
async fn switch_phase(
    cfg: &Config,
    rate: f64,
    addr: SocketAddr,
    members: &[Member],
    pool: &Pool,
) -> Switching {
    let members: Arc<Vec<Member>> = Arc::new(members.to_vec());
    let slots: Arc<Vec<Slot>> = Arc::new((0..members.len()).map(|_| Slot::default()).collect());
    let mut rng = XorShift::new(cfg.seed ^ members.len() as u64);
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(cfg.seconds);
    let mut at = start;
    let mut puts = Vec::new();
    let mut skipped = 0;
    loop {
        at += Duration::from_secs_f64(-(1.0 - rng.unit()).ln() / rate);
        if at >= end {
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        let pick = (0..16)
            .map(|_| rng.below(members.len()))
            .find(|&i| !slots[i].busy.swap(true, Ordering::AcqRel));
        let Some(i) = pick else {
            skipped += 1;
            continue;
        };
        let (members, slots, pool) = (members.clone(), slots.clone(), pool.clone());
        puts.push(tokio::spawn(async move {
            let result = put_status(addr, &members[i], &slots[i], &pool).await;
            slots[i].busy.store(false, Ordering::Release);
            result
        }));
    }
    let mut out = Switching {
        sent: Vec::with_capacity(puts.len()),
        errors: 0,
        first_error: None,
        skipped,
    };
    for put in puts {
        match put.await {
            Ok(Ok(sent)) => out.sent.push(sent),
            Ok(Err(err)) => {
                out.errors += 1;
                out.first_error.get_or_insert_with(|| format!("{err:#}"));
            }
            Err(err) => {
                out.errors += 1;
                out.first_error.get_or_insert_with(|| format!("{err}"));
            }
        }
    }
    out
}

async fn put_status(addr: SocketAddr, member: &Member, slot: &Slot, pool: &Pool) -> Result<Sent> {
    let seq = slot.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let state = if seq % 2 == 1 {
        State::Focus
    } else {
        State::Coordination
    };
    let body = serde_json::to_vec(&StatusUpdate {
        seq,
        state,
        since: chrono::Utc::now(),
        until: None,
        intent: None,
    })?;
    let path = format!("/v1/teams/{}/members/{}/status", member.team_id, member.id);
    let idle = pool.lock().ok().and_then(|mut p| p.pop());
    let mut conn = match idle {
        Some(conn) => conn,
        None => Conn::connect(addr).await?,
    };
    let req = Request {
        method: "PUT",
        path: &path,
        token: Some(&member.token),
        accept: None,
        json: Some(&body),
    };
    let at = Instant::now();
    let resp = tokio::time::timeout(Duration::from_secs(10), conn.request(req))
        .await
        .context("PUT status took over 10 s")??;
    let put_latency = at.elapsed();
    if resp.status != 200 {
        bail!(
            "PUT {path} answered {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        );
    }
    let ack: StatusAck = serde_json::from_slice(&resp.body).context("parsing the status ack")?;
    if resp.reusable {
        if let Ok(mut pool) = pool.lock() {
            pool.push(conn);
        }
    }
    Ok(Sent {
        member: member.id,
        team: member.team,
        seq,
        at,
        applied: ack.applied,
        put_latency,
    })
}

/// xorshift64*: reproducible picks and arrival times without a dependency.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
