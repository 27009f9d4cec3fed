//! The focus/coordination state machine. Pure: it is given the log's last switch and "now",
//! and it proposes switches; the caller commits a proposal before applying it.

use crate::time::rfc3339;
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use weft_proto::{Source, State, Status, Target, MAX_INTENT_CHARS};

/// One logged transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub at: DateTime<Utc>,
    pub from: State,
    pub to: State,
    pub source: Source,
    pub intent: Option<String>,
}

impl Switch {
    /// The wire form of this switch.
    pub fn to_entry(&self) -> weft_proto::SwitchEntry {
        weft_proto::SwitchEntry {
            at: rfc3339(self.at),
            from: self.from,
            to: self.to,
            source: self.source,
            intent: self.intent.clone(),
        }
    }
}

/// The state Weft is in now, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    state: State,
    since: DateTime<Utc>,
    intent: Option<String>,
}

/// The state a fresh install starts in: open to people.
pub const INITIAL_STATE: State = State::Coordination;

impl Machine {
    /// Restores the state from the last logged switch. With an empty log, Weft starts in
    /// coordination, counted from `started`.
    pub fn restore(last: Option<&Switch>, started: DateTime<Utc>) -> Machine {
        match last {
            Some(s) => Machine {
                state: s.to,
                since: s.at,
                intent: s.intent.clone(),
            },
            None => Machine {
                state: INITIAL_STATE,
                since: started,
                intent: None,
            },
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn since(&self) -> DateTime<Utc> {
        self.since
    }

    /// The status as every surface reports it, with `held` notifications waiting.
    pub fn status(&self, held: u32) -> Status {
        Status {
            state: self.state,
            since: rfc3339(self.since),
            intent: self.intent.clone(),
            held,
        }
    }

    /// Proposes the switch a request asks for, or `None` when Weft is already in that state
    /// (a no-op that is not logged). An intent is trimmed; a blank one counts as none.
    pub fn propose(
        &self,
        to: Target,
        source: Source,
        intent: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Switch>> {
        let to = match to {
            Target::Focus => State::Focus,
            Target::Coordination => State::Coordination,
            Target::Toggle => self.state.other(),
        };
        let intent = normalise_intent(intent)?;
        if intent.is_some() && to != State::Focus {
            return Err(Error::Invalid(
                "an intent describes a focus block; it cannot go with a switch to coordination"
                    .into(),
            ));
        }
        if to == self.state {
            return Ok(None);
        }
        Ok(Some(Switch {
            at: now,
            from: self.state,
            to,
            source,
            intent,
        }))
    }

    /// Applies a switch that has been committed to the log.
    pub fn apply(&mut self, switch: &Switch) {
        self.state = switch.to;
        self.since = switch.at;
        self.intent = switch.intent.clone();
    }
}

fn normalise_intent(intent: Option<&str>) -> Result<Option<String>> {
    let Some(text) = intent.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let chars = text.chars().count();
    if chars > MAX_INTENT_CHARS {
        return Err(Error::Invalid(format!(
            "the intent is {chars} characters long; the limit is {MAX_INTENT_CHARS}"
        )));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "the intent contains control characters (newlines, tabs, escapes)".into(),
        ));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn empty_log_starts_in_coordination_from_start() {
        let m = Machine::restore(None, t(9, 0));
        assert_eq!(m.state(), State::Coordination);
        assert_eq!(m.since(), t(9, 0));
    }

    #[test]
    fn switch_proposes_then_applies() {
        let mut m = Machine::restore(None, t(9, 0));
        let s = m
            .propose(Target::Focus, Source::Hotkey, Some("  parser  "), t(9, 5))
            .ok()
            .flatten();
        let Some(s) = s else {
            panic!("expected a switch")
        };
        assert_eq!(s.from, State::Coordination);
        assert_eq!(s.to, State::Focus);
        assert_eq!(s.intent.as_deref(), Some("parser"));
        assert_eq!(
            m.state(),
            State::Coordination,
            "propose alone changes nothing"
        );
        m.apply(&s);
        assert_eq!(m.state(), State::Focus);
        assert_eq!(m.since(), t(9, 5));
        assert_eq!(m.status(0).intent.as_deref(), Some("parser"));
    }

    #[test]
    fn switching_to_the_current_state_is_a_no_op() {
        let mut m = Machine::restore(None, t(9, 0));
        assert!(matches!(
            m.propose(Target::Coordination, Source::Cli, None, t(9, 1)),
            Ok(None)
        ));
        if let Ok(Some(s)) = m.propose(Target::Focus, Source::Cli, None, t(9, 2)) {
            m.apply(&s);
        }
        assert!(matches!(
            m.propose(Target::Focus, Source::Tray, None, t(9, 3)),
            Ok(None)
        ));
        assert_eq!(m.since(), t(9, 2));
    }

    #[test]
    fn toggle_goes_to_the_other_state() {
        let last = Switch {
            at: t(8, 0),
            from: State::Coordination,
            to: State::Focus,
            source: Source::Tray,
            intent: None,
        };
        let m = Machine::restore(Some(&last), t(9, 0));
        assert_eq!(m.state(), State::Focus);
        assert_eq!(
            m.since(),
            t(8, 0),
            "since comes from the log, not the start"
        );
        let s = m.propose(Target::Toggle, Source::Hotkey, None, t(9, 1));
        assert!(matches!(
            s,
            Ok(Some(Switch {
                to: State::Coordination,
                from: State::Focus,
                ..
            }))
        ));
    }

    #[test]
    fn intents_are_checked() {
        let m = Machine::restore(None, t(9, 0));
        let long = "x".repeat(MAX_INTENT_CHARS + 1);
        assert!(m
            .propose(Target::Focus, Source::Cli, Some(&long), t(9, 1))
            .is_err());
        assert!(m
            .propose(Target::Focus, Source::Cli, Some("a\nb"), t(9, 1))
            .is_err());
        assert!(matches!(
            m.propose(Target::Focus, Source::Cli, Some("   "), t(9, 1)),
            Ok(Some(Switch { intent: None, .. }))
        ));
        let focused = Machine::restore(
            Some(&Switch {
                at: t(8, 0),
                from: State::Coordination,
                to: State::Focus,
                source: Source::Cli,
                intent: None,
            }),
            t(9, 0),
        );
        assert!(focused
            .propose(Target::Toggle, Source::Cli, Some("x"), t(9, 1))
            .is_err());
    }
}
