//! The notification side of the store: notifications as the hold policy filed them, the
//! digests that released held ones, and the popups still owed to the desktop.

use super::{classify, Store};
use crate::time::{from_ms, to_ms};
use crate::Result;
use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use weft_proto::{Disposition, InboxItem, InboxState, NotificationSource, Urgency};

/// A notification to file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification<'a> {
    pub received: DateTime<Utc>,
    pub title: &'a str,
    pub body: &'a str,
    pub urgency: Urgency,
    pub from: Option<&'a str>,
    pub disposition: Disposition,
    /// Weft's own note that must show even on a silenced desktop (not an interruption).
    pub shows_in_focus: bool,
    /// The window view a click on it opens.
    pub opens: Option<weft_proto::View>,
    /// A teammate's ping: its key (server, team and ping id), unique in the store.
    pub ping: Option<&'a str>,
    /// Another app's notification, seen on the desktop: which app, and the id its server gave.
    pub desktop: Option<DesktopOrigin<'a>>,
}

impl NewNotification<'_> {
    /// Who sent it, as the store names it: another app, a teammate, or Weft itself.
    pub fn source(&self) -> NotificationSource {
        if self.desktop.is_some() {
            NotificationSource::Desktop
        } else if self.ping.is_some() {
            NotificationSource::Ping
        } else {
            NotificationSource::Weft
        }
    }
}

/// Where a desktop notification came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesktopOrigin<'a> {
    /// The app's name (`app_name`, or the sending process's name).
    pub app: &'a str,
    /// The id the notification server assigned, when its reply was seen.
    pub server_id: Option<u32>,
    /// A break-through is owed as Weft's own popup (the desktop is silenced during focus).
    pub copy: bool,
}

/// What replacing a stored desktop notification found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replaced {
    pub id: i64,
    /// It was held before, so the held count is unchanged by a held replacement.
    pub was_held: bool,
}

/// What a digest is for, and why it was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseReason {
    /// Coordination began.
    Coordination,
    /// A configured release time came during focus.
    ReleaseTime,
}

impl ReleaseReason {
    fn as_str(self) -> &'static str {
        match self {
            ReleaseReason::Coordination => "coordination",
            ReleaseReason::ReleaseTime => "release_time",
        }
    }
}

/// A popup the desktop has not taken yet: a notification shown at once, or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Popup {
    pub key: PopupKey,
    pub summary: String,
    pub body: String,
    pub urgency: Urgency,
    pub attempts: u32,
    /// When it was filed (the notification arrived, or the digest was made).
    pub created: DateTime<Utc>,
    /// It must show during focus (a break-through, a digest at a release time, or one of
    /// Weft's own notes such as the stash shown again), so a silenced desktop is lifted for it.
    pub breaks_focus: bool,
    /// The window view a click on it opens (a name this Weft does not know opens none).
    pub opens: Option<weft_proto::View>,
}

/// Which row a popup comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PopupKey {
    Notification(i64),
    Digest(i64),
}

impl PopupKey {
    fn table(self) -> (&'static str, i64) {
        match self {
            PopupKey::Notification(id) => ("notifications", id),
            PopupKey::Digest(id) => ("digests", id),
        }
    }
}

/// The outcome of releasing the held items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    /// Items that left the held state (low and normal).
    pub items: usize,
    /// The digest that pops up, if any `normal` item was held.
    pub digest: Option<i64>,
}

/// Whether Weft owes the desktop a popup for a notification filed so: not for a held one, nor
/// for another app's delivered one (the desktop showed it already), nor for another app's
/// break-through unless the desktop is silenced ([`DesktopOrigin::copy`]).
fn owed(n: &NewNotification<'_>) -> bool {
    match (n.disposition, &n.desktop) {
        (Disposition::Held, _) => false,
        (Disposition::Delivered, desktop) => desktop.is_none(),
        (Disposition::BreakThrough, desktop) => desktop.as_ref().is_none_or(|d| d.copy),
    }
}

fn urgency(text: &str) -> Urgency {
    text.parse().unwrap_or(Urgency::Normal)
}

impl Store {
    /// Files a notification; held ones wait for a digest, the others are owed a popup.
    pub fn record_notification(&mut self, n: &NewNotification<'_>) -> Result<i64> {
        let owed = owed(n);
        self.conn
            .execute(
                "INSERT INTO notifications
                     (received_ms, title, body, urgency, sender, state, owed, shows_in_focus, opens,
                      ping_key, source, app, server_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                params![
                    to_ms(n.received),
                    n.title,
                    n.body,
                    n.urgency.as_str(),
                    n.from,
                    n.disposition.as_str(),
                    owed,
                    n.shows_in_focus,
                    n.opens.map(weft_proto::View::as_str),
                    n.ping,
                    n.source().as_str(),
                    n.desktop.map(|d| d.app),
                    n.desktop.and_then(|d| d.server_id),
                ],
            )
            .map_err(|e| classify(&self.path, e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Files a desktop notification that replaces the one the server numbered `replaces` for
    /// the same app: that item takes the new text, time and disposition (and the server's new
    /// id), in place. `None` when no such item is stored (then the caller files a new one).
    pub fn replace_desktop(
        &mut self,
        replaces: u32,
        n: &NewNotification<'_>,
    ) -> Result<Option<Replaced>> {
        let Some(origin) = n.desktop else {
            return Ok(None);
        };
        let path = self.path.clone();
        let fail = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(fail)?;
        let found = tx
            .query_row(
                "SELECT id, state FROM notifications
                 WHERE server_id = ?1 AND source = 'desktop' AND app = ?2
                 ORDER BY id DESC LIMIT 1",
                params![replaces, origin.app],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)? == "held")),
            )
            .optional()
            .map_err(fail)?;
        let Some((id, was_held)) = found else {
            return Ok(None);
        };
        tx.execute(
            "UPDATE notifications SET received_ms = ?1, title = ?2, body = ?3, urgency = ?4,
                 state = ?5, owed = ?6, digest_id = NULL, released_ms = NULL, shown_ms = NULL,
                 attempts = 0, last_error = NULL, server_id = coalesce(?7, server_id)
             WHERE id = ?8",
            params![
                to_ms(n.received),
                n.title,
                n.body,
                n.urgency.as_str(),
                n.disposition.as_str(),
                owed(n),
                origin.server_id,
                id
            ],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(Some(Replaced { id, was_held }))
    }

    /// Counts a transient desktop notification (the `transient` hint): its app, time,
    /// disposition and server id, never its text, and never an Inbox item.
    pub fn record_transient(
        &mut self,
        at: DateTime<Utc>,
        origin: DesktopOrigin<'_>,
        disposition: Disposition,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO transients (at_ms, app, state, server_id) VALUES (?1, ?2, ?3, ?4)",
                params![
                    to_ms(at),
                    origin.app,
                    disposition.as_str(),
                    origin.server_id
                ],
            )
            .map(drop)
            .map_err(|e| classify(&self.path, e))
    }

    /// The server ids of the desktop notifications seen at or after `since`, kept or
    /// transient, oldest first (then by id): what Weft closes on the server (`CloseNotification`) so the
    /// desktop does not replay what focus held back (`desktop_replay = "digest"`).
    pub fn desktop_ids_since(&self, since: DateTime<Utc>) -> Result<Vec<u32>> {
        let fail = |e| classify(&self.path, e);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT server_id FROM (
                     SELECT received_ms AS at_ms, server_id FROM notifications
                     WHERE received_ms >= ?1 AND source = 'desktop' AND server_id IS NOT NULL
                     UNION ALL
                     SELECT at_ms, server_id FROM transients
                     WHERE at_ms >= ?1 AND server_id IS NOT NULL
                 ) ORDER BY at_ms, server_id",
            )
            .map_err(fail)?;
        let rows = stmt.query_map([to_ms(since)], |r| r.get(0)).map_err(fail)?;
        rows.collect::<rusqlite::Result<_>>().map_err(fail)
    }

    /// The notification a ping was filed as, if it was: its id and how it was filed.
    pub fn ping_filed(&self, key: &str) -> Result<Option<(i64, Disposition)>> {
        let found = self.conn.query_row(
            "SELECT id, state FROM notifications WHERE ping_key = ?1",
            [key],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        );
        match found {
            Ok((id, state)) => Ok(Some((
                id,
                match state.as_str() {
                    "held" | "released" => Disposition::Held,
                    "break_through" => Disposition::BreakThrough,
                    _ => Disposition::Delivered,
                },
            ))),
            Err(rusqlite::Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(classify(&self.path, e)),
        }
    }

    /// Logs a ping this Weft sent (for the summary).
    pub fn record_ping_sent(
        &mut self,
        at: DateTime<Utc>,
        to: &str,
        urgent: bool,
        outcome: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO pings_sent (at_ms, recipient, urgent, outcome) VALUES (?1, ?2, ?3, ?4)",
                params![to_ms(at), to, urgent, outcome],
            )
            .map_err(|e| classify(&self.path, e))?;
        Ok(())
    }

    /// How many notifications are held.
    pub fn held_count(&self) -> Result<u32> {
        self.conn
            .query_row(
                "SELECT count(*) FROM notifications WHERE state = 'held'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| classify(&self.path, e))
    }

    /// The held items' urgency and who sent them (the sender's name, else the app's), oldest
    /// first: what a digest is made of.
    pub fn held(&self) -> Result<Vec<(Urgency, Option<String>)>> {
        let fail = |e| classify(&self.path, e);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT urgency, coalesce(sender, app) FROM notifications WHERE state = 'held'
                 ORDER BY id",
            )
            .map_err(fail)?;
        let rows = stmt
            .query_map([], |r| Ok((urgency(&r.get::<_, String>(0)?), r.get(1)?)))
            .map_err(fail)?;
        rows.collect::<rusqlite::Result<_>>().map_err(fail)
    }

    /// Releases every held item in one transaction: a digest row (when `digest` is given) and
    /// the items marked released with it. Nothing is released twice.
    pub fn release_held(
        &mut self,
        at: DateTime<Utc>,
        reason: ReleaseReason,
        digest: Option<&crate::hold::DigestText>,
    ) -> Result<Released> {
        let path = self.path.clone();
        let fail = |e| classify(&path, e);
        let tx = self.conn.transaction().map_err(fail)?;
        let digest_id = match digest {
            Some(d) => {
                tx.execute(
                    "INSERT INTO digests (at_ms, reason, count, summary, body, owed)
                     VALUES (?1, ?2, ?3, ?4, ?5, 1)",
                    params![
                        to_ms(at),
                        reason.as_str(),
                        d.count as i64,
                        d.summary,
                        d.body
                    ],
                )
                .map_err(fail)?;
                Some(tx.last_insert_rowid())
            }
            None => None,
        };
        let items = tx
            .execute(
                "UPDATE notifications SET state = 'released', digest_id = ?1, released_ms = ?2
                 WHERE state = 'held'",
                params![digest_id, to_ms(at)],
            )
            .map_err(fail)?;
        tx.commit().map_err(fail)?;
        Ok(Released {
            items,
            digest: digest_id,
        })
    }

    /// Popups the desktop has not taken yet, oldest first.
    pub fn owed_popups(&self) -> Result<Vec<Popup>> {
        let fail = |e| classify(&self.path, e);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT 'n', id,
                        CASE WHEN coalesce(sender, app) IS NULL THEN title
                             WHEN title = '' THEN coalesce(sender, app)
                             ELSE coalesce(sender, app) || ': ' || title END,
                        body, urgency, attempts, received_ms,
                        state = 'break_through' OR shows_in_focus = 1, opens
                 FROM notifications WHERE owed = 1
                 UNION ALL
                 SELECT 'd', id, summary, body, 'normal', attempts, at_ms,
                        reason = 'release_time', NULL
                 FROM digests WHERE owed = 1
                 ORDER BY 7, 2",
            )
            .map_err(fail)?;
        let rows = stmt
            .query_map([], |r| {
                let kind: String = r.get(0)?;
                let id: i64 = r.get(1)?;
                Ok(Popup {
                    key: if kind == "d" {
                        PopupKey::Digest(id)
                    } else {
                        PopupKey::Notification(id)
                    },
                    summary: r.get(2)?,
                    body: r.get(3)?,
                    urgency: urgency(&r.get::<_, String>(4)?),
                    attempts: r.get(5)?,
                    created: from_ms(r.get(6)?),
                    breaks_focus: r.get(7)?,
                    opens: r
                        .get::<_, Option<String>>(8)?
                        .and_then(|name| name.parse().ok()),
                })
            })
            .map_err(fail)?;
        rows.collect::<rusqlite::Result<_>>().map_err(fail)
    }

    /// The desktop took the popup.
    pub fn popup_shown(&mut self, key: PopupKey, at: DateTime<Utc>) -> Result<()> {
        let (table, id) = key.table();
        self.conn
            .execute(
                &format!(
                    "UPDATE {table} SET owed = 0, shown_ms = ?1, last_error = NULL WHERE id = ?2"
                ),
                params![to_ms(at), id],
            )
            .map(drop)
            .map_err(|e| classify(&self.path, e))
    }

    /// Stops trying to show a popup (it stays in the Inbox); `why` is recorded.
    pub fn popup_given_up(&mut self, key: PopupKey, why: &str) -> Result<()> {
        let (table, id) = key.table();
        self.conn
            .execute(
                &format!("UPDATE {table} SET owed = 0, last_error = ?1 WHERE id = ?2"),
                params![why, id],
            )
            .map(drop)
            .map_err(|e| classify(&self.path, e))
    }

    /// The desktop did not take the popup; it stays owed.
    pub fn popup_failed(&mut self, key: PopupKey, error: &str) -> Result<()> {
        let (table, id) = key.table();
        self.conn
            .execute(
                &format!(
                    "UPDATE {table} SET attempts = attempts + 1, last_error = ?1 WHERE id = ?2"
                ),
                params![error, id],
            )
            .map(drop)
            .map_err(|e| classify(&self.path, e))
    }

    /// Held items first (oldest first), then the `recent` newest others.
    pub fn inbox(&self, recent: u32) -> Result<Vec<InboxItem>> {
        let fail = |e| classify(&self.path, e);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT id, received_ms, title, body, urgency, sender, state, app, source FROM (
                     SELECT *, 0 AS part FROM notifications WHERE state = 'held'
                     UNION ALL
                     SELECT * FROM (
                         SELECT *, 1 AS part FROM notifications WHERE state != 'held'
                         ORDER BY id DESC LIMIT ?1)
                 ) ORDER BY part, CASE part WHEN 0 THEN id ELSE -id END",
            )
            .map_err(fail)?;
        let rows = stmt
            .query_map([recent], |r| {
                let state: String = r.get(6)?;
                Ok(InboxItem {
                    id: r.get(0)?,
                    received: from_ms(r.get(1)?),
                    title: r.get(2)?,
                    body: r.get(3)?,
                    urgency: urgency(&r.get::<_, String>(4)?),
                    from: r.get(5)?,
                    state: match state.as_str() {
                        "held" => InboxState::Held,
                        "released" => InboxState::Released,
                        "break_through" => InboxState::BreakThrough,
                        _ => InboxState::Delivered,
                    },
                    app: r.get(7)?,
                    source: r
                        .get::<_, String>(8)?
                        .parse()
                        .unwrap_or(NotificationSource::Weft),
                })
            })
            .map_err(fail)?;
        rows.collect::<rusqlite::Result<_>>().map_err(fail)
    }
}
