//! Rate limiting: a token bucket per key (a member, a client address) that holds twice the
//! sustained rate. Full buckets are dropped when the map grows, so many one-off keys cannot
//! grow it without bound (a full bucket is the same as a new one).

use crate::error::Error;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Past this many buckets, full ones are dropped.
const PRUNE_ABOVE: usize = 4096;

/// Token buckets keyed by `K`.
pub struct Limiter<K> {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl<K: Hash + Eq> Limiter<K> {
    /// `per_second` requests sustained, twice that in a burst; 0 turns limiting off.
    pub fn new(per_second: u32) -> Limiter<K> {
        Limiter {
            rate: f64::from(per_second),
            burst: f64::from(per_second) * 2.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the key's bucket, or says how long to wait.
    pub fn check(&self, key: K) -> Result<(), Error> {
        self.check_at(key, Instant::now())
    }

    /// Drops the key's bucket.
    pub fn forget(&self, key: &K) {
        self.buckets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    fn check_at(&self, key: K, now: Instant) -> Result<(), Error> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= PRUNE_ABOVE && !buckets.contains_key(&key) {
            let (rate, burst) = (self.rate, self.burst);
            buckets.retain(|_, b| {
                b.tokens + now.saturating_duration_since(b.last).as_secs_f64() * rate < burst
            });
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.last = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - bucket.tokens) / self.rate).ceil().max(1.0);
            Err(Error::RateLimited(wait as u64))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn bursts_then_refills() {
        let limiter = Limiter::new(2);
        let t0 = Instant::now();
        for _ in 0..4 {
            assert!(limiter.check_at(1, t0).is_ok());
        }
        assert!(matches!(
            limiter.check_at(1, t0),
            Err(Error::RateLimited(1))
        ));
        assert!(limiter.check_at(2, t0).is_ok(), "buckets are per member");
        assert!(limiter.check_at(1, t0 + Duration::from_millis(600)).is_ok());
        assert!(Limiter::new(0).check_at(1, t0).is_ok());
    }

    #[test]
    fn full_buckets_are_dropped_when_many() {
        let limiter = Limiter::new(1);
        let t0 = Instant::now();
        for key in 0..PRUNE_ABOVE as u64 {
            assert!(limiter.check_at(key, t0).is_ok());
        }
        let later = t0 + Duration::from_secs(5);
        assert!(limiter.check_at(u64::MAX, later).is_ok());
        let kept = limiter.buckets.lock().map(|b| b.len()).unwrap_or(0);
        assert_eq!(kept, 1, "the refilled buckets were dropped");
    }
}
