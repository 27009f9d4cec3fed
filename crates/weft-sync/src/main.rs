//! The `weft-sync` binary: argument parsing, logging, signals and exit codes around the
//! library. Exit 2 for bad arguments, 1 for other errors (also when the output cannot be
//! written), 0 on success and when the reader of the output went away
//! (`weft-sync team list | head -1`).
//!
//! Everything printed goes through [`out`]: commands write to one `&mut dyn Write` with
//! `writeln!`, so no output error can panic. The lints below keep it that way.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod out;

use anyhow::Context;
use clap::{Parser, Subcommand};
use out::{warn, Out};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use weft_sync::store::sqlite::SqliteStore;
use weft_sync::{admin, Config, Error};

/// Weft's team sync server.
#[derive(Parser)]
#[command(name = "weft-sync", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API.
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:7070")]
        listen: SocketAddr,
        /// The SQLite database (created if missing).
        #[arg(long)]
        db: PathBuf,
        /// Urgent pings one sender may send one recipient per UTC day.
        #[arg(long, default_value_t = weft_proto::sync::DEFAULT_URGENT_BUDGET)]
        urgent_budget: u32,
        /// Sustained requests per second per token (bursts of twice that); 0 turns it off.
        #[arg(long, default_value_t = Config::default().rate_per_second)]
        rate_limit: u32,
        /// Sustained joins per second per client address (bursts of twice that); 0 turns it
        /// off.
        #[arg(long, default_value_t = Config::default().join_rate_per_second)]
        join_rate_limit: u32,
        /// Live streams one member may have open at once.
        #[arg(long, default_value_t = Config::default().max_streams_per_member)]
        max_streams: u32,
    },
    /// Manage teams.
    Team {
        #[command(subcommand)]
        command: TeamCommand,
    },
}

#[derive(Subcommand)]
enum TeamCommand {
    /// Create a team and print its invite code.
    Create {
        name: String,
        #[arg(long)]
        db: PathBuf,
    },
    /// Replace a team's invite code with a new one and print it.
    Invite {
        name: String,
        #[arg(long)]
        db: PathBuf,
    },
    /// Remove a member from a team (its token stops working and its name is free again). A
    /// running server notices within seconds.
    RemoveMember {
        team: String,
        name: String,
        #[arg(long)]
        db: PathBuf,
    },
    /// List teams and their member counts.
    List {
        #[arg(long)]
        db: PathBuf,
    },
}

fn main() -> ExitCode {
    let mut out = Out::stdout();
    let code = match Cli::try_parse() {
        Ok(cli) => {
            env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
                .target(env_logger::Target::Stderr)
                .init();
            match run(cli, &mut out) {
                Ok(()) => ExitCode::SUCCESS,
                // The output failed first; `finish` below says how, once.
                Err(_) if out.has_failed() => ExitCode::FAILURE,
                Err(error) => {
                    warn(format_args!("{error:#}"));
                    let bad_argument =
                        matches!(error.downcast_ref::<Error>(), Some(Error::BadRequest(_)));
                    ExitCode::from(if bad_argument { 2 } else { 1 })
                }
            }
        }
        // --help and --version go to standard output, usage errors to standard error (exit 2).
        Err(e) => out.parser_printed(e.print(), e.use_stderr(), e.exit_code()),
    };
    out::end(&mut out, code)
}

fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            listen,
            db,
            urgent_budget,
            rate_limit,
            join_rate_limit,
            max_streams,
        } => {
            let config = Config {
                urgent_budget,
                rate_per_second: rate_limit,
                join_rate_per_second: join_rate_limit,
                max_streams_per_member: max_streams,
                ..Config::default()
            };
            serve(listen, db, config, out)
        }
        Command::Team { command } => team(command, out),
    }
}

/// Serves until SIGTERM or Ctrl-C. The one line it prints, the address it listens on, follows
/// the output's rule: a server that cannot say where it listens does not start.
fn serve(
    listen: SocketAddr,
    db: PathBuf,
    config: Config,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => log::info!("open files limit: {limit}"),
        Err(e) => log::warn!("could not raise the open files limit: {e}"),
    }
    let hub = weft_sync::open(&db, config)?;
    let runtime = tokio::runtime::Runtime::new().context("could not start the async runtime")?;
    runtime.block_on(async move {
        let listener =
            listen_on(listen).with_context(|| format!("could not listen on {listen}"))?;
        let addr = listener.local_addr()?;
        writeln!(out, "weft-sync listening on http://{addr}")?;
        out.flush()?;
        log::info!("serving {} on {addr}", db.display());
        weft_sync::serve(listener, hub, stop_signal()).await?;
        log::info!("stopped");
        Ok(())
    })
}

/// Connections the kernel queues before they are accepted. After a restart a whole
/// organisation's clients reconnect at once; the default of 128 overflowed at 500 connections
/// in a burst, and each overflow costs the client a 1 s SYN retransmit.
const ACCEPT_BACKLOG: u32 = 4096;

fn listen_on(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // A restarted server takes its port back at once, as TcpListener::bind would.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(ACCEPT_BACKLOG)
}

async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    log::info!("stopping");
}

fn team(command: TeamCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let open = |db: &PathBuf| SqliteStore::open(db);
    match command {
        TeamCommand::Create { name, db } => {
            let mut store = open(&db)?;
            let (team, invite) = admin::create_team(&mut store, &name)?;
            writeln!(
                out,
                "Created team \"{}\" (id {}). Share this invite code; it is shown only once:",
                team.name, team.id
            )?;
            writeln!(out, "{invite}")?;
        }
        TeamCommand::Invite { name, db } => {
            let mut store = open(&db)?;
            let (team, invite) = admin::new_invite(&mut store, &name)?;
            writeln!(
                out,
                "New invite code for team \"{}\" (id {}); the old one no longer works:",
                team.name, team.id
            )?;
            writeln!(out, "{invite}")?;
        }
        TeamCommand::RemoveMember { team, name, db } => {
            let mut store = open(&db)?;
            let member = admin::remove_member(&mut store, &team, &name)?;
            writeln!(
                out,
                "Removed \"{}\" (member {}) from team \"{}\".",
                member.name,
                member.id,
                team.trim()
            )?;
        }
        TeamCommand::List { db } => {
            let mut store = open(&db)?;
            let teams = admin::list(&mut store)?;
            if teams.is_empty() {
                writeln!(
                    out,
                    "No teams yet. Create one with: weft-sync team create NAME --db PATH"
                )?;
            }
            for (team, members) in teams {
                let noun = if members == 1 { "member" } else { "members" };
                writeln!(out, "{:>4}  {}  ({members} {noun})", team.id, team.name)?;
            }
        }
    }
    Ok(())
}
