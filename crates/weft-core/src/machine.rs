//! The focus/coordination state machine. Pure: it is given the log's last switch and "now",
//! and it proposes switches; the caller commits a proposal before applying it.

use crate::{Error, Result};
use chrono::{DateTime, Utc};
use weft_proto::{
    Source, State, Status, Target, MAX_INTENT_CHARS, MAX_PLANNED_MINUTES, MAX_STASH_CHARS,
};

/// One logged transition: the wire's [`SwitchEntry`](weft_proto::SwitchEntry) itself, since
/// its times are typed.
pub type Switch = weft_proto::SwitchEntry;

/// What a switch request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan<'a> {
    pub to: Target,
    pub source: Source,
    /// What the focus block is for (focus only).
    pub intent: Option<&'a str>,
    /// The planned length of the focus block (focus only).
    pub minutes: Option<u32>,
    /// Where the person left off (only when leaving focus).
    pub stash: Option<&'a str>,
}

impl<'a> Plan<'a> {
    /// A plain switch: no intent, no planned length, no stash.
    pub fn to(to: Target, source: Source) -> Plan<'a> {
        Plan {
            to,
            source,
            intent: None,
            minutes: None,
            stash: None,
        }
    }
}

/// The state Weft is in now, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    state: State,
    since: DateTime<Utc>,
    intent: Option<String>,
    until: Option<DateTime<Utc>>,
    last_stash: Option<String>,
}

/// The state a fresh install starts in: open to people.
pub const INITIAL_STATE: State = State::Coordination;

impl Machine {
    /// Restores the state from the last logged switch (and the last stash note ever written).
    /// With an empty log, Weft starts in coordination, counted from `started`.
    pub fn restore(
        last: Option<&Switch>,
        last_stash: Option<String>,
        started: DateTime<Utc>,
    ) -> Machine {
        match last {
            Some(s) => Machine {
                state: s.to,
                since: s.at,
                intent: s.intent.clone(),
                until: s.until,
                last_stash,
            },
            None => Machine {
                state: INITIAL_STATE,
                since: started,
                intent: None,
                until: None,
                last_stash,
            },
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn since(&self) -> DateTime<Utc> {
        self.since
    }

    /// The planned end of the focus block now running, if it has one.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        self.until
    }

    /// The last stash note ever written (shown again when focus resumes).
    pub fn last_stash(&self) -> Option<&str> {
        self.last_stash.as_deref()
    }

    /// The status as every surface reports it, with `held` notifications waiting.
    pub fn status(&self, held: u32) -> Status {
        Status {
            state: self.state,
            since: self.since,
            intent: self.intent.clone(),
            until: self.until,
            stash: self.last_stash.clone(),
            held,
            degraded: Vec::new(),
            hotkey: None,
            hotkey_changeable: false,
        }
    }

    /// Proposes the switch a request asks for, or `None` when Weft is already in that state
    /// (a no-op that is not logged). Texts are trimmed; a blank one counts as none.
    pub fn propose(&self, plan: &Plan<'_>, now: DateTime<Utc>) -> Result<Option<Switch>> {
        let to = match plan.to {
            Target::Focus => State::Focus,
            Target::Coordination => State::Coordination,
            Target::Toggle => self.state.other(),
        };
        let intent = normalise(plan.intent, "intent", MAX_INTENT_CHARS, Lines::One)?;
        if intent.is_some() && to != State::Focus {
            return Err(Error::Invalid(
                "an intent describes a focus block; it cannot go with a switch to coordination"
                    .into(),
            ));
        }
        let planned_until = match plan.minutes {
            None => None,
            Some(_) if to != State::Focus => {
                return Err(Error::Invalid(
                    "a planned length belongs to a focus block".into(),
                ))
            }
            Some(m) if m == 0 || m > MAX_PLANNED_MINUTES => {
                return Err(Error::Invalid(format!(
                    "a planned focus block lasts 1 to {MAX_PLANNED_MINUTES} minutes, not {m}"
                )))
            }
            Some(m) => Some(now + chrono::Duration::minutes(i64::from(m))),
        };
        let stash = normalise(plan.stash, "stash note", MAX_STASH_CHARS, Lines::Many)?;
        if stash.is_some() && !(self.state == State::Focus && to == State::Coordination) {
            return Err(Error::Invalid(
                "a stash note is written when leaving focus".into(),
            ));
        }
        if to == self.state {
            return Ok(None);
        }
        Ok(Some(Switch {
            at: now,
            from: self.state,
            to,
            source: plan.source,
            intent,
            stash,
            until: planned_until,
        }))
    }

    /// Applies a switch that has been committed to the log.
    pub fn apply(&mut self, switch: &Switch) {
        self.state = switch.to;
        self.since = switch.at;
        self.intent = switch.intent.clone();
        self.until = switch.until;
        if switch.stash.is_some() {
            self.last_stash = switch.stash.clone();
        }
    }
}

/// Whether a text may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lines {
    One,
    Many,
}

fn normalise(text: Option<&str>, what: &str, max: usize, lines: Lines) -> Result<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let chars = text.chars().count();
    if chars > max {
        return Err(Error::Invalid(format!(
            "the {what} is {chars} characters long; the limit is {max}"
        )));
    }
    let allowed = |c: char| lines == Lines::Many && c == '\n';
    if text.chars().any(|c| c.is_control() && !allowed(c)) {
        return Err(Error::Invalid(format!(
            "the {what} contains control characters{}",
            if lines == Lines::One {
                " (newlines, tabs, escapes)"
            } else {
                " (tabs, escapes)"
            }
        )));
    }
    Ok(Some(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::invalid;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, 0).unwrap()
    }

    fn plan(to: Target) -> Plan<'static> {
        Plan::to(to, Source::Cli)
    }

    fn switched(m: &mut Machine, plan: Plan<'_>, at: DateTime<Utc>) -> Switch {
        let s = m.propose(&plan, at).unwrap().expect("a switch");
        m.apply(&s);
        s
    }

    #[test]
    fn empty_log_starts_in_coordination_from_start() {
        let m = Machine::restore(None, None, t(9, 0));
        assert_eq!(m.state(), State::Coordination);
        assert_eq!(m.since(), t(9, 0));
    }

    #[test]
    fn switch_proposes_then_applies() {
        let mut m = Machine::restore(None, None, t(9, 0));
        let p = Plan {
            intent: Some("  parser  "),
            ..Plan::to(Target::Focus, Source::Hotkey)
        };
        let s = m.propose(&p, t(9, 5)).unwrap().unwrap();
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
        let mut m = Machine::restore(None, None, t(9, 0));
        assert!(matches!(
            m.propose(&plan(Target::Coordination), t(9, 1)),
            Ok(None)
        ));
        switched(&mut m, plan(Target::Focus), t(9, 2));
        assert!(matches!(m.propose(&plan(Target::Focus), t(9, 3)), Ok(None)));
        assert_eq!(m.since(), t(9, 2));
    }

    #[test]
    fn toggle_goes_to_the_other_state() {
        let mut m = Machine::restore(None, None, t(8, 0));
        switched(&mut m, plan(Target::Focus), t(8, 0));
        let restored = Machine::restore(
            m.propose(&plan(Target::Coordination), t(8, 30))
                .unwrap()
                .as_ref(),
            None,
            t(9, 0),
        );
        assert_eq!(restored.state(), State::Coordination);
        assert_eq!(
            restored.since(),
            t(8, 30),
            "since comes from the log, not the start"
        );
        let s = restored.propose(&Plan::to(Target::Toggle, Source::Hotkey), t(9, 1));
        assert!(matches!(
            s,
            Ok(Some(Switch {
                to: State::Focus,
                from: State::Coordination,
                ..
            }))
        ));
    }

    #[test]
    fn intents_are_checked() {
        let m = Machine::restore(None, None, t(9, 0));
        let long = "x".repeat(MAX_INTENT_CHARS + 1);
        let with = |intent: &'static str| Plan {
            intent: Some(intent),
            ..plan(Target::Focus)
        };
        assert_eq!(
            invalid(m.propose(
                &Plan {
                    intent: Some(&long),
                    ..plan(Target::Focus)
                },
                t(9, 1)
            )),
            format!(
                "the intent is {} characters long; the limit is {MAX_INTENT_CHARS}",
                MAX_INTENT_CHARS + 1
            )
        );
        assert_eq!(
            invalid(m.propose(&with("a\nb"), t(9, 1))),
            "the intent contains control characters (newlines, tabs, escapes)"
        );
        assert!(matches!(
            m.propose(&with("   "), t(9, 1)),
            Ok(Some(Switch { intent: None, .. }))
        ));
        let mut focused = Machine::restore(None, None, t(9, 0));
        switched(&mut focused, plan(Target::Focus), t(9, 0));
        let toggle_with_intent = Plan {
            intent: Some("x"),
            ..plan(Target::Toggle)
        };
        assert_eq!(
            invalid(focused.propose(&toggle_with_intent, t(9, 1))),
            "an intent describes a focus block; it cannot go with a switch to coordination"
        );
    }

    #[test]
    fn a_planned_length_sets_the_end_of_the_focus_block() {
        let mut m = Machine::restore(None, None, t(9, 0));
        let s = switched(
            &mut m,
            Plan {
                minutes: Some(50),
                ..plan(Target::Focus)
            },
            t(9, 0),
        );
        assert_eq!(s.until, Some(t(9, 50)));
        assert_eq!(
            m.status(0).until.map(weft_proto::time::format).as_deref(),
            Some("2026-11-24T09:50:00.000Z")
        );
        switched(&mut m, plan(Target::Coordination), t(9, 40));
        assert_eq!(
            m.status(0).until,
            None,
            "a coordination block has no planned end"
        );
        assert_eq!(
            invalid(m.propose(
                &Plan {
                    minutes: Some(0),
                    ..plan(Target::Focus)
                },
                t(10, 0)
            )),
            format!("a planned focus block lasts 1 to {MAX_PLANNED_MINUTES} minutes, not 0")
        );
        assert_eq!(
            invalid(m.propose(
                &Plan {
                    minutes: Some(MAX_PLANNED_MINUTES + 1),
                    ..plan(Target::Focus)
                },
                t(10, 0)
            )),
            format!(
                "a planned focus block lasts 1 to {MAX_PLANNED_MINUTES} minutes, not {}",
                MAX_PLANNED_MINUTES + 1
            )
        );
        assert_eq!(
            invalid(m.propose(
                &Plan {
                    minutes: Some(5),
                    ..plan(Target::Coordination)
                },
                t(10, 0)
            )),
            "a planned length belongs to a focus block"
        );
    }

    #[test]
    fn a_stash_is_written_when_leaving_focus_and_kept_for_the_next() {
        let mut m = Machine::restore(None, None, t(9, 0));
        let early = Plan {
            stash: Some("x"),
            ..plan(Target::Focus)
        };
        assert_eq!(
            invalid(m.propose(&early, t(9, 0))),
            "a stash note is written when leaving focus",
            "not when entering focus"
        );
        switched(&mut m, plan(Target::Focus), t(9, 0));
        let note = "bisecting the parser bug\nat commit abc";
        let s = switched(
            &mut m,
            Plan {
                stash: Some(note),
                ..plan(Target::Coordination)
            },
            t(9, 30),
        );
        assert_eq!(s.stash.as_deref(), Some(note), "a stash may span lines");
        switched(&mut m, plan(Target::Focus), t(10, 0));
        assert_eq!(
            m.status(0).stash.as_deref(),
            Some(note),
            "shown when focus resumes"
        );
        let long = "s".repeat(MAX_STASH_CHARS + 1);
        assert_eq!(
            invalid(m.propose(
                &Plan {
                    stash: Some(&long),
                    ..plan(Target::Coordination)
                },
                t(10, 5)
            )),
            format!(
                "the stash note is {} characters long; the limit is {MAX_STASH_CHARS}",
                MAX_STASH_CHARS + 1
            )
        );
    }
}
