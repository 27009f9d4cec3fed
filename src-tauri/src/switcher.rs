//! Switches asked for where nobody waits at a terminal (the hotkey, the tray menu, the
//! planned-end timer). They are queued and committed in order by one worker thread, so neither
//! the UI thread nor the hotkey thread ever waits on the disk, and a switch the store cannot
//! commit yet (another program holds the database's write lock, the disk is full) is retried
//! with the time it was asked for, and reported while it waits. None is dropped silently.
//!
//! A CLI or UI request is not queued here: its caller is told at once that it failed.

use crate::notices::Notices;
use chrono::{DateTime, Utc};
use std::collections::VecDeque;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Weak;
use std::time::{Duration, Instant};
use tauri::AppHandle;
use weft_core::machine::Plan;
use weft_core::service::Weft;
use weft_core::Error;
use weft_proto::{Source, State, Target};

/// The first wait before a retry; it doubles up to [`MAX_RETRY`]. Each try itself may wait up to
/// the store's busy timeout for a lock to clear.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const MAX_RETRY: Duration = Duration::from_secs(5);

/// A switch someone asked for, with when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asked {
    pub to: Target,
    pub source: Source,
    /// A planned focus length, in minutes (focus only).
    pub minutes: Option<u32>,
    pub at: DateTime<Utc>,
}

/// What the person should be told about queued switches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A switch could not be saved yet and is being retried; `hint` says why in a few words
    /// (the store's whole error is in the log).
    Waiting { asked: Asked, hint: &'static str },
    /// Every switch that waited is now in the log.
    Saved,
    /// A switch was refused for good (e.g. Weft is quitting, or the request is invalid).
    Refused { asked: Asked, why: String },
}

/// The queue's sending end; cheap to clone into every surface.
#[derive(Clone, Debug)]
pub struct Switcher {
    tx: Sender<Asked>,
}

impl Switcher {
    /// Starts the worker. `report` is called from the worker thread, only when what should be
    /// shown changes (so at most once per waiting streak); it must return at once.
    pub fn start(
        weft: Weak<Weft>,
        report: impl FnMut(Report) + Send + 'static,
    ) -> std::io::Result<Switcher> {
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("weft-switcher".into())
            .spawn(move || run(&weft, &rx, report))?;
        Ok(Switcher { tx })
    }

    /// Queues a switch asked for now. Returns at once.
    pub fn ask(&self, to: Target, source: Source) {
        self.ask_at(to, source, Utc::now());
    }

    /// Queues a switch that was due at `at` (a timer's planned time). Returns at once.
    pub fn ask_at(&self, to: Target, source: Source, at: DateTime<Utc>) {
        self.queue(Asked {
            to,
            source,
            minutes: None,
            at,
        });
    }

    /// Queues a focus block planned to last `minutes`, asked for now. Returns at once.
    pub fn ask_focus_for(&self, minutes: u32, source: Source) {
        self.queue(Asked {
            to: Target::Focus,
            source,
            minutes: Some(minutes),
            at: Utc::now(),
        });
    }

    fn queue(&self, asked: Asked) {
        let Asked { to, source, .. } = asked;
        if self.tx.send(asked).is_err() {
            log::error!("the switch to {to:?} from the {source} was not made: Weft is stopping");
        }
    }
}

fn run(weft: &Weak<Weft>, rx: &Receiver<Asked>, mut report: impl FnMut(Report)) {
    // Switches asked for and not yet in the log, oldest first.
    let mut queue: VecDeque<Asked> = VecDeque::new();
    let mut waiting = false;
    let mut delay = FIRST_RETRY;
    loop {
        if queue.is_empty() {
            match rx.recv() {
                Ok(asked) => queue.push_back(asked),
                Err(_) => return,
            }
        }
        queue.extend(rx.try_iter());
        let Some(&asked) = queue.front() else {
            continue;
        };
        let Some(weft) = weft.upgrade() else { return };
        let plan = Plan {
            minutes: asked.minutes,
            ..Plan::to(asked.to, asked.source)
        };
        match weft.switch_at(&plan, Some(asked.at)) {
            Ok(_) => {
                queue.pop_front();
                delay = FIRST_RETRY;
            }
            Err(Error::ShuttingDown) => {
                // After the stop is logged nothing may land: say what is not made.
                for asked in &queue {
                    log::warn!(
                        "the switch from the {} at {} was not made: Weft is quitting",
                        asked.source,
                        asked.at
                    );
                }
                return;
            }
            Err(e) if !retryable(&e) => {
                log::error!("the switch from the {} was refused: {e}", asked.source);
                queue.pop_front();
                report(Report::Refused {
                    asked,
                    why: e.to_string(),
                });
            }
            Err(e) => {
                log::warn!(
                    "the switch from the {} is not saved yet ({e}); retrying in {delay:?}",
                    asked.source
                );
                if !waiting {
                    waiting = true;
                    report(Report::Waiting {
                        asked,
                        hint: e
                            .storage_hint()
                            .unwrap_or("the database cannot be written now"),
                    });
                }
                drop(weft);
                // New presses join the queue meanwhile; the whole delay is waited out.
                let deadline = Instant::now() + delay;
                while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                    match rx.recv_timeout(left) {
                        Ok(more) => queue.push_back(more),
                        Err(RecvTimeoutError::Timeout) => break,
                        Err(RecvTimeoutError::Disconnected) => return,
                    }
                }
                delay = (delay * 2).min(MAX_RETRY);
                continue;
            }
        }
        if waiting && queue.is_empty() {
            waiting = false;
            log::info!("the switches that waited are saved");
            report(Report::Saved);
        }
    }
}

/// Errors worth another try: the store could not commit now (locked, busy, full, I/O).
/// A request that is invalid, or a database that is not one, will not improve by waiting.
fn retryable(e: &Error) -> bool {
    e.storage_hint().is_some()
}

/// Tells the person about queued switches: a line in the tray menu while one waits (gone once
/// it is saved), a popup once per waiting streak (straight to the desktop: the store that
/// would file it is what cannot write), and a notice for a switch refused for good.
pub fn reporter(app: AppHandle, notices: Notices, weft: Weak<Weft>) -> impl FnMut(Report) + Send {
    let mut menu = WaitingLine::default();
    move |report| {
        let now = || {
            weft.upgrade()
                .map_or(State::Coordination, |weft| weft.status().state)
        };
        if let Some(popup) = menu.apply(&notices, report, now) {
            crate::notices::show_now(&popup);
        }
        let lines = notices.lines();
        let handle = app.clone();
        let _ = app.run_on_main_thread(move || crate::tray::show_notices(&handle, &lines));
    }
}

/// The tray menu's line about switches that wait, kept from a `Waiting` report until `Saved`.
#[derive(Default)]
struct WaitingLine {
    shown: Option<String>,
}

impl WaitingLine {
    /// Updates the menu for `report` (`now`: the state before the waiting switch), and returns
    /// the popup to show, if any.
    fn apply(
        &mut self,
        notices: &Notices,
        report: Report,
        now: impl Fn() -> State,
    ) -> Option<String> {
        match report {
            Report::Waiting { asked, hint } => {
                self.take_down(notices);
                let to = match asked.to {
                    Target::Focus => State::Focus,
                    Target::Coordination => State::Coordination,
                    Target::Toggle => now().other(),
                };
                let line = waiting_line(to, hint);
                notices.add_to_menu(&line);
                self.shown = Some(line);
                Some(waiting_popup(to, asked.source, hint))
            }
            Report::Saved => {
                self.take_down(notices);
                None
            }
            // The switches behind it still wait: their line stays until they are saved.
            Report::Refused { why, .. } => {
                notices.add(&format!("A switch was not made: {why}"));
                None
            }
        }
    }

    fn take_down(&mut self, notices: &Notices) {
        if let Some(line) = self.shown.take() {
            notices.remove_from_menu(&line);
        }
    }
}

/// The tray menu's line while a switch to `to` waits to be saved.
fn waiting_line(to: State, hint: &str) -> String {
    format!("Switch to {} not saved yet: {hint}; retrying", to.label())
}

/// The popup said once per waiting streak.
fn waiting_popup(to: State, source: Source, hint: &str) -> String {
    format!(
        "Your switch to {} from the {source} is not saved yet: {hint}. Weft keeps trying and logs it at the time you asked.",
        to.label()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(to: Target) -> Asked {
        Asked {
            to,
            source: Source::Hotkey,
            minutes: None,
            at: Utc::now(),
        }
    }

    #[test]
    fn the_waiting_line_stays_until_saved_even_when_a_switch_is_refused_meanwhile() {
        let notices = Notices::default();
        let mut menu = WaitingLine::default();
        let popup = menu.apply(
            &notices,
            Report::Waiting {
                asked: asked(Target::Toggle),
                hint: "the database is locked by another program",
            },
            || State::Coordination,
        );
        assert_eq!(
            popup.as_deref(),
            Some("Your switch to Focus from the hotkey is not saved yet: the database is locked by another program. Weft keeps trying and logs it at the time you asked.")
        );
        let waiting = notices.lines();
        assert_eq!(
            waiting,
            ["Switch to Focus not saved yet: the database is locked by another program; retrying"]
        );

        // A switch behind it is refused for good: said, and the waiting line stays.
        let popup = menu.apply(
            &notices,
            Report::Refused {
                asked: asked(Target::Focus),
                why: "invalid".into(),
            },
            || State::Coordination,
        );
        assert_eq!(popup, None);
        let lines = notices.lines();
        assert!(lines.contains(&waiting[0]), "{lines:?}");
        assert!(lines
            .iter()
            .any(|l| l.contains("A switch was not made: invalid")));

        menu.apply(&notices, Report::Saved, || State::Focus);
        let lines = notices.lines();
        assert!(!lines.contains(&waiting[0]), "gone once saved: {lines:?}");
        assert_eq!(lines.len(), 1, "the refusal stays: {lines:?}");
    }
}
