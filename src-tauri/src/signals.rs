//! SIGTERM, SIGINT and SIGHUP end Weft the same way Quit does, so the stop is logged.

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tauri::AppHandle;

pub fn exit_on_termination(app: AppHandle) {
    let mut signals = match Signals::new([SIGTERM, SIGINT, SIGHUP]) {
        Ok(signals) => signals,
        Err(e) => {
            log::warn!("cannot watch for termination signals: {e}");
            return;
        }
    };
    let spawned = std::thread::Builder::new()
        .name("weft-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                log::info!("signal {signal}: quitting");
                app.exit(0);
            }
        });
    if let Err(e) = spawned {
        log::warn!("cannot watch for termination signals: {e}");
    }
}
