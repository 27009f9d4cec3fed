//! The tray icon and its menu: the first line shows the state and for how long, then exactly
//! one switch item, "Open Weft" and "Quit". The icon shows the state.

use crate::window_process::WindowProcess;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tauri::image::Image;
use tauri::menu::{IsMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager, Wry};
use weft_core::service::Weft;
use weft_core::time::{elapsed_label, parse_rfc3339};
use weft_proto::{Source, State, Status, Target};

const TRAY_ID: &str = "weft";
const SWITCH: &str = "switch";
const OPEN: &str = "open";
const QUIT: &str = "quit";
/// Notices are long sentences; the menu shows their start.
const NOTICE_CHARS: usize = 90;

static FOCUS_ICON: &[u8] = include_bytes!("../../icons/tray-focus.png");
static COORDINATION_ICON: &[u8] = include_bytes!("../../icons/tray-coordination.png");

/// The tray and the menu items that change.
pub struct Tray {
    icon: TrayIcon,
    header: MenuItem<Wry>,
    switch: MenuItem<Wry>,
    /// The state the switch item offers, as last rendered. Read and written on the UI thread
    /// only, so a click always does what its label said.
    offers: Mutex<State>,
}

impl Tray {
    pub fn build(app: &AppHandle, status: &Status, notices: &[String]) -> tauri::Result<Tray> {
        let header = MenuItem::with_id(app, "header", header_text(status), false, None::<&str>)?;
        let offers = status.state.other();
        let switch = MenuItem::with_id(app, SWITCH, switch_text(offers), true, None::<&str>)?;
        let menu = menu(app, &header, &switch, notices)?;
        let icon = TrayIconBuilder::with_id(TRAY_ID)
            .icon(icon_for(status.state)?)
            .tooltip("Weft")
            .menu(&menu)
            .show_menu_on_left_click(true)
            .on_menu_event(on_menu_event)
            .build(app)?;
        Ok(Tray {
            icon,
            header,
            switch,
            offers: Mutex::new(offers),
        })
    }

    /// Shows a new status: icon, first line and switch item.
    pub fn render(&self, status: &Status) -> tauri::Result<()> {
        let offers = status.state.other();
        *self.offers.lock().unwrap_or_else(|p| p.into_inner()) = offers;
        self.icon.set_icon(Some(icon_for(status.state)?))?;
        self.header.set_text(header_text(status))?;
        self.switch.set_text(switch_text(offers))
    }
}

fn menu(
    app: &AppHandle,
    header: &MenuItem<Wry>,
    switch: &MenuItem<Wry>,
    notices: &[String],
) -> tauri::Result<Menu<Wry>> {
    let open = MenuItem::with_id(app, OPEN, "Open Weft", true, None::<&str>)?;
    let quit = MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?;
    let separator = PredefinedMenuItem::separator(app)?;
    let mut notice_items = Vec::new();
    for (n, text) in notices.iter().enumerate() {
        let short = shorten(text);
        notice_items.push(MenuItem::with_id(
            app,
            format!("notice-{n}"),
            format!("⚠ {short}"),
            false,
            None::<&str>,
        )?);
    }
    let notice_separator = PredefinedMenuItem::separator(app)?;
    let mut items: Vec<&dyn IsMenuItem<Wry>> = vec![header, switch, &open];
    if !notice_items.is_empty() {
        items.push(&notice_separator);
        items.extend(notice_items.iter().map(|i| i as &dyn IsMenuItem<Wry>));
    }
    items.push(&separator);
    items.push(&quit);
    Menu::with_items(app, &items)
}

/// Rebuilds the menu to list notices that arrived after start-up.
pub fn show_notices(app: &AppHandle, notices: &[String]) {
    let Some(tray) = app.try_state::<Tray>() else {
        return;
    };
    let rebuilt = menu(app, &tray.header, &tray.switch, notices)
        .and_then(|menu| tray.icon.set_menu(Some(menu)));
    if let Err(e) = rebuilt {
        log::error!("could not list notices in the tray menu: {e}");
    }
}

fn shorten(text: &str) -> String {
    if text.chars().count() <= NOTICE_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(NOTICE_CHARS - 1).collect();
    format!("{cut}…")
}

fn icon_for(state: State) -> tauri::Result<Image<'static>> {
    Image::from_bytes(match state {
        State::Focus => FOCUS_ICON,
        State::Coordination => COORDINATION_ICON,
    })
}

fn header_text(status: &Status) -> String {
    let elapsed = parse_rfc3339(&status.since)
        .map(|since| (chrono::Utc::now() - since).num_seconds())
        .unwrap_or(0);
    format!("{} · {}", status.state.label(), elapsed_label(elapsed))
}

fn switch_text(offers: State) -> String {
    format!("Switch to {}", offers.label())
}

fn on_menu_event(app: &AppHandle, event: MenuEvent) {
    match event.id().as_ref() {
        SWITCH => {
            let Some(tray) = app.try_state::<Tray>() else {
                return;
            };
            let target = match *tray.offers.lock().unwrap_or_else(|p| p.into_inner()) {
                State::Focus => Target::Focus,
                State::Coordination => Target::Coordination,
            };
            let weft = app.state::<Arc<Weft>>();
            if let Err(e) = weft.switch(target, Source::Tray, None) {
                log::error!("tray switch failed: {e}");
            }
        }
        OPEN => {
            if let Err(e) = app.state::<WindowProcess>().open() {
                log::error!("{e}");
            }
        }
        QUIT => app.exit(0),
        _ => {}
    }
}

/// Keeps the first line's "for how long" current: wakes when the shown minute count changes,
/// or at once after a switch (a message on the returned sender).
pub fn spawn_ticker(app: AppHandle, weft: Arc<Weft>) -> Sender<()> {
    let (tx, rx) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("weft-tray-ticker".into())
        .spawn(move || tick(&app, &weft, &rx));
    if let Err(e) = spawned {
        log::warn!("the tray's elapsed time will not update: {e}");
    }
    tx
}

fn tick(app: &AppHandle, weft: &Weft, wake: &Receiver<()>) {
    loop {
        let status = weft.status();
        let elapsed_ms = parse_rfc3339(&status.since)
            .map(|since| (chrono::Utc::now() - since).num_milliseconds().max(0))
            .unwrap_or(0);
        let until_next_minute = 60_000 - (elapsed_ms % 60_000) + 20;
        match wake.recv_timeout(Duration::from_millis(until_next_minute as u64)) {
            Ok(()) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let handle = app.clone();
        let posted = app.run_on_main_thread(move || {
            // Read on the UI thread, so a switch that raced this tick is not overwritten.
            let status = handle.state::<Arc<Weft>>().status();
            if let Some(tray) = handle.try_state::<Tray>() {
                if let Err(e) = tray.header.set_text(header_text(&status)) {
                    log::warn!("could not update the tray menu: {e}");
                }
            }
        });
        if posted.is_err() {
            return;
        }
    }
}
