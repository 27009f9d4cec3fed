//! The global hotkey (default Ctrl+Alt+F) toggles the state. config.toml sets it, and
//! `hotkey = "off"` registers none. A combination that cannot be grabbed becomes a notice, and
//! so does a problem the listener meets later (on X11: a keyboard layout without the key).
//!
//! The listener is platform code with one signature: on Linux it is Weft's own X11 grab
//! ([`x11`]), which waits on the X connection so a press reaches the dispatcher at once; other
//! platforms use tauri-plugin-global-shortcut ([`portable`]). In a Wayland session on Linux
//! the desktop binds the key instead, through the GlobalShortcuts portal ([`portal`]).

#[cfg(not(target_os = "linux"))]
mod portable;
#[cfg(target_os = "linux")]
pub mod portal;
#[cfg(target_os = "linux")]
mod x11;

#[cfg(not(target_os = "linux"))]
use portable as platform;
#[cfg(target_os = "linux")]
use x11 as platform;

use crate::degraded::Health;
use crate::notices::Notices;
use crate::switcher::Switcher;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, Weak};
use tauri::{AppHandle, Manager};
use weft_core::config::Hotkey;
use weft_core::service::Weft;
use weft_proto::{DesktopPart, Source, Target};

/// How the hotkey in effect can be changed (`Request::ChangeHotkey`), kept as the app's state
/// once the hotkey is registered.
pub enum HowToChange {
    /// Weft grabs the key itself: the `hotkey` setting.
    Setting,
    /// The desktop binds it: its own dialog, through the portal (where the portal has one).
    #[cfg(target_os = "linux")]
    Portal(portal::Control),
}

impl HowToChange {
    /// Asks the desktop for its dialog, or says what to do instead.
    ///
    /// # Errors
    /// The text for the person who asked: why there is no dialog, and where the key is set.
    pub fn change(&self) -> Result<(), String> {
        const DESKTOP_SETTINGS: &str =
            "Change the key in your desktop's keyboard shortcut settings, where Weft's shortcut is listed.";
        match self {
            HowToChange::Setting => Err(
                "Weft sets this hotkey itself: change the `hotkey` setting in config.toml and start Weft again."
                    .into(),
            ),
            #[cfg(target_os = "linux")]
            HowToChange::Portal(control) => control.change().map_err(|e| match e {
                portal::Error::NoConfigure { .. } => {
                    let mut text = upper_first(&e.to_string());
                    text.push_str(". ");
                    text.push_str(DESKTOP_SETTINGS);
                    text
                }
                portal::Error::Unbound => format!(
                    "{}: the tray menu says why. Switch from the tray or with `weft toggle`.",
                    upper_first(&e.to_string())
                ),
                other => format!("{}. {DESKTOP_SETTINGS}", upper_first(&other.to_string())),
            }),
        }
    }
}

/// `text` with its first letter in upper case, to start a sentence with an error's text.
fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Registers the configured hotkey. Returns a notice when it could not be registered; a
/// problem found later is added to `notices` (tray menu, and filed like any notice). A press
/// is queued on `switcher`, so the listener never waits on the disk. The hotkey in effect is
/// told to `weft` (`Status::hotkey`), and how it can be changed is kept as the app's
/// [`HowToChange`].
pub fn register(
    app: &AppHandle,
    setting: &Hotkey,
    weft: &Arc<Weft>,
    switcher: Switcher,
    notices: &Notices,
    health: &Health,
) -> Option<String> {
    let combo = match setting {
        Hotkey::Off => {
            log::info!("global hotkey is off (config)");
            return None;
        }
        Hotkey::Keys(combo) => *combo,
    };
    let on_press = Box::new(move || switcher.ask(Target::Toggle, Source::Hotkey));
    #[cfg(target_os = "linux")]
    if portal::wanted_here() {
        // Only the desktop's answer says which key is in effect.
        let on_problem = later_problems(app, notices, health, Arc::downgrade(weft), None);
        let app_id = app.config().identifier.clone();
        return match through_portal(&combo, &app_id, Arc::downgrade(weft), on_press, on_problem) {
            Ok(control) => {
                app.manage(HowToChange::Portal(control));
                None
            }
            Err(notice) => Some(notice),
        };
    }
    app.manage(HowToChange::Setting);
    let grabbed = Some(combo.to_string());
    let on_problem = later_problems(app, notices, health, Arc::downgrade(weft), grabbed.clone());
    // Before the listener starts: a problem it finds at once clears it again.
    weft.set_hotkey(grabbed);
    match platform::listen(app, &combo, on_press, on_problem) {
        Ok(()) => {
            log::info!("global hotkey \"{combo}\" registered");
            None
        }
        Err(reason) => {
            weft.set_hotkey(None);
            Some(format!(
                "The hotkey {combo} could not be registered ({reason}). Switch from the tray or with `weft toggle`, or set another hotkey in config.toml."
            ))
        }
    }
}

/// Asks the desktop to bind `combo` through the portal, once, without waiting for its answer,
/// registering as `app_id` first where the portal has the host Registry. The answer goes to
/// the log: the trigger in effect, which `weft` shows, or why there is none, which also goes
/// to `on_problem` (a notice, once, and the hotkey listed as degraded). Returns the portal
/// thread's [`portal::Control`], or the notice when the thread could not start.
#[cfg(target_os = "linux")]
fn through_portal(
    combo: &weft_core::hotkey::Combo,
    app_id: &str,
    weft: Weak<Weft>,
    on_press: Box<dyn Fn() + Send>,
    on_problem: Box<dyn Fn(Option<String>) + Send>,
) -> Result<portal::Control, String> {
    let shown = *combo;
    let on_outcome = Box::new(
        move |outcome: Result<portal::Binding, portal::Error>| match outcome {
            Ok(portal::Binding {
                trigger,
                changeable,
            }) => {
                // A desktop that describes no trigger has bound the one asked for.
                let in_effect = if trigger.trim().is_empty() {
                    shown.to_string()
                } else {
                    trigger.clone()
                };
                if let Some(weft) = weft.upgrade() {
                    weft.set_hotkey(Some(in_effect));
                    weft.set_hotkey_changeable(changeable);
                }
                // A problem said before (a portal that went away) is over.
                on_problem(None);
                log::info!("global hotkey bound by the desktop portal: {trigger:?}");
            }
            Err(e) => {
                log::warn!("the global hotkey could not be bound through the desktop portal: {e}");
                on_problem(Some(portal_problem(&shown, &e)));
            }
        },
    );
    match portal::listen(combo, app_id, portal::TIMEOUTS, on_press, on_outcome) {
        Ok(control) => {
            log::info!(
                "asked the desktop portal to bind the global hotkey (preferred: {})",
                combo.portal_trigger()
            );
            Ok(control)
        }
        Err(e) => Err(format!(
            "The hotkey {combo} could not be set up ({e}). Switch from the tray or with `weft toggle`."
        )),
    }
}

/// The notice for a hotkey the portal did not bind: what happened, and what the user can do.
#[cfg(target_os = "linux")]
fn portal_problem(combo: &weft_core::hotkey::Combo, error: &portal::Error) -> String {
    const BIND_YOURSELF: &str = "bind `weft toggle` to a key in your desktop's keyboard shortcut settings (the README shows how for GNOME, sway and Hyprland)";
    match error {
        portal::Error::NoPortal(_) | portal::Error::NoGlobalShortcuts => format!(
            "This desktop lets no app set a global hotkey ({error}), so {combo} does nothing here. To switch with a key, {BIND_YOURSELF}. Meanwhile switch from the tray or with `weft toggle`."
        ),
        portal::Error::Gone => format!(
            "The hotkey {combo} does nothing for now: {error}. Weft binds it again when the portal is back; meanwhile switch from the tray or with `weft toggle`."
        ),
        portal::Error::Timeout { .. } => format!(
            "The hotkey {combo} is not set: {error}. Switch from the tray or with `weft toggle`; Weft asks again at its next start, or when the desktop's portal restarts."
        ),
        portal::Error::Cancelled
        | portal::Error::NotBound
        | portal::Error::Failed(_)
        | portal::Error::Removed
        | portal::Error::NoConfigure { .. }
        | portal::Error::Unbound
        | portal::Error::Busy => format!(
            "The desktop did not set the hotkey {combo} ({error}). Switch from the tray or with `weft toggle`, or {BIND_YOURSELF}."
        ),
    }
}

/// Where what the listener finds after start-up goes: while a problem lasts, `degraded` lists
/// the hotkey, the tray menu has its line and no hotkey is in effect; each problem is said
/// once per run (the log, by the listener; a notice, here); all go when the hotkey works
/// again, and `working` is in effect again.
fn later_problems(
    app: &AppHandle,
    notices: &Notices,
    health: &Health,
    weft: Weak<Weft>,
    working: Option<String>,
) -> Box<dyn Fn(Option<String>) + Send> {
    let app = app.clone();
    let notices = notices.clone();
    let health = health.clone();
    // The problems said so far, and the one the menu shows now.
    let state: Mutex<(HashSet<String>, Option<String>)> = Mutex::new((HashSet::new(), None));
    Box::new(move |problem: Option<String>| {
        // The status first: whoever reads the notice then finds it settled.
        health.reported(DesktopPart::Hotkey, problem.as_deref());
        if let Some(weft) = weft.upgrade() {
            match (&problem, &working) {
                (Some(_), _) => {
                    weft.set_hotkey(None);
                }
                (None, Some(working)) => {
                    weft.set_hotkey(Some(working.clone()));
                }
                // The portal sets the key in effect itself, with the desktop's answer.
                (None, None) => {}
            }
        }
        {
            let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
            let (said, shown) = &mut *state;
            if let Some(old) = shown.take() {
                notices.remove_from_menu(&old);
            }
            if let Some(text) = &problem {
                if said.insert(text.clone()) {
                    notices.add(text);
                    if let Some(weft) = weft.upgrade() {
                        notices.file_pending(&weft);
                    }
                } else {
                    notices.add_to_menu(text);
                }
                *shown = Some(text.clone());
            }
        }
        let lines = notices.lines();
        let handle = app.clone();
        let _ = app.run_on_main_thread(move || crate::tray::show_notices(&handle, &lines));
    })
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn a_desktop_without_global_shortcuts_is_told_how_to_bind_weft_toggle() -> Result<(), String> {
        let combo = "Ctrl+Alt+F".parse()?;
        let text = portal_problem(&combo, &portal::Error::NoGlobalShortcuts);
        assert_eq!(
            text,
            "This desktop lets no app set a global hotkey (the desktop portal has no global shortcuts), so Ctrl+Alt+F does nothing here. To switch with a key, bind `weft toggle` to a key in your desktop's keyboard shortcut settings (the README shows how for GNOME, sway and Hyprland). Meanwhile switch from the tray or with `weft toggle`."
        );
        let timeout = portal::Error::Timeout {
            step: "CreateSession",
            limit: std::time::Duration::from_secs(10),
        };
        assert!(
            portal_problem(&combo, &timeout).contains("did not answer CreateSession within 10 s")
        );
        assert!(portal_problem(&combo, &portal::Error::NotBound).contains("weft toggle"));
        Ok(())
    }
}
