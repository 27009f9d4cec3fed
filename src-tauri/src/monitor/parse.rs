//! What a `Notify` call says, read from its body (`susssasa{sv}i`: `app_name`, `replaces_id`,
//! `app_icon`, `summary`, `body`, `actions`, `hints`, `expire_timeout`). The texts stay as sent
//! (the core cleans them, once: `weft_core::hold::clean_observed`), each bounded to
//! [`MAX_RAW_BYTES`] so that a huge call costs the queue no more than that. Hints are read
//! leniently: the spec's `urgency` is a byte, but an integer of another width is taken too, and
//! a value out of range is `normal`.

use super::OWN_HINT;
use std::collections::HashMap;
use weft_proto::Urgency;
use zbus::Variant;

/// How much of each text is kept: far more than the core keeps of a body
/// ([`weft_proto::MAX_BODY_CHARS`] characters, plus the markup around them).
pub const MAX_RAW_BYTES: usize = 64 * 1024;

/// The fields of one `Notify` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// As sent (bounded); may be empty or blank.
    pub app_name: String,
    pub replaces_id: u32,
    /// As sent (bounded).
    pub summary: String,
    /// As sent, markup and all (bounded).
    pub body: String,
    pub urgency: Urgency,
    pub transient: bool,
    /// The process id in the [`OWN_HINT`] hint, if there was one.
    pub own_hint: Option<u32>,
    /// The spec's `desktop-entry` hint (the sender's desktop file id without `.desktop`,
    /// e.g. `org.gnome.Evolution`); `None` when absent or blank.
    pub desktop_entry: Option<String>,
}

type Hints<'a> = HashMap<&'a str, Variant<'a>>;
type NotifyArgs<'a> = (
    &'a str,
    u32,
    &'a str,
    &'a str,
    &'a str,
    Vec<&'a str>,
    Hints<'a>,
    i32,
);

/// Reads a `Notify` call's body; an error when it does not have the spec's signature.
pub fn call(message: &zbus::Message) -> zbus::Result<Call> {
    let body = message.body();
    let (app_name, replaces_id, _icon, summary, raw_body, _actions, hints, _timeout): NotifyArgs<
        '_,
    > = body.deserialize()?;
    Ok(fields(app_name, replaces_id, summary, raw_body, &hints))
}

/// The pure part of [`call`].
pub fn fields(
    app_name: &str,
    replaces_id: u32,
    summary: &str,
    body: &str,
    hints: &Hints<'_>,
) -> Call {
    Call {
        app_name: bounded(app_name),
        replaces_id,
        summary: bounded(summary),
        body: bounded(body),
        urgency: match hints.get("urgency").and_then(integer) {
            Some(0) => Urgency::Low,
            Some(2) => Urgency::Critical,
            _ => Urgency::Normal,
        },
        transient: hints.get("transient").is_some_and(|v| match v {
            Variant::Bool(b) => *b,
            other => integer(other).is_some_and(|n| n != 0),
        }),
        own_hint: hints.get(OWN_HINT).and_then(|v| match v {
            Variant::Str(s) => s.as_str().trim().parse().ok(),
            other => integer(other).and_then(|n| u32::try_from(n).ok()),
        }),
        desktop_entry: match hints.get("desktop-entry") {
            Some(Variant::Str(s)) => Some(bounded(s.as_str().trim_end_matches(".desktop")))
                .filter(|name| !name.trim().is_empty()),
            _ => None,
        },
    }
}

/// At most [`MAX_RAW_BYTES`] of `raw`, cut at a character boundary.
fn bounded(raw: &str) -> String {
    let mut end = raw.len().min(MAX_RAW_BYTES);
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    raw[..end].to_owned()
}

/// An integer hint of any width (a variant inside a variant too).
fn integer(value: &Variant<'_>) -> Option<i64> {
    match value {
        Variant::U8(n) => Some(i64::from(*n)),
        Variant::I16(n) => Some(i64::from(*n)),
        Variant::U16(n) => Some(i64::from(*n)),
        Variant::I32(n) => Some(i64::from(*n)),
        Variant::U32(n) => Some(i64::from(*n)),
        Variant::I64(n) => Some(*n),
        Variant::U64(n) => i64::try_from(*n).ok(),
        Variant::Variant(inner) => integer(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(pairs: Vec<(&'static str, Variant<'static>)>) -> Hints<'static> {
        pairs.into_iter().collect()
    }

    #[test]
    fn urgency_is_the_hint_byte_and_normal_otherwise() {
        let urgency =
            |h: Vec<(&'static str, Variant<'static>)>| fields("a", 0, "t", "", &hints(h)).urgency;
        assert_eq!(urgency(vec![("urgency", Variant::U8(0))]), Urgency::Low);
        assert_eq!(urgency(vec![("urgency", Variant::U8(1))]), Urgency::Normal);
        assert_eq!(
            urgency(vec![("urgency", Variant::U8(2))]),
            Urgency::Critical
        );
        assert_eq!(
            urgency(vec![("urgency", Variant::I32(2))]),
            Urgency::Critical
        );
        assert_eq!(urgency(vec![("urgency", Variant::U8(7))]), Urgency::Normal);
        assert_eq!(
            urgency(vec![("urgency", Variant::from("2"))]),
            Urgency::Normal
        );
        assert_eq!(urgency(vec![]), Urgency::Normal);
    }

    #[test]
    fn transient_and_the_own_hint_are_read() -> Result<(), String> {
        let call = |h: Vec<(&'static str, Variant<'static>)>| fields("a", 0, "t", "", &hints(h));
        assert!(call(vec![("transient", Variant::Bool(true))]).transient);
        assert!(!call(vec![("transient", Variant::Bool(false))]).transient);
        assert!(call(vec![("transient", Variant::I32(1))]).transient);
        assert!(!call(vec![]).transient);
        assert_eq!(
            call(vec![(OWN_HINT, Variant::from("4242"))]).own_hint,
            Some(4242)
        );
        assert_eq!(call(vec![(OWN_HINT, Variant::U32(7))]).own_hint, Some(7));
        assert_eq!(call(vec![(OWN_HINT, Variant::from("weft"))]).own_hint, None);
        // What notify-rust sends for `own_hint()` (a string) is read back as this process.
        let notify_rust::Hint::Custom(name, value) = super::super::own_hint() else {
            return Err("own_hint is not a string hint".into());
        };
        let sent = call(vec![(OWN_HINT, Variant::from(value))]);
        assert_eq!(
            (name.as_str(), sent.own_hint),
            (OWN_HINT, Some(std::process::id()))
        );
        Ok(())
    }

    #[test]
    fn the_desktop_entry_hint_is_read_without_its_suffix() {
        let entry = |h: Vec<(&'static str, Variant<'static>)>| {
            fields("", 0, "t", "", &hints(h)).desktop_entry
        };
        assert_eq!(
            entry(vec![(
                "desktop-entry",
                Variant::from("org.gnome.Evolution")
            )])
            .as_deref(),
            Some("org.gnome.Evolution")
        );
        assert_eq!(
            entry(vec![(
                "desktop-entry",
                Variant::from("thunderbird.desktop")
            )])
            .as_deref(),
            Some("thunderbird")
        );
        assert_eq!(entry(vec![("desktop-entry", Variant::from(" "))]), None);
        assert_eq!(entry(vec![("desktop-entry", Variant::U32(3))]), None);
        assert_eq!(entry(vec![]), None);
    }

    #[test]
    fn texts_stay_as_sent_and_are_bounded() {
        let call = fields(
            "Sl\u{202E}ack\n",
            9,
            "Ana\u{7} wrote",
            "<b>lunch</b> &amp; tea?",
            &hints(vec![]),
        );
        assert_eq!(
            call,
            Call {
                app_name: "Sl\u{202E}ack\n".into(),
                replaces_id: 9,
                summary: "Ana\u{7} wrote".into(),
                body: "<b>lunch</b> &amp; tea?".into(),
                urgency: Urgency::Normal,
                transient: false,
                own_hint: None,
                desktop_entry: None,
            }
        );
        // Cut at a character boundary: `é` is two bytes, and the bound falls inside one.
        let huge = format!("x{}", "é".repeat(MAX_RAW_BYTES));
        let body = fields("a", 0, "t", &huge, &hints(vec![])).body;
        assert_eq!(body.len(), MAX_RAW_BYTES - 1);
        assert!(huge.starts_with(&body));
    }
}
