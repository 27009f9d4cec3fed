//! What a `Notify` call says, read from its body (`susssasa{sv}i`: `app_name`, `replaces_id`,
//! `app_icon`, `summary`, `body`, `actions`, `hints`, `expire_timeout`) and made safe by
//! [`text`](super::text). Hints are read leniently: the spec's `urgency` is a byte, but an
//! integer of another width is taken too, and a value out of range is `normal`.

use super::{text, OWN_HINT};
use std::collections::HashMap;
use weft_proto::Urgency;
use zbus::Variant;

/// The fields of one `Notify` call, cleaned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// Cleaned; empty when the sender gave none.
    pub app_name: String,
    pub replaces_id: u32,
    pub summary: String,
    pub body: text::Body,
    pub urgency: Urgency,
    pub transient: bool,
    /// The process id in the [`OWN_HINT`] hint, if there was one.
    pub own_hint: Option<u32>,
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
        app_name: text::app_name(app_name),
        replaces_id,
        summary: text::title(summary),
        body: text::body(body),
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
    }
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
    fn every_field_is_cleaned() {
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
                app_name: "Slack".into(),
                replaces_id: 9,
                summary: "Ana wrote".into(),
                body: text::Body {
                    text: "lunch & tea?".into(),
                    truncated: false
                },
                urgency: Urgency::Normal,
                transient: false,
                own_hint: None,
            }
        );
    }
}
