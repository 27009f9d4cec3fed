//! The monitor's memory, bounded however much the bus says: the `Notify` calls still waiting for
//! the server's reply (paired by the caller's unique name and the call's serial, which the reply
//! carries as `destination` and `reply_serial`), and what is known of each sender (its process).
//! Pure: the caller passes the monotonic time, so the tests set it.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

/// A `Notify` call the monitor saw, numbered in the order seen (from 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// Calls waiting for their reply: at most `max`, none older than `ttl`. A call forgotten is one
/// whose reply never came (a hung server, a bus error sent by the bus itself); its
/// notification was told already, only without the id.
#[derive(Debug)]
pub struct Pending {
    calls: HashMap<(String, u32), (CallId, Duration)>,
    order: VecDeque<((String, u32), CallId, Duration)>,
    max: usize,
    ttl: Duration,
}

impl Pending {
    pub fn new(max: usize, ttl: Duration) -> Pending {
        Pending {
            calls: HashMap::new(),
            order: VecDeque::new(),
            max: max.max(1),
            ttl,
        }
    }

    /// Remembers that `sender`'s call `serial` (seen at `now`) waits for its reply.
    pub fn expect(&mut self, sender: &str, serial: u32, call: CallId, now: Duration) {
        self.forget_old(now);
        while self.calls.len() >= self.max {
            if !self.pop_oldest() {
                break;
            }
        }
        let key = (sender.to_owned(), serial);
        self.calls.insert(key.clone(), (call, now));
        self.order.push_back((key, call, now));
    }

    /// The call a reply to `destination` with `reply_serial` answers, if it is remembered.
    pub fn answer(
        &mut self,
        destination: &str,
        reply_serial: u32,
        now: Duration,
    ) -> Option<CallId> {
        self.forget_old(now);
        let found = self
            .calls
            .remove(&(destination.to_owned(), reply_serial))
            .map(|(call, _)| call);
        // The queue keeps the key until it reaches the front; keep it from growing past twice
        // the calls remembered when replies come out of order.
        if self.order.len() > 2 * self.max {
            let calls = &self.calls;
            self.order
                .retain(|(key, call, _)| calls.get(key).is_some_and(|(c, _)| c == call));
        }
        found
    }

    /// How many calls wait.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    fn forget_old(&mut self, now: Duration) {
        while let Some((_, _, at)) = self.order.front() {
            if now.saturating_sub(*at) <= self.ttl {
                break;
            }
            self.pop_oldest();
        }
    }

    /// Drops the oldest entry of the queue (and its call, if still waiting); false when empty.
    fn pop_oldest(&mut self) -> bool {
        let Some((key, call, _)) = self.order.pop_front() else {
            return false;
        };
        if self.calls.get(&key).is_some_and(|(c, _)| *c == call) {
            self.calls.remove(&key);
        }
        true
    }
}

/// What is known of a sender: its process id and the process's name, `None` when the bus or
/// `/proc` could not say (the sender was already gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub pid: Option<u32>,
    pub comm: Option<String>,
}

/// Peers by unique name, at most `max` (the first learned is forgotten first: unique names are
/// never reused, and a long-lived sender costs one more look-up when it comes back).
#[derive(Debug)]
pub struct Peers {
    known: HashMap<String, Peer>,
    order: VecDeque<String>,
    max: usize,
}

impl Peers {
    pub fn new(max: usize) -> Peers {
        Peers {
            known: HashMap::new(),
            order: VecDeque::new(),
            max: max.max(1),
        }
    }

    pub fn get(&self, unique_name: &str) -> Option<&Peer> {
        self.known.get(unique_name)
    }

    pub fn insert(&mut self, unique_name: &str, peer: Peer) {
        if self.known.contains_key(unique_name) {
            self.known.insert(unique_name.to_owned(), peer);
            return;
        }
        while self.known.len() >= self.max {
            match self.order.pop_front() {
                Some(oldest) => {
                    self.known.remove(&oldest);
                }
                None => break,
            }
        }
        self.known.insert(unique_name.to_owned(), peer);
        self.order.push_back(unique_name.to_owned());
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.known.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_reply_is_paired_by_destination_and_serial_once() {
        let mut p = Pending::new(8, 60 * S);
        p.expect(":1.5", 7, CallId(1), S);
        p.expect(":1.6", 7, CallId(2), S);
        assert_eq!(p.answer(":1.5", 8, S), None);
        assert_eq!(p.answer(":1.9", 7, S), None);
        assert_eq!(p.answer(":1.6", 7, S), Some(CallId(2)));
        assert_eq!(p.answer(":1.6", 7, S), None);
        assert_eq!(p.answer(":1.5", 7, 2 * S), Some(CallId(1)));
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn unpaired_calls_are_forgotten_after_the_ttl_and_past_the_bound() {
        let mut p = Pending::new(3, 10 * S);
        p.expect(":1.1", 1, CallId(1), S);
        p.expect(":1.1", 2, CallId(2), 5 * S);
        // 11 s after the first: it is gone, the second is not.
        assert_eq!(p.answer(":1.1", 1, 12 * S), None);
        assert_eq!(p.len(), 1);
        for serial in 3..=6 {
            p.expect(":1.1", serial, CallId(u64::from(serial)), 13 * S);
        }
        assert_eq!(p.len(), 3);
        assert_eq!(p.answer(":1.1", 2, 13 * S), None, "the oldest made room");
        assert_eq!(p.answer(":1.1", 3, 13 * S), None);
        assert_eq!(p.answer(":1.1", 6, 13 * S), Some(CallId(6)));
    }

    #[test]
    fn a_flood_answered_out_of_order_stays_bounded() {
        let mut p = Pending::new(16, 60 * S);
        for n in 0..10_000u32 {
            p.expect(":1.2", n, CallId(u64::from(n)), S);
            if n % 2 == 1 {
                assert_eq!(p.answer(":1.2", n, S), Some(CallId(u64::from(n))));
            }
            assert!(p.len() <= 16 && p.order.len() <= 33);
        }
    }

    #[test]
    fn peers_are_bounded_and_the_first_learned_goes_first() {
        let peer = |pid| Peer {
            pid: Some(pid),
            comm: None,
        };
        let mut peers = Peers::new(2);
        peers.insert(":1.1", peer(1));
        peers.insert(":1.2", peer(2));
        peers.insert(":1.1", peer(11));
        peers.insert(":1.3", peer(3));
        assert_eq!(peers.len(), 2);
        assert_eq!(peers.get(":1.1"), None);
        assert_eq!(peers.get(":1.2"), Some(&peer(2)));
        assert_eq!(peers.get(":1.3"), Some(&peer(3)));
    }
}
