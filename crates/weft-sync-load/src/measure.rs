//! From what was sent and what each stream saw to latencies: every applied switch is expected
//! on the stream of each other member of its team exactly once.

use crate::stream::Delivery;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// One status PUT of the switching phase.
#[derive(Debug, Clone, Copy)]
pub struct Sent {
    pub member: i64,
    pub team: usize,
    pub seq: u64,
    /// Just before the request was written.
    pub at: Instant,
    /// The server answered `applied: true`.
    pub applied: bool,
    pub put_latency: Duration,
}

/// What a stream recorded, and whose stream it is.
#[derive(Debug)]
pub struct Seen {
    pub member: i64,
    pub team: usize,
    pub deliveries: Vec<Delivery>,
}

/// p50 / p99 / max of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Summary {
    pub count: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    /// Nearest-rank percentiles.
    pub fn of(mut micros: Vec<u64>) -> Self {
        if micros.is_empty() {
            return Self::default();
        }
        micros.sort_unstable();
        let rank = |p: f64| {
            let i = ((p * micros.len() as f64).ceil() as usize).clamp(1, micros.len()) - 1;
            micros[i] as f64 / 1000.0
        };
        Self {
            count: micros.len(),
            p50_ms: rank(0.50),
            p99_ms: rank(0.99),
            max_ms: rank(1.0),
        }
    }
}

/// The fan-out figures of one round.
#[derive(Debug, Default)]
pub struct FanOut {
    pub latency: Summary,
    /// Expected deliveries that never came.
    pub missed: usize,
    /// Deliveries of a switch the stream had already seen.
    pub duplicates: usize,
    /// Member events that match no applied switch of the phase (or come from another team).
    pub unexpected: usize,
}

/// `team_sizes[t]` is the number of members of team `t`.
pub fn fan_out(sent: &[Sent], seen: Vec<Seen>, team_sizes: &[usize]) -> FanOut {
    let mut expected: HashMap<(i64, u64), (Instant, usize, usize)> = sent
        .iter()
        .filter(|s| s.applied)
        .map(|s| ((s.member, s.seq), (s.at, s.team, 0)))
        .collect();
    let mut out = FanOut::default();
    let mut micros = Vec::with_capacity(expected.len() * 49);
    for mut stream in seen {
        stream
            .deliveries
            .sort_unstable_by_key(|d| (d.member, d.seq, d.at));
        let before = stream.deliveries.len();
        stream.deliveries.dedup_by_key(|d| (d.member, d.seq));
        out.duplicates += before - stream.deliveries.len();
        for d in &stream.deliveries {
            match expected.get_mut(&(d.member, d.seq)) {
                Some((at, team, received)) if *team == stream.team && d.member != stream.member => {
                    *received += 1;
                    micros.push(d.at.saturating_duration_since(*at).as_micros() as u64);
                }
                _ => out.unexpected += 1,
            }
        }
    }
    out.missed = expected
        .values()
        .map(|&(_, team, received)| team_sizes[team].saturating_sub(1).saturating_sub(received))
        .sum();
    out.latency = Summary::of(micros);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_nearest_rank() {
        let s = Summary::of((1..=100).map(|ms| ms * 1000).collect());
        assert_eq!(
            (s.count, s.p50_ms, s.p99_ms, s.max_ms),
            (100, 50.0, 99.0, 100.0)
        );
        assert_eq!(Summary::of(vec![]).count, 0);
    }

    #[test]
    fn missing_and_duplicate_deliveries_are_counted() {
        let t0 = Instant::now();
        let ms = |n| t0 + Duration::from_millis(n);
        let sent = [Sent {
            member: 1,
            team: 0,
            seq: 1,
            at: t0,
            applied: true,
            put_latency: Duration::ZERO,
        }];
        let d = |at| Delivery {
            member: 1,
            seq: 1,
            at,
        };
        let seen = vec![
            Seen {
                member: 2,
                team: 0,
                deliveries: vec![d(ms(3)), d(ms(4))],
            },
            Seen {
                member: 3,
                team: 0,
                deliveries: vec![],
            },
        ];
        let f = fan_out(&sent, seen, &[3]);
        assert_eq!((f.latency.count, f.missed, f.duplicates), (1, 1, 1));
        assert_eq!(f.latency.max_ms, 3.0);
    }
}
