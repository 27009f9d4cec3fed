//! How a time travels on both wires, written once: RFC 3339 in UTC with milliseconds
//! (`2026-11-24T09:00:00.000Z`), read leniently (any offset, any number of fraction digits).
//!
//! Every time field of the wire types is a `chrono::DateTime<Utc>` that goes through this
//! module (`#[serde(with = "crate::time")]`, or [`option`] for an optional one), so no
//! consumer parses or formats the text itself. Milliseconds because the app's store keeps
//! milliseconds (a time read back from it shows the same text it was reported with) and the
//! app has always reported them; a client that sends seconds or nanoseconds is still
//! understood. A value with a finer fraction is written truncated to the millisecond.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A time as an error message shows it, to say what is expected.
pub const EXAMPLE: &str = "2026-11-24T09:00:00Z";

/// The one text of a time on the wire: `2026-11-24T09:00:00.000Z`.
pub fn format(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// An RFC 3339 time with any offset and any precision, as UTC.
pub fn parse(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
}

/// Writes a time as [`format`] does.
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format(*at))
}

/// Reads a time as [`parse`] does; anything else is refused with an error that says what
/// was expected and why the text is not that.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    deserializer.deserialize_str(Rfc3339)
}

struct Rfc3339;

impl de::Visitor<'_> for Rfc3339 {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an RFC 3339 time such as {EXAMPLE}")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<DateTime<Utc>, E> {
        parse(text)
            .map_err(|e| E::custom(format_args!("not an RFC 3339 time such as {EXAMPLE} ({e})")))
    }
}

/// A time wrapped so that `Option<DateTime<Utc>>` can be read and written through
/// [`serialize`] and [`deserialize`].
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
struct Wire(#[serde(with = "crate::time")] DateTime<Utc>);

/// The same for an optional time: `null` (or, with `#[serde(default)]`, a missing field) is
/// `None`.
pub mod option {
    use super::Wire;
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes `null` or the time as [`super::format`] does.
    pub fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        at.map(Wire).serialize(serializer)
    }

    /// Reads `null` or a time as [`super::parse`] does.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<Wire>::deserialize(deserializer)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests;
