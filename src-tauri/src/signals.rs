//! SIGTERM, SIGINT and SIGHUP end Weft the same way Quit does, so the stop is logged.
//!
//! The handlers are installed first thing at start-up; a signal that arrives before the event
//! loop runs waits in signal-hook's queue and is acted on as soon as the loop can exit.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tauri::AppHandle;

/// Termination signals caught from start-up on.
pub struct Termination {
    signals: Option<Signals>,
}

impl Termination {
    /// Installs the handlers. Call before anything that a signal should not cut short.
    pub fn catch() -> Termination {
        let signals = Signals::new([SIGTERM, SIGINT, SIGHUP])
            .map_err(|e| log::warn!("cannot watch for termination signals: {e}"))
            .ok();
        Termination { signals }
    }

    /// Exits the app (as Quit does) on the first termination signal, past or future.
    pub fn exit_app_on_signal(self, app: AppHandle) {
        let Some(mut signals) = self.signals else {
            return;
        };
        let spawned = std::thread::Builder::new()
            .name("weft-signals".into())
            .spawn(move || {
                let mut signals = signals.forever();
                if let Some(signal) = signals.next() {
                    log::info!("signal {signal}: quitting");
                    app.exit(0);
                }
                // A second signal means the orderly exit is stuck: leave now.
                if let Some(signal) = signals.next() {
                    log::warn!("signal {signal} again: quitting at once");
                    std::process::exit(1);
                }
            });
        if let Err(e) = spawned {
            log::warn!("cannot watch for termination signals: {e}");
        }
    }
}
