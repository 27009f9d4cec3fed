//! `weft-sync-load`: the sync server's load generator (`make bench-sync`).
//!
//! For each N in `--clients` it starts a fresh `weft-sync serve` on a temporary SQLite file on
//! 127.0.0.1:0, creates N/50 teams with `weft-sync team create`, joins N members over HTTP and
//! opens N live streams (one TCP connection each, in batches, every one waiting for its
//! snapshot). Then members switch state at random: Poisson arrivals at `--rate` switches/s
//! (default N/20, at most 500: every member switches every 20 s on average, about a hundred
//! times a person's real rate, yet 500 × 49 ≈ 25k deliveries/s keep the generator's own share
//! of the two cores small), each a status PUT with the member's next seq; a member never has
//! two PUTs in flight, so every PUT is applied. Fan-out latency is the time from just before
//! a PUT is written to the arrival of that member's event (matched on member id + seq) on the
//! stream of each other member of its team, on one monotonic clock. A delivery that has not
//! arrived `--grace` seconds after the last PUT is missed.
//!
//! Printed per N: fan-out p50 / p99 / max, deliveries measured, missed, PUT p50 / p99, the
//! server's VmRSS once the streams are open and at the end, its PSS at the end, and the cores
//! the server and the generator used while switching (both share this machine's cores, so the
//! latencies include the generator's own scheduling). The goal: p99 ≤ 20 ms at 10k clients.
//!
//! Exits non-zero when a round fails (server did not start, a stream broke, a PUT failed) or
//! a delivery was missed; a missed latency target is reported, not an error. Everything
//! printed goes through [`out`]: a closed pipe costs only the rest of the table, another write
//! error on standard output is one line and exit 1, and nothing panics (the lints below).

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod http;
mod measure;
mod out;
mod round;
mod server;
mod stream;

use anyhow::{bail, Context, Result};
use clap::Parser;
use out::{warn, Out};
use round::{Config, Outcome};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// The latency goal of the issue: p99 fan-out at 10k clients.
const TARGET_CLIENTS: usize = 10_000;
const TARGET_P99_MS: f64 = 20.0;

#[derive(Debug, Parser)]
#[command(
    about = "Load generator for weft-sync: fan-out latency and server memory at N live clients"
)]
struct Args {
    /// Client counts to measure, one fresh server each.
    #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000")]
    clients: Vec<usize>,
    /// Members per team.
    #[arg(long, default_value_t = 50)]
    team_size: usize,
    /// Length of the switching phase, in seconds.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Switches per second over all members [default: N/20, at most 500].
    #[arg(long)]
    rate: Option<f64>,
    /// How long to wait for late deliveries after the last PUT, in seconds.
    #[arg(long, default_value_t = 5.0)]
    grace: f64,
    /// The `weft-sync` binary [default: the one next to this executable].
    #[arg(long)]
    server_bin: Option<PathBuf>,
    /// Passed to `weft-sync serve --rate-limit` (requests per second per token).
    #[arg(long)]
    server_rate_limit: Option<u32>,
    /// Streams opened at a time; each batch waits for its snapshots. Keep it under the
    /// server's listen backlog (4096), or the kernel drops SYNs and each batch waits for a
    /// 1 s retransmit.
    #[arg(long, default_value_t = 100)]
    connect_batch: usize,
    /// Concurrent joins.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Pause after the last stream opened, before switching, in seconds.
    #[arg(long, default_value_t = 1.0)]
    settle: f64,
    /// Seed of the member picks and arrival times.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let mut out = Out::stdout();
    let code = match Args::try_parse() {
        Ok(args) => match run(args, &mut out).await {
            Ok(true) => ExitCode::SUCCESS,
            Ok(false) => ExitCode::FAILURE,
            Err(err) => {
                warn(format_args!("{err:#}"));
                ExitCode::FAILURE
            }
        },
        // --help and --version go to standard output, usage errors to standard error (exit 2).
        Err(e) => out.parser_printed(e.print(), e.use_stderr(), e.exit_code()),
    };
    match out.finish() {
        Ok(()) => code,
        // Nobody reads the rest of the table; the run's own verdict stands.
        Err(out::Failure::Closed) => code,
        Err(out::Failure::Failed(line)) => {
            warn(line);
            ExitCode::FAILURE
        }
    }
}

/// Ok(false) when a round failed or missed deliveries. A table that cannot be written is
/// left to `out`: the measurements were made, so the verdict stands.
async fn run(args: Args, out: &mut dyn Write) -> Result<bool> {
    if args.team_size < 2 || args.clients.contains(&0) || args.connect_batch == 0 {
        bail!("--team-size must be at least 2, and --clients and --connect-batch above 0");
    }
    let server_bin = match args.server_bin {
        Some(bin) => bin,
        None => server::default_bin()?,
    };
    if !server_bin.is_file() {
        bail!(
            "no server binary at {} (build it: cargo build --release -p weft-sync, or pass --server-bin)",
            server_bin.display()
        );
    }
    let largest = args.clients.iter().copied().max().unwrap_or_default();
    check_limits(largest)?;
    let cfg = Config {
        server_bin,
        server_rate_limit: args.server_rate_limit,
        team_size: args.team_size,
        seconds: args.seconds,
        rate: args.rate,
        grace: Duration::from_secs_f64(args.grace),
        connect_batch: args.connect_batch,
        concurrency: args.concurrency.max(1),
        settle: Duration::from_secs_f64(args.settle),
        seed: args.seed,
    };

    let mut outcomes = Vec::new();
    let mut ok = true;
    for &clients in &args.clients {
        match round::run(&cfg, clients).await {
            Ok(outcome) => {
                ok &= report_problems(&outcome);
                outcomes.push(outcome);
            }
            Err(err) => {
                warn(format_args!("round at {clients} clients failed: {err:#}"));
                ok = false;
            }
        }
    }
    if !outcomes.is_empty() {
        let _ = print_table(out, &outcomes).and_then(|()| print_target(out, &outcomes));
    }
    Ok(ok)
}

/// Raises the open-file limit (the streams, plus the server that inherits it) and checks
/// that the ephemeral port range has room for every stream.
fn check_limits(clients: usize) -> Result<()> {
    let (soft, hard) =
        rlimit::getrlimit(rlimit::Resource::NOFILE).context("reading RLIMIT_NOFILE")?;
    if soft < hard {
        rlimit::setrlimit(rlimit::Resource::NOFILE, hard, hard).context("raising RLIMIT_NOFILE")?;
    }
    let need = clients as u64 + 1024;
    if hard < need {
        bail!("RLIMIT_NOFILE hard limit {hard} is below the {need} descriptors {clients} clients need (raise it: ulimit -Hn)");
    }
    if let Ok(range) = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range") {
        let ports: Vec<u64> = range
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        if let [low, high] = ports[..] {
            if high.saturating_sub(low) < need {
                bail!("the ephemeral port range {low}-{high} is too small for {clients} connections (see net.ipv4.ip_local_port_range)");
            }
        }
    }
    Ok(())
}

/// Prints what went wrong in a round; false when it must fail the run.
fn report_problems(o: &Outcome) -> bool {
    let mut ok = true;
    if o.fan_out.missed > 0 {
        warn(format_args!(
            "{} clients: {} deliveries missed",
            o.clients, o.fan_out.missed
        ));
        ok = false;
    }
    if o.put_errors > 0 {
        warn(format_args!(
            "{} clients: {} PUTs failed; first: {}",
            o.clients,
            o.put_errors,
            o.first_put_error.as_deref().unwrap_or_default()
        ));
        ok = false;
    }
    if o.stream_failures > 0 {
        warn(format_args!(
            "{} clients: {} streams broke; first: {}",
            o.clients,
            o.stream_failures,
            o.first_stream_error.as_deref().unwrap_or_default()
        ));
        ok = false;
    }
    if o.fan_out.duplicates > 0 || o.fan_out.unexpected > 0 || o.skipped > 0 {
        warn(format_args!(
            "{} clients: {} duplicate and {} unexpected deliveries, {} switches skipped (member busy)",
            o.clients, o.fan_out.duplicates, o.fan_out.unexpected, o.skipped
        ));
    }
    ok
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn print_table(out: &mut dyn Write, outcomes: &[Outcome]) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "{:>7} {:>5} {:>6} {:>8} {:>10} {:>7} {:>7} {:>7} {:>6} {:>7} {:>7} {:>8} {:>7} {:>7} {:>6} {:>6} {:>6}",
        "clients", "teams", "rate/s", "switches", "deliveries", "p50_ms", "p99_ms", "max_ms", "missed",
        "put_p50", "put_p99", "rss_open", "rss_end", "pss_end", "srv_cpu", "gen_cpu", "run_s"
    )?;
    for o in outcomes {
        let f = &o.fan_out;
        writeln!(
            out,
            "{:>7} {:>5} {:>6.0} {:>8} {:>10} {:>7.2} {:>7.2} {:>7.2} {:>6} {:>7.2} {:>7.2} {:>8.1} {:>7.1} {:>7.1} {:>6.2} {:>6.2} {:>6.0}",
            o.clients,
            o.teams,
            o.rate,
            o.switches,
            f.latency.count,
            f.latency.p50_ms,
            f.latency.p99_ms,
            f.latency.max_ms,
            f.missed,
            o.put.p50_ms,
            o.put.p99_ms,
            mb(o.mem_open.rss),
            mb(o.mem_end.rss),
            mb(o.mem_end.pss),
            o.server_cores,
            o.generator_cores,
            o.total.as_secs_f64(),
        )?;
    }
    writeln!(
        out,
        "(ms: fan-out and PUT latency; MB: server VmRSS with streams open / at the end, PSS at the end; \
         cpu: cores used while switching; run_s: whole round, setup {} s)",
        outcomes
            .iter()
            .map(|o| format!("{:.0}", o.setup.as_secs_f64()))
            .collect::<Vec<_>>()
            .join("/")
    )
}

fn print_target(out: &mut dyn Write, outcomes: &[Outcome]) -> std::io::Result<()> {
    match outcomes.iter().find(|o| o.clients == TARGET_CLIENTS) {
        Some(o) if o.fan_out.latency.p99_ms <= TARGET_P99_MS && o.fan_out.missed == 0 => writeln!(
            out,
            "target p99 <= {TARGET_P99_MS} ms at {TARGET_CLIENTS} clients: MET (p99 {:.2} ms)",
            o.fan_out.latency.p99_ms
        ),
        Some(o) => writeln!(
            out,
            "target p99 <= {TARGET_P99_MS} ms at {TARGET_CLIENTS} clients: NOT MET (p99 {:.2} ms, {} missed)",
            o.fan_out.latency.p99_ms, o.fan_out.missed
        ),
        None => writeln!(out, "target p99 <= {TARGET_P99_MS} ms at {TARGET_CLIENTS} clients: not measured in this run"),
    }
}
