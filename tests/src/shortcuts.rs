//! The harness's own `org.freedesktop.impl.portal.GlobalShortcuts` backend: what a desktop
//! (GNOME, KDE) gives the real `xdg-desktop-portal` frontend to bind global shortcuts. It is
//! served on the private bus at `/org/freedesktop/portal/desktop`, with
//! `org.freedesktop.impl.portal.Session` on each session's path, as xdg-desktop-portal 1.16
//! expects (`data/org.freedesktop.impl.portal.GlobalShortcuts.xml` at 1.16.0).
//!
//! A test chooses how it answers ([`Answer`], [`Triggers`]), fires `Activated` for a shortcut
//! id, and reads what was asked: every `CreateSession` and `BindShortcuts` call, and what each
//! session has bound.

use anyhow::Context;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use zbus::object_server::ObjectServer;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

/// The bus name the backend owns; the `.portal` file names it.
pub const BUS_NAME: &str = "org.freedesktop.impl.portal.desktop.weft_e2e";
/// The object path of every portal backend.
const PATH: &str = "/org/freedesktop/portal/desktop";
const INTERFACE: &str = "org.freedesktop.impl.portal.GlobalShortcuts";

/// `response` of a request that succeeded (1: cancelled by the user, 2: ended otherwise).
const SUCCESS: u32 = 0;

/// Whether a call is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// Answered at once.
    Reply,
    /// Recorded, and never answered: a hung desktop.
    Never,
}

/// What `BindShortcuts` reports as bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triggers {
    /// Every shortcut asked for, with its `preferred_trigger` as its `trigger_description`
    /// (an empty text when none was given).
    AsPreferred,
    /// Every shortcut asked for, each with this `trigger_description`: the desktop (the user)
    /// chose another key.
    Report(String),
    /// Success, with no shortcut bound.
    NoShortcuts,
}

/// A shortcut as the app asked for it in `BindShortcuts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requested {
    pub id: String,
    pub description: String,
    pub preferred_trigger: Option<String>,
}

/// A shortcut as the backend bound it and reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub id: String,
    pub description: String,
    pub trigger_description: String,
}

/// One `BindShortcuts` call.
#[derive(Debug, Clone)]
pub struct BindCall {
    pub session: String,
    pub shortcuts: Vec<Requested>,
    pub at: Instant,
}

/// A session the frontend created for an app.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub app_id: String,
    pub bound: Vec<Bound>,
    pub closed: bool,
}

#[derive(Debug)]
struct State {
    create_session: Answer,
    bind_shortcuts: Answer,
    triggers: Triggers,
    create_calls: usize,
    bind_calls: Vec<BindCall>,
    /// By session handle.
    sessions: BTreeMap<String, Session>,
}

type Shared = Arc<Mutex<State>>;

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

struct ShortcutsIface {
    state: Shared,
}

#[zbus::interface(name = "org.freedesktop.impl.portal.GlobalShortcuts")]
impl ShortcutsIface {
    async fn create_session(
        &self,
        _handle: OwnedObjectPath,
        session_handle: OwnedObjectPath,
        app_id: String,
        _options: HashMap<String, OwnedValue>,
        #[zbus(object_server)] server: &ObjectServer,
    ) -> zbus::fdo::Result<(u32, HashMap<String, OwnedValue>)> {
        let answer = {
            let mut state = lock(&self.state);
            state.create_calls += 1;
            state.create_session
        };
        if answer == Answer::Never {
            return never().await;
        }
        let session = session_handle.to_string();
        server
            .at(
                session_handle,
                SessionIface {
                    state: self.state.clone(),
                    handle: session.clone(),
                },
            )
            .await?;
        lock(&self.state).sessions.insert(
            session,
            Session {
                app_id,
                ..Session::default()
            },
        );
        // 1.16 copies `shortcuts` from these results into its answer, and fails without it.
        let mut results = HashMap::new();
        results.insert("shortcuts".to_owned(), shortcuts_value(&[])?);
        Ok((SUCCESS, results))
    }

    async fn bind_shortcuts(
        &self,
        _handle: OwnedObjectPath,
        session_handle: OwnedObjectPath,
        shortcuts: Vec<(String, HashMap<String, OwnedValue>)>,
        _parent_window: String,
        _options: HashMap<String, OwnedValue>,
    ) -> zbus::fdo::Result<(u32, HashMap<String, OwnedValue>)> {
        let session = session_handle.to_string();
        let requested: Vec<Requested> = shortcuts
            .iter()
            .map(|(id, info)| Requested {
                id: id.clone(),
                description: text(info, "description").unwrap_or_default(),
                preferred_trigger: text(info, "preferred_trigger"),
            })
            .collect();
        let (answer, bound) = {
            let mut state = lock(&self.state);
            state.bind_calls.push(BindCall {
                session: session.clone(),
                shortcuts: requested.clone(),
                at: Instant::now(),
            });
            let bound: Vec<Bound> = match &state.triggers {
                Triggers::NoShortcuts => Vec::new(),
                triggers => requested
                    .iter()
                    .map(|r| Bound {
                        id: r.id.clone(),
                        description: r.description.clone(),
                        trigger_description: match triggers {
                            Triggers::Report(trigger) => trigger.clone(),
                            _ => r.preferred_trigger.clone().unwrap_or_default(),
                        },
                    })
                    .collect(),
            };
            (state.bind_shortcuts, bound)
        };
        if answer == Answer::Never {
            return never().await;
        }
        match lock(&self.state).sessions.get_mut(&session) {
            Some(s) => s.bound = bound.clone(),
            None => {
                return Err(zbus::fdo::Error::InvalidArgs(format!(
                    "no session {session}"
                )))
            }
        }
        let mut results = HashMap::new();
        results.insert("shortcuts".to_owned(), shortcuts_value(&bound)?);
        Ok((SUCCESS, results))
    }

    async fn list_shortcuts(
        &self,
        _handle: OwnedObjectPath,
        session_handle: OwnedObjectPath,
    ) -> zbus::fdo::Result<(u32, HashMap<String, OwnedValue>)> {
        let bound = lock(&self.state)
            .sessions
            .get(session_handle.as_str())
            .map(|s| s.bound.clone())
            .unwrap_or_default();
        let mut results = HashMap::new();
        results.insert("shortcuts".to_owned(), shortcuts_value(&bound)?);
        Ok((SUCCESS, results))
    }

    #[zbus(property)]
    fn version(&self) -> u32 {
        1
    }
}

/// `org.freedesktop.impl.portal.Session` on a session's path: the frontend closes a session
/// through it when its app closes it or leaves the bus.
struct SessionIface {
    state: Shared,
    handle: String,
}

#[zbus::interface(name = "org.freedesktop.impl.portal.Session")]
impl SessionIface {
    fn close(&self) {
        if let Some(session) = lock(&self.state).sessions.get_mut(&self.handle) {
            session.closed = true;
        }
    }

    #[zbus(property)]
    fn version(&self) -> u32 {
        1
    }
}

/// A call left unanswered for as long as the backend lives.
async fn never<T>() -> T {
    std::future::pending().await
}

/// A text entry of a shortcut's vardict.
fn text(info: &HashMap<String, OwnedValue>, key: &str) -> Option<String> {
    info.get(key)
        .and_then(|v| <&str>::try_from(v).ok())
        .map(str::to_owned)
}

/// `a(sa{sv})`: shortcuts as the portal reports them.
fn shortcuts_value(bound: &[Bound]) -> zbus::fdo::Result<OwnedValue> {
    let list: Vec<(String, HashMap<String, Value<'_>>)> = bound
        .iter()
        .map(|b| {
            let mut info = HashMap::new();
            info.insert(
                "description".to_owned(),
                Value::from(b.description.as_str()),
            );
            info.insert(
                "trigger_description".to_owned(),
                Value::from(b.trigger_description.as_str()),
            );
            (b.id.clone(), info)
        })
        .collect();
    OwnedValue::try_from(Value::from(list)).map_err(|e| zbus::fdo::Error::Failed(e.to_string()))
}

/// The backend, serving on the private bus for as long as it lives.
pub struct ShortcutsBackend {
    state: Shared,
    conn: zbus::blocking::Connection,
}

impl ShortcutsBackend {
    /// Serves the backend on the bus at `bus_address` under [`BUS_NAME`]: it answers every
    /// call, and binds each shortcut with its preferred trigger, until told otherwise.
    pub fn start(bus_address: &str) -> anyhow::Result<ShortcutsBackend> {
        let state = Arc::new(Mutex::new(State {
            create_session: Answer::Reply,
            bind_shortcuts: Answer::Reply,
            triggers: Triggers::AsPreferred,
            create_calls: 0,
            bind_calls: Vec::new(),
            sessions: BTreeMap::new(),
        }));
        let conn = zbus::blocking::connection::Builder::address(bus_address)?
            .serve_at(
                PATH,
                ShortcutsIface {
                    state: state.clone(),
                },
            )?
            .name(BUS_NAME)?
            .build()
            .context("cannot serve the GlobalShortcuts backend")?;
        Ok(ShortcutsBackend { state, conn })
    }

    /// How the next `CreateSession` calls are answered.
    pub fn answer_create_session(&self, answer: Answer) {
        lock(&self.state).create_session = answer;
    }

    /// How the next `BindShortcuts` calls are answered.
    pub fn answer_bind_shortcuts(&self, answer: Answer) {
        lock(&self.state).bind_shortcuts = answer;
    }

    /// What the next `BindShortcuts` calls report as bound.
    pub fn report(&self, triggers: Triggers) {
        lock(&self.state).triggers = triggers;
    }

    /// How many times `CreateSession` was called, answered or not.
    pub fn create_session_calls(&self) -> usize {
        lock(&self.state).create_calls
    }

    /// Every `BindShortcuts` call so far, answered or not, oldest first.
    pub fn bind_calls(&self) -> Vec<BindCall> {
        lock(&self.state).bind_calls.clone()
    }

    /// Every session created so far, by handle.
    pub fn sessions(&self) -> BTreeMap<String, Session> {
        lock(&self.state).sessions.clone()
    }

    /// Marks every session closed: the frontend that held them has gone, without closing
    /// them (a killed frontend cannot).
    pub fn close_all(&self) {
        for session in lock(&self.state).sessions.values_mut() {
            session.closed = true;
        }
    }

    /// The shortcuts bound in open sessions, with their session's handle.
    pub fn bound(&self) -> Vec<(String, Bound)> {
        lock(&self.state)
            .sessions
            .iter()
            .filter(|(_, s)| !s.closed)
            .flat_map(|(handle, s)| s.bound.iter().map(|b| (handle.clone(), b.clone())))
            .collect()
    }

    /// Emits `Activated` for shortcut `id` in every open session that bound it, as a desktop
    /// does when its key is pressed. Returns how many sessions it was sent for; fails when no
    /// open session has bound `id`, so a test never fires into the void.
    pub fn activate(&self, id: &str) -> anyhow::Result<usize> {
        let sessions: Vec<String> = self
            .bound()
            .into_iter()
            .filter(|(_, b)| b.id == id)
            .map(|(handle, _)| handle)
            .collect();
        anyhow::ensure!(!sessions.is_empty(), "no open session has bound {id:?}");
        for session in &sessions {
            self.activate_in(session, id)?;
        }
        Ok(sessions.len())
    }

    /// The desktop changes the key of shortcut `id` in `session` (the user, in its settings):
    /// the bound shortcut gets `trigger` as its `trigger_description`, and `ShortcutsChanged`
    /// is emitted with the session's shortcuts. Fails unless that session is open and has
    /// bound `id`.
    pub fn change_trigger(&self, session: &str, id: &str, trigger: &str) -> anyhow::Result<()> {
        self.change_shortcuts(session, id, |bound, at| {
            bound[at].trigger_description = trigger.to_owned();
        })
    }

    /// The desktop takes shortcut `id` away from `session` (the user removed it in its
    /// settings): `ShortcutsChanged` is emitted with the session's other shortcuts.
    pub fn remove_shortcut(&self, session: &str, id: &str) -> anyhow::Result<()> {
        self.change_shortcuts(session, id, |bound, at| {
            bound.remove(at);
        })
    }

    /// Applies `change` to the shortcuts of open `session`, given the index of `id` among
    /// them, then emits `ShortcutsChanged` with what the session has bound after it.
    fn change_shortcuts(
        &self,
        session: &str,
        id: &str,
        change: impl FnOnce(&mut Vec<Bound>, usize),
    ) -> anyhow::Result<()> {
        let shortcuts: Vec<(String, HashMap<String, Value<'static>>)> = {
            let mut state = lock(&self.state);
            let bound = state
                .sessions
                .get_mut(session)
                .filter(|s| !s.closed)
                .map(|s| &mut s.bound)
                .ok_or_else(|| anyhow::anyhow!("session {session} is not open"))?;
            let at = bound
                .iter()
                .position(|b| b.id == id)
                .ok_or_else(|| anyhow::anyhow!("session {session} has not bound {id:?}"))?;
            change(bound, at);
            bound
                .iter()
                .map(|b| {
                    let properties = HashMap::from([
                        ("description".to_owned(), Value::from(b.description.clone())),
                        (
                            "trigger_description".to_owned(),
                            Value::from(b.trigger_description.clone()),
                        ),
                    ]);
                    (b.id.clone(), properties)
                })
                .collect()
        };
        let path = zbus::zvariant::ObjectPath::try_from(session)?;
        self.conn.emit_signal(
            None::<&str>,
            PATH,
            INTERFACE,
            "ShortcutsChanged",
            &(path, shortcuts),
        )?;
        Ok(())
    }

    /// Emits `Activated` for shortcut `id` in `session` only; fails unless that session is
    /// open and has bound `id`.
    pub fn activate_in(&self, session: &str, id: &str) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.bound().iter().any(|(s, b)| s == session && b.id == id),
            "session {session} has not bound {id:?}"
        );
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or_default();
        let options: HashMap<String, Value<'_>> = HashMap::new();
        let path = zbus::zvariant::ObjectPath::try_from(session)?;
        self.conn.emit_signal(
            None::<&str>,
            PATH,
            INTERFACE,
            "Activated",
            &(path, id, timestamp, &options),
        )?;
        Ok(())
    }
}
