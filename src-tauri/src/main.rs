//! `weft-app`: the Weft desktop app. It lives in the tray, switches between focus and
//! coordination by tray, hotkey, CLI and UI, and serves the control socket.
//!
//! This binary is glue: every decision and every write goes through `weft_core`; the modules
//! here translate between Tauri (tray, hotkey, windows, the UI's command) and the core.
//!
//! Everything printed goes through [`out`], so no output error can panic: a closed pipe ends
//! quietly with exit 0, another write error is one line and exit 1. The lints below keep it
//! that way.

#![deny(clippy::print_stdout, clippy::print_stderr)]

mod app;
#[cfg(target_os = "linux")]
mod capture;
mod commands;
mod degraded;
mod delivery;
mod desktop_watch;
mod display;
mod end_of_day;
mod heartbeat;
mod hotkey;
#[cfg(target_os = "linux")]
mod monitor;
mod notices;
mod out;
mod planned;
mod quiet;
mod release;
mod shell;
mod signals;
mod switcher;
mod tray;
mod ui;
mod window;
mod window_process;

use std::io::Write;
use std::process::ExitCode;

const HELP: &str = "\
weft-app: Weft lives in the tray and switches between focus and coordination.

Usage: weft-app [--open | --window [--view VIEW]]

Options:
  --open       open the Weft window as soon as the app starts
  --window     run only the window, for an already running Weft (the tray starts it so)
  --view VIEW  with --window: open on now, today, team or settings
  -h, --help   print this help
  -V, --version
               print the version

Files: $XDG_CONFIG_HOME/weft/config.toml (settings), $XDG_DATA_HOME/weft/weft.db (the log),
$XDG_RUNTIME_DIR/weft/weft.sock (the control socket used by the `weft` CLI).
Log verbosity: RUST_LOG=debug weft-app";

/// When the process started, for the start-up timings in the debug log.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Milliseconds since the process started.
pub fn since_start_ms() -> u128 {
    STARTED.get().map(|t| t.elapsed().as_millis()).unwrap_or(0)
}

fn main() -> ExitCode {
    let _ = STARTED.set(std::time::Instant::now());
    keep_gtk_off_opengl();
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or("warn,weft_app=info,weft_core=info"),
    )
    .format_timestamp_millis()
    .init();

    let mut out = out::Out::stdout();
    let mut options = app::Options::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--view" => match args.next().map(|v| v.parse::<weft_proto::View>()) {
                Some(Ok(view)) => options.view = Some(view),
                other => {
                    out::warn(format_args!(
                        "--view takes now, today, team or settings ({})",
                        match other {
                            Some(Err(e)) => e.to_string(),
                            _ => "none was given".into(),
                        }
                    ));
                    return ExitCode::from(2);
                }
            },
            "--open" => options.open_window = true,
            "--window" => options.window_only = true,
            "-h" | "--help" => {
                // A failed write is in `out`; `end` says how it ends.
                let _ = writeln!(out, "{HELP}");
                return out::end(&mut out, ExitCode::SUCCESS);
            }
            "-V" | "--version" => {
                let _ = writeln!(out, "weft-app {}", env!("CARGO_PKG_VERSION"));
                return out::end(&mut out, ExitCode::SUCCESS);
            }
            other => {
                out::warn(format_args!("unknown argument {other:?}\n\n{HELP}"));
                return ExitCode::from(2);
            }
        }
    }

    let result = if options.window_only {
        window_process::name_after_arg0();
        ui::run(options.view)
    } else {
        app::run(options, &mut out)
    };
    match result {
        Ok(()) => out::end(&mut out, ExitCode::SUCCESS),
        // The output failed first (a second instance telling that the first one's window was
        // opened): `end` says how, once; it is no reason for a fatal notice.
        Err(_) if out.has_failed() => out::end(&mut out, ExitCode::FAILURE),
        Err(e) => {
            let message = format!("{e:#}");
            out::warn(&message);
            notices::fatal(&message);
            ExitCode::FAILURE
        }
    }
}

/// GTK probes OpenGL when it opens the X display, which maps Mesa (and its LLVM, about 30 MB of
/// PSS) into a process that mostly shows a tray icon. Weft's window draws fine without GL, so
/// GL is off unless the user sets `GDK_GL` themselves. Runs before any thread exists.
fn keep_gtk_off_opengl() {
    if std::env::var_os("GDK_GL").is_none() {
        std::env::set_var("GDK_GL", "disable");
    }
}
