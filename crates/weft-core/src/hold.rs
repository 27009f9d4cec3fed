//! The hold policy: what happens to a notification, given the state, and what the digest
//! says. Pure functions of their inputs (the caller passes the clock's "now"), so every rule is
//! tested without a desktop.
//!
//! - coordination: every notification is delivered at once (low ones too);
//! - focus: `low` and `normal` are held; `critical` breaks through and is logged as such;
//! - when coordination begins (or at a configured release time), the held `normal` items go
//!   out as one digest; held `low` items are released to the Inbox without a popup and get one
//!   line in the digest if there is one;
//! - other apps' notifications ([`decide_observed`]): the same, except that one from an app in
//!   `[apps] always` breaks through, one from an app in `[apps] ignore` is not filed, and in
//!   coordination Weft owes no popup (the desktop showed it); [`clean_observed`] makes their
//!   texts safe to keep and show.

mod observed;

pub use observed::{clean_app, clean_observed, CleanObserved, MAX_TAG_CHARS, UNKNOWN_APP};

use crate::{Error, Result};
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use std::collections::BTreeMap;
use weft_proto::{
    Disposition, State, Urgency, MAX_BODY_CHARS, MAX_FROM_CHARS, MAX_TITLE_CHARS, TRUNCATION_MARKER,
};

/// What to do with a notification that arrives in `state`.
pub fn decide(state: State, urgency: Urgency) -> Disposition {
    match (state, urgency) {
        (State::Coordination, _) => Disposition::Delivered,
        (State::Focus, Urgency::Critical) => Disposition::BreakThrough,
        (State::Focus, Urgency::Low | Urgency::Normal) => Disposition::Held,
    }
}

/// What the `[apps]` lists say about another app's notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppRule {
    /// Not named: the hold policy decides.
    Policy,
    /// `[apps] always`: breaks through focus.
    Always,
    /// `[apps] ignore`: not filed, not counted.
    Ignore,
}

/// What to do with another app's notification that arrives in `state`; `None` when it is not
/// filed at all (an ignored app). Focus holds it unless it is critical or its app always breaks
/// through; coordination records it as delivered (the desktop showed it, so Weft owes no popup).
pub fn decide_observed(state: State, urgency: Urgency, rule: AppRule) -> Option<Disposition> {
    match (rule, state, urgency) {
        (AppRule::Ignore, _, _) => None,
        (_, State::Coordination, _) => Some(Disposition::Delivered),
        (AppRule::Always, State::Focus, _) | (_, State::Focus, Urgency::Critical) => {
            Some(Disposition::BreakThrough)
        }
        (AppRule::Policy, State::Focus, _) => Some(Disposition::Held),
    }
}

/// A notification checked and trimmed for storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub title: String,
    pub body: String,
    pub from: Option<String>,
    /// The body was cut to [`MAX_BODY_CHARS`] and ends with [`TRUNCATION_MARKER`].
    pub truncated: bool,
}

/// Checks a notification: a title is required and bounded, a long body is cut with a marker
/// (never refused), a sender name is bounded.
pub fn prepare(title: &str, body: Option<&str>, from: Option<&str>) -> Result<Prepared> {
    let title = title.trim();
    if title.is_empty() {
        return Err(Error::Refused("a notification needs a title".into()));
    }
    let title_chars = title.chars().count();
    if title_chars > MAX_TITLE_CHARS {
        return Err(Error::Refused(format!(
            "the title is {title_chars} characters long; the limit is {MAX_TITLE_CHARS}"
        )));
    }
    let from = from.map(str::trim).filter(|f| !f.is_empty());
    if let Some(from) = from {
        let chars = from.chars().count();
        if chars > MAX_FROM_CHARS || from.chars().any(char::is_control) {
            return Err(Error::Refused(format!(
                "the sender name must be one line of at most {MAX_FROM_CHARS} characters"
            )));
        }
    }
    let (body, truncated) = cut_body(body.unwrap_or(""));
    Ok(Prepared {
        title: title.to_owned(),
        body,
        from: from.map(str::to_owned),
        truncated,
    })
}

/// A body as it is kept: trailing space trimmed, and cut to [`MAX_BODY_CHARS`] ending with
/// [`TRUNCATION_MARKER`] when longer (`true` then).
fn cut_body(body: &str) -> (String, bool) {
    let body = body.trim_end();
    if body.chars().count() <= MAX_BODY_CHARS {
        return (body.to_owned(), false);
    }
    (cut_with_marker(body), true)
}

/// `body`'s first characters and [`TRUNCATION_MARKER`], [`MAX_BODY_CHARS`] in all.
fn cut_with_marker(body: &str) -> String {
    let keep = MAX_BODY_CHARS - TRUNCATION_MARKER.chars().count();
    let mut cut: String = body.chars().take(keep).collect();
    cut.push_str(TRUNCATION_MARKER);
    cut
}

/// The text of one digest notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestText {
    /// How many `normal` items it releases.
    pub count: usize,
    pub summary: String,
    pub body: String,
}

/// The digest for the held items `(urgency, sender)`, or `None` when no `normal` item is held
/// (low items alone never pop up). The sender is a teammate's or `--from` name, or another
/// app's name: `14 held while you focused` / `6 from Slack, 4 from Thunderbird, 2 from Ana, 2
/// others` (the top three by count, ties by name; names told apart case-insensitively).
pub fn digest(held: &[(Urgency, Option<String>)]) -> Option<DigestText> {
    let normal: Vec<Option<&str>> = held
        .iter()
        .filter(|(u, _)| *u != Urgency::Low)
        .map(|(_, from)| from.as_deref())
        .collect();
    let low = held.iter().filter(|(u, _)| *u == Urgency::Low).count();
    if normal.is_empty() {
        return None;
    }
    // Keyed by the lowercase name; the first spelling seen is shown.
    let mut by_sender: BTreeMap<String, (&str, usize)> = BTreeMap::new();
    for name in normal.iter().flatten() {
        by_sender.entry(name.to_lowercase()).or_insert((name, 0)).1 += 1;
    }
    let mut senders: Vec<(&str, usize)> = by_sender.into_values().collect();
    senders.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    // The top three by name; everyone else, named or not, as "others".
    let named = senders.len().min(3);
    let mut parts: Vec<String> = senders
        .iter()
        .take(named)
        .map(|(name, n)| format!("{n} from {name}"))
        .collect();
    let others = normal.len() - senders.iter().take(named).map(|(_, n)| n).sum::<usize>();
    if others > 0 {
        parts.push(format!(
            "{others} {}",
            if others == 1 { "other" } else { "others" }
        ));
    }
    let mut body = parts.join(", ");
    if low > 0 {
        body.push_str(&format!("\n+ {low} low-priority in the Inbox"));
    }
    Some(DigestText {
        count: normal.len(),
        summary: format!("{} held while you focused", normal.len()),
        body,
    })
}

/// The next configured release time strictly after `now`, in `now`'s time zone. On a day where
/// a time does not exist (spring forward) it is skipped; where it exists twice, the first counts.
pub fn next_release<Tz: TimeZone>(
    times: &[NaiveTime],
    now: &DateTime<Tz>,
) -> Option<DateTime<Utc>> {
    let zone = now.timezone();
    let today = now.date_naive();
    (0..=2u64)
        .filter_map(|days| today.checked_add_days(chrono::Days::new(days)))
        .flat_map(|day| times.iter().map(move |t| day.and_time(*t)))
        .filter_map(|local| zone.from_local_datetime(&local).earliest())
        .map(|t| t.with_timezone(&Utc))
        .filter(|t| *t > now.with_timezone(&Utc))
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(items: &[(Urgency, Option<&str>)]) -> Vec<(Urgency, Option<String>)> {
        items
            .iter()
            .map(|(u, f)| (*u, f.map(str::to_owned)))
            .collect()
    }

    #[test]
    fn the_state_decides() {
        use Urgency::*;
        assert_eq!(decide(State::Coordination, Low), Disposition::Delivered);
        assert_eq!(decide(State::Coordination, Normal), Disposition::Delivered);
        assert_eq!(
            decide(State::Coordination, Critical),
            Disposition::Delivered
        );
        assert_eq!(decide(State::Focus, Low), Disposition::Held);
        assert_eq!(decide(State::Focus, Normal), Disposition::Held);
        assert_eq!(decide(State::Focus, Critical), Disposition::BreakThrough);
    }

    #[test]
    fn other_apps_are_held_in_focus_unless_critical_or_always_and_ignored_ones_are_not_filed() {
        use AppRule::*;
        use Urgency::*;
        let held = Some(Disposition::Held);
        let through = Some(Disposition::BreakThrough);
        let delivered = Some(Disposition::Delivered);
        assert_eq!(decide_observed(State::Focus, Low, Policy), held);
        assert_eq!(decide_observed(State::Focus, Normal, Policy), held);
        assert_eq!(decide_observed(State::Focus, Critical, Policy), through);
        assert_eq!(decide_observed(State::Focus, Low, Always), through);
        assert_eq!(decide_observed(State::Focus, Normal, Always), through);
        for urgency in [Low, Normal, Critical] {
            assert_eq!(
                decide_observed(State::Coordination, urgency, Policy),
                delivered
            );
            assert_eq!(
                decide_observed(State::Coordination, urgency, Always),
                delivered
            );
            assert_eq!(decide_observed(State::Focus, urgency, Ignore), None);
            assert_eq!(decide_observed(State::Coordination, urgency, Ignore), None);
        }
    }

    #[test]
    fn the_digest_names_the_count_and_the_senders() {
        use Urgency::Normal;
        let items = held(&[
            (Normal, Some("Ana")),
            (Normal, Some("CI")),
            (Normal, Some("Ana")),
            (Normal, None),
            (Normal, Some("CI")),
            (Normal, Some("Ana")),
            (Normal, Some("Bo")),
        ]);
        let d = digest(&items).unwrap();
        assert_eq!(d.count, 7);
        assert_eq!(d.summary, "7 held while you focused");
        // Before other apps were counted this read "3 from Ana, 2 from CI, 2 others": the top
        // three are named now, as issue 11 words it.
        assert_eq!(d.body, "3 from Ana, 2 from CI, 1 from Bo, 1 other");

        let few = digest(&held(&[(Normal, Some("CI")), (Normal, None)])).unwrap();
        assert_eq!(few.body, "1 from CI, 1 other");
        let named = digest(&held(&[
            (Normal, Some("A")),
            (Normal, Some("B")),
            (Normal, Some("C")),
        ]));
        assert_eq!(named.unwrap().body, "1 from A, 1 from B, 1 from C");
    }

    #[test]
    fn the_digest_names_the_top_three_apps_and_people_and_counts_the_rest() {
        use Urgency::Normal;
        let mut items = Vec::new();
        for (name, n) in [
            (Some("Slack"), 6),
            (Some("Thunderbird"), 4),
            (Some("Ana"), 2),
            (Some("Calendar"), 1),
            (None, 1),
        ] {
            items.extend(std::iter::repeat_n((Normal, name), n));
        }
        let d = digest(&held(&items)).unwrap();
        assert_eq!(d.summary, "14 held while you focused");
        assert_eq!(
            d.body,
            "6 from Slack, 4 from Thunderbird, 2 from Ana, 2 others"
        );
        // Ties by name; the same app in another case is one app.
        let tied = digest(&held(&[
            (Normal, Some("slack")),
            (Normal, Some("Zulip")),
            (Normal, Some("Mail")),
            (Normal, Some("Slack")),
            (Normal, Some("Bo")),
        ]))
        .unwrap();
        assert_eq!(tied.body, "2 from slack, 1 from Bo, 1 from Mail, 1 other");
    }

    #[test]
    fn low_items_never_pop_up_alone_but_are_mentioned() {
        use Urgency::{Low, Normal};
        assert_eq!(digest(&held(&[(Low, Some("bot")), (Low, None)])), None);
        assert_eq!(digest(&[]), None);
        let d = digest(&held(&[(Normal, Some("Ana")), (Low, None), (Low, None)])).unwrap();
        assert_eq!(d.count, 1);
        assert_eq!(d.body, "1 from Ana\n+ 2 low-priority in the Inbox");
    }

    #[test]
    fn titles_are_required_and_bodies_are_cut_with_a_marker() {
        use crate::testing::refused;
        assert_eq!(
            refused(prepare("   ", None, None)),
            "a notification needs a title"
        );
        assert_eq!(
            refused(prepare(&"t".repeat(MAX_TITLE_CHARS + 1), None, None)),
            format!(
                "the title is {} characters long; the limit is {MAX_TITLE_CHARS}",
                MAX_TITLE_CHARS + 1
            )
        );
        assert_eq!(
            refused(prepare("t", None, Some("a\nb"))),
            format!("the sender name must be one line of at most {MAX_FROM_CHARS} characters")
        );
        let ok = prepare(" CI failed ", Some("main is red\n"), Some(" CI ")).unwrap();
        assert_eq!(ok.title, "CI failed");
        assert_eq!(ok.body, "main is red");
        assert_eq!(ok.from.as_deref(), Some("CI"));
        assert!(!ok.truncated);
        let long = prepare("t", Some(&"é".repeat(MAX_BODY_CHARS + 10)), None).unwrap();
        assert!(long.truncated);
        assert_eq!(long.body.chars().count(), MAX_BODY_CHARS);
        assert!(long.body.ends_with(TRUNCATION_MARKER));
    }

    #[test]
    fn release_times_are_local_and_roll_over_to_tomorrow() {
        let zone = chrono::FixedOffset::east_opt(3600).unwrap();
        let times = [
            NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
            NaiveTime::from_hms_opt(16, 0, 0).unwrap(),
        ];
        let at = |h, m| zone.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap();
        let next = |now| next_release(&times, &now).map(|t| t.to_rfc3339());
        assert_eq!(next(at(9, 0)), Some("2026-11-24T11:00:00+00:00".into()));
        assert_eq!(
            next(at(12, 0)),
            Some("2026-11-24T15:00:00+00:00".into()),
            "strictly after"
        );
        assert_eq!(next(at(17, 0)), Some("2026-11-25T11:00:00+00:00".into()));
        assert_eq!(next_release(&[], &at(9, 0)), None);
    }
}
