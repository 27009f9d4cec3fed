//! Per-token rate limiting: a token bucket per member that holds twice the sustained rate.

use crate::error::Error;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets keyed by member id.
pub struct Limiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<i64, Bucket>>,
}

impl Limiter {
    /// `per_second` requests sustained, twice that in a burst; 0 turns limiting off.
    pub fn new(per_second: u32) -> Limiter {
        Limiter {
            rate: f64::from(per_second),
            burst: f64::from(per_second) * 2.0,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the member's bucket, or says how long to wait.
    pub fn check(&self, member: i64) -> Result<(), Error> {
        self.check_at(member, Instant::now())
    }

    fn check_at(&self, member: i64, now: Instant) -> Result<(), Error> {
        if self.rate <= 0.0 {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(member).or_insert(Bucket {
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
}
