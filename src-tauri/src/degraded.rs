//! The optional desktop parts: the tray icon, popups, desktop do-not-disturb and the hotkey.
//! Weft runs without any of them. When one does not work, Weft says so once per run (a log
//! line, a Weft notice, a line in the tray menu when there is a tray) and lists it in
//! `Status::degraded` (`weft status --json`); when it works again, the list drops it and so
//! does the tray menu.
//!
//! Some parts have more than one cause: the tray needs its library and a tray host
//! (a StatusNotifierWatcher or an XEmbed system tray); popups need a notification server on the
//! bus and the delivery worker's last attempt to have worked. [`Health`] keeps the causes and
//! settles each part from them, under one lock so two threads cannot settle a part out of
//! order. Lock order: this lock, then the dispatcher's (never the reverse: nothing the
//! dispatcher calls with its lock held calls in here).

use crate::notices::Notices;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use tauri::AppHandle;
use weft_core::service::Weft;
use weft_proto::DesktopPart;

/// What hosts a tray icon on this desktop.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))] // Only Linux looks for hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayHost {
    /// `org.kde.StatusNotifierWatcher` on the session bus (KDE, GNOME's AppIndicator
    /// extension, waybar, most panels).
    StatusNotifier,
    /// An XEmbed system tray (`_NET_SYSTEM_TRAY_S<screen>` on the X display).
    XEmbed,
}

/// The optional parts' health, shared by the threads that learn about it.
#[derive(Clone)]
pub struct Health {
    inner: Arc<Inner>,
}

struct Inner {
    weft: Weak<Weft>,
    notices: Notices,
    /// The running app, for the tray menu; set once the event loop is up.
    app: OnceLock<AppHandle>,
    /// Wakes the delivery worker; set once it runs.
    deliveries: OnceLock<Sender<()>>,
    /// Bumped whenever a notification server appears: the delivery worker then retries its
    /// owed popups at once instead of after their backoff.
    server_generation: AtomicU64,
    /// `quiet_desktop` is on (config): a server Weft cannot quiet is then a missing part.
    quiet_wanted: AtomicBool,
    causes: Mutex<Causes>,
}

#[derive(Default)]
struct Causes {
    /// Why no tray can exist in this run (its library does not load, or building it failed).
    tray_broken: Option<String>,
    /// Tray hosts known to be missing; both missing means nothing shows the icon.
    hosts_missing: HashSet<HostKey>,
    /// Why no notification server is there (none running and none activatable).
    no_server: Option<String>,
    /// The delivery worker's last attempt failed and popups are still owed.
    popups_failing: Option<String>,
    /// Failures reported from outside: the hotkey (it says so itself; only listed here) and
    /// desktop do-not-disturb (a server Weft cannot quiet; its menu line is kept here).
    reported: HashMap<DesktopPart, String>,
    /// The notice line each degraded part shows in the tray menu.
    shown: HashMap<DesktopPart, String>,
    /// Parts announced in this run: a part is announced once, not at every flap.
    said: HashSet<DesktopPart>,
    /// The bus watch read the notification server's name at its last change (or saw that none
    /// runs): it is then the one reporter of whether Weft can quiet it.
    server_named: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum HostKey {
    StatusNotifier,
    XEmbed,
}

impl Health {
    pub fn new(weft: &Arc<Weft>, notices: Notices) -> Health {
        Health {
            inner: Arc::new(Inner {
                weft: Arc::downgrade(weft),
                notices,
                app: OnceLock::new(),
                deliveries: OnceLock::new(),
                server_generation: AtomicU64::new(0),
                quiet_wanted: AtomicBool::new(true),
                causes: Mutex::new(Causes::default()),
            }),
        }
    }

    /// Connects the running app (for the tray menu) and the delivery worker.
    pub fn attach(&self, app: AppHandle, deliveries: Sender<()>) {
        let _ = self.inner.app.set(app);
        let _ = self.inner.deliveries.set(deliveries);
    }

    /// No tray can be shown in this run: `reason` says why (its library, or building it).
    pub fn tray_broken(&self, reason: &str) {
        let mut causes = self.lock();
        causes.tray_broken = Some(reason.to_owned());
        self.settle(&mut causes, DesktopPart::Tray);
    }

    /// Whether `host` is there to show a tray icon.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub fn tray_host(&self, host: TrayHost, present: bool) {
        let key = match host {
            TrayHost::StatusNotifier => HostKey::StatusNotifier,
            TrayHost::XEmbed => HostKey::XEmbed,
        };
        let mut causes = self.lock();
        let changed = if present {
            causes.hosts_missing.remove(&key)
        } else {
            causes.hosts_missing.insert(key)
        };
        if changed {
            self.settle(&mut causes, DesktopPart::Tray);
        }
    }

    /// Whether a notification server is on the bus (`None`), or why not.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub fn notification_server(&self, missing: Option<String>) {
        let mut causes = self.lock();
        let appeared = causes.no_server.is_some() && missing.is_none();
        causes.no_server = missing;
        if appeared {
            self.inner.server_generation.fetch_add(1, Ordering::SeqCst);
            if let Some(deliveries) = self.inner.deliveries.get() {
                let _ = deliveries.send(());
            }
        }
        self.settle(&mut causes, DesktopPart::Notifications);
    }

    /// Whether desktop do-not-disturb is wanted (`quiet_desktop` in config.toml).
    pub fn quiet_wanted(&self, wanted: bool) {
        self.inner.quiet_wanted.store(wanted, Ordering::SeqCst);
    }

    /// The notification server now goes by `name` (`GetServerInformation`), or none runs.
    /// One Weft cannot quiet lists desktop do-not-disturb (while it is wanted); a server
    /// that replaces it, or none, drops it again.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub fn notification_server_named(&self, name: Option<&str>) {
        let wanted = self.inner.quiet_wanted.load(Ordering::SeqCst);
        let problem = name
            .filter(|name| wanted && !crate::quiet::can_quiet(name))
            .map(|name| {
                format!(
                    "The notification server \"{name}\" is not one Weft can quiet (dunst, GNOME, KDE); other apps' popups still show during focus."
                )
            });
        let mut causes = self.lock();
        causes.server_named = true;
        self.report_in(&mut causes, DesktopPart::QuietDesktop, problem.as_deref());
    }

    /// The bus watch could not read the new notification server's name: until it can, the
    /// quiet worker's finding counts.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub fn notification_server_unnamed(&self) {
        self.lock().server_named = false;
    }

    /// The quiet worker met a server it cannot quiet (`problem` names it). It counts only
    /// while the bus watch has no name of its own: the worker's name may be older than the
    /// watch's (a server replaced while the worker asked), and nothing takes it back.
    pub fn quiet_server_unknown(&self, problem: &str) {
        let mut causes = self.lock();
        if !causes.server_named {
            self.report_in(&mut causes, DesktopPart::QuietDesktop, Some(problem));
        }
    }

    /// The delivery worker's view: its last attempt failed (`Some(why)`) and popups are
    /// still owed, or every owed popup was shown (`None`).
    pub fn popups_failing(&self, failing: Option<String>) {
        let mut causes = self.lock();
        if causes.popups_failing.is_some() == failing.is_some() {
            return;
        }
        causes.popups_failing = failing;
        self.settle(&mut causes, DesktopPart::Notifications);
    }

    /// Counts the times a notification server appeared (see [`Health::notification_server`]).
    pub fn server_generation(&self) -> u64 {
        self.inner.server_generation.load(Ordering::SeqCst)
    }

    /// A part that says so itself (desktop do-not-disturb, the hotkey) does not work
    /// (`Some(notice)`) or works (`None`).
    pub fn reported(&self, part: DesktopPart, problem: Option<&str>) {
        let mut causes = self.lock();
        self.report_in(&mut causes, part, problem);
    }

    fn report_in(&self, causes: &mut Causes, part: DesktopPart, problem: Option<&str>) {
        match problem {
            Some(text) => causes.reported.insert(part, text.to_owned()),
            None => causes.reported.remove(&part),
        };
        self.settle(causes, part);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Causes> {
        self.inner.causes.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides whether `part` works from its causes, and says so when that changed.
    fn settle(&self, causes: &mut Causes, part: DesktopPart) {
        let Some(weft) = self.inner.weft.upgrade() else {
            return;
        };
        let problem = match part {
            DesktopPart::Tray => tray_problem(causes),
            DesktopPart::Notifications => notifications_problem(causes),
            // Two threads report it (the bus watch, from the server's name; the quiet worker,
            // when it meets the server): the menu line is kept here, so it goes with the part.
            DesktopPart::QuietDesktop => causes.reported.get(&part).cloned(),
            DesktopPart::Hotkey => None,
        };
        let reported_itself = causes.reported.contains_key(&part);
        let down = problem.is_some() || reported_itself;
        let changed = weft.set_degraded(part, down);
        let shown = causes.shown.get(&part).cloned();
        if !changed && shown == problem {
            return;
        }
        let notices = &self.inner.notices;
        if let Some(old) = shown.as_ref().filter(|old| problem.as_ref() != Some(*old)) {
            notices.remove_from_menu(old);
            causes.shown.remove(&part);
        }
        match problem {
            Some(text) if shown.as_ref() != Some(&text) => {
                let first = causes.said.insert(part);
                if first || !changed {
                    // The first time in this run, or a new reason while it was down already
                    // (no tray host, then its library does not load either).
                    log::warn!("{text}");
                    if matches!(part, DesktopPart::Notifications | DesktopPart::QuietDesktop) {
                        // A popup about missing popups would wait for a server, and one about
                        // popups Weft cannot pause is the log's and the menu's to say (README):
                        // the tray menu and the log say it now, `weft status` lists it.
                        notices.add_to_menu(&text);
                    } else {
                        notices.add(&text);
                        notices.file_pending(&weft);
                    }
                } else {
                    log::info!("{} does not work again: {text}", part.as_str());
                    notices.add_to_menu(&text);
                }
                causes.shown.insert(part, text);
            }
            Some(_) => {}
            None if down => log::info!("{} does not work (said above)", part.as_str()),
            None => log::info!("{} works again", part.as_str()),
        }
        self.refresh_tray_menu();
    }

    fn refresh_tray_menu(&self) {
        let Some(app) = self.inner.app.get() else {
            return;
        };
        let lines = self.inner.notices.lines();
        let handle = app.clone();
        let _ = app.run_on_main_thread(move || crate::tray::show_notices(&handle, &lines));
    }
}

fn tray_problem(causes: &Causes) -> Option<String> {
    const WITHOUT: &str = "Weft keeps running without it: switch with the hotkey or `weft toggle`, and open the window with `weft open`";
    if let Some(reason) = &causes.tray_broken {
        return Some(format!(
            "The tray icon cannot be shown ({reason}). {WITHOUT}."
        ));
    }
    let nothing_hosts = causes.hosts_missing.contains(&HostKey::StatusNotifier)
        && causes.hosts_missing.contains(&HostKey::XEmbed);
    nothing_hosts.then(|| {
        format!(
            "Nothing on this desktop shows tray icons (no StatusNotifierWatcher on the session bus, no XEmbed system tray). {WITHOUT}; starting Weft again (from your app menu, say) opens its window too. The icon appears when a panel starts: on GNOME, the AppIndicator extension shows it."
        )
    })
}

fn notifications_problem(causes: &Causes) -> Option<String> {
    let reason = causes
        .no_server
        .as_deref()
        .or(causes.popups_failing.as_deref())?;
    Some(format!(
        "Popups cannot be shown ({reason}). Weft keeps them in the Inbox (`weft inbox`) and shows them once a notification server runs."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_core::clock::SystemClock;
    use weft_core::store::Store;

    fn weft() -> Result<Arc<Weft>, Box<dyn std::error::Error>> {
        Ok(Arc::new(Weft::start(
            Store::open_in_memory()?,
            Arc::new(SystemClock),
        )?))
    }

    fn notices_filed(weft: &Weft) -> Result<usize, Box<dyn std::error::Error>> {
        Ok(weft.inbox()?.iter().filter(|i| i.title == "Weft").count())
    }

    #[test]
    fn a_missing_tray_is_listed_said_once_and_dropped_when_a_host_comes(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let weft = weft()?;
        let notices = Notices::default();
        let health = Health::new(&weft, notices.clone());
        health.tray_host(TrayHost::StatusNotifier, false);
        assert!(
            weft.status().degraded.is_empty(),
            "XEmbed may still host it"
        );
        health.tray_host(TrayHost::XEmbed, false);
        assert_eq!(weft.status().degraded, [DesktopPart::Tray]);
        assert_eq!(notices.lines().len(), 1);
        assert_eq!(notices_filed(&weft)?, 1);

        health.tray_host(TrayHost::StatusNotifier, true);
        assert!(weft.status().degraded.is_empty());
        assert!(notices.lines().is_empty(), "the menu line goes with it");
        // The panel goes and comes again: listed again, but said once per run.
        health.tray_host(TrayHost::StatusNotifier, false);
        assert_eq!(weft.status().degraded, [DesktopPart::Tray]);
        assert_eq!(notices_filed(&weft)?, 1);
        // A new reason while it is listed (its library): said, and it replaces the line.
        health.tray_broken("no appindicator library loads");
        assert_eq!(notices_filed(&weft)?, 2);
        let lines = notices.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("no appindicator library loads"),
            "{lines:?}"
        );
        // A library that does not load wins over any host.
        health.tray_host(TrayHost::StatusNotifier, true);
        assert_eq!(weft.status().degraded, [DesktopPart::Tray]);
        Ok(())
    }

    #[test]
    fn popups_are_listed_until_a_server_is_there_and_the_owed_ones_were_shown(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let weft = weft()?;
        let notices = Notices::default();
        let health = Health::new(&weft, notices.clone());
        let generation = health.server_generation();
        health.notification_server(Some("no notification server on the session bus".into()));
        health.popups_failing(Some("org.freedesktop.DBus.Error.ServiceUnknown".into()));
        assert_eq!(weft.status().degraded, [DesktopPart::Notifications]);
        assert_eq!(notices_filed(&weft)?, 0, "no popup about missing popups");
        assert_eq!(notices.lines().len(), 1, "the tray menu says it");

        // A server appears: the worker is told to retry at once; still listed until it did.
        health.notification_server(None);
        assert_eq!(health.server_generation(), generation + 1);
        assert_eq!(weft.status().degraded, [DesktopPart::Notifications]);
        health.popups_failing(None);
        assert!(weft.status().degraded.is_empty());
        assert!(notices.lines().is_empty());

        // The hotkey says so itself; it is only listed.
        health.reported(DesktopPart::Hotkey, Some("no key types F"));
        assert_eq!(weft.status().degraded, [DesktopPart::Hotkey]);
        assert!(notices.lines().is_empty());
        health.reported(DesktopPart::Hotkey, None);
        assert!(weft.status().degraded.is_empty());

        // The server's name decides, whenever it changes; off in config.toml, nothing is.
        health.notification_server_named(Some("xfce4-notifyd"));
        assert_eq!(weft.status().degraded, [DesktopPart::QuietDesktop]);
        let lines = notices.lines();
        assert_eq!(lines.len(), 1, "the tray menu names the server: {lines:?}");
        assert!(lines[0].contains("xfce4-notifyd"), "{lines:?}");
        assert_eq!(
            notices_filed(&weft)?,
            0,
            "the log and the menu say it, no popup"
        );
        health.notification_server_named(Some("dunst"));
        assert!(weft.status().degraded.is_empty());
        assert!(notices.lines().is_empty(), "the menu line goes with it");
        health.notification_server_named(Some("xfce4-notifyd"));
        health.notification_server_named(None);
        assert!(
            weft.status().degraded.is_empty(),
            "no server: nothing to quiet"
        );
        health.quiet_wanted(false);
        health.notification_server_named(Some("xfce4-notifyd"));
        assert!(weft.status().degraded.is_empty());
        Ok(())
    }

    #[test]
    fn the_quiet_workers_finding_counts_only_while_the_bus_watch_has_no_name(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let weft = weft()?;
        let notices = Notices::default();
        let health = Health::new(&weft, notices.clone());
        let old = "The notification server \"xfce4-notifyd\" is not one Weft can quiet";
        // The watch could not read a name: the worker's finding is listed.
        health.quiet_server_unknown(old);
        assert_eq!(weft.status().degraded, [DesktopPart::QuietDesktop]);
        // The watch names the server that took over (dunst): not listed, and a finding the
        // worker made about the server before it comes too late to list it again.
        health.notification_server_named(Some("dunst"));
        assert!(weft.status().degraded.is_empty());
        health.quiet_server_unknown(old);
        assert!(weft.status().degraded.is_empty(), "a stale finding");
        assert!(notices.lines().is_empty());
        // The watch loses the name again (a server that does not answer): the worker counts.
        health.notification_server_unnamed();
        health.quiet_server_unknown(old);
        assert_eq!(weft.status().degraded, [DesktopPart::QuietDesktop]);
        Ok(())
    }

    #[test]
    fn the_tray_is_missing_only_when_broken_or_no_host_at_all() {
        let mut causes = Causes::default();
        assert_eq!(tray_problem(&causes), None);
        causes.hosts_missing.insert(HostKey::StatusNotifier);
        assert_eq!(tray_problem(&causes), None, "XEmbed still shows it");
        causes.hosts_missing.insert(HostKey::XEmbed);
        assert!(tray_problem(&causes).is_some_and(|t| t.contains("StatusNotifierWatcher")));
        causes.hosts_missing.clear();
        causes.tray_broken = Some("libayatana-appindicator3.so.1: file too short".into());
        assert!(tray_problem(&causes).is_some_and(|t| t.contains("file too short")));
    }

    #[test]
    fn popups_work_only_with_a_server_and_no_failing_attempt() {
        let mut causes = Causes::default();
        assert_eq!(notifications_problem(&causes), None);
        causes.popups_failing = Some("ServiceUnknown".into());
        assert!(notifications_problem(&causes).is_some());
        causes.popups_failing = None;
        causes.no_server = Some("no notification server on the session bus".into());
        assert!(
            notifications_problem(&causes).is_some_and(|t| t.contains("no notification server"))
        );
    }
}
