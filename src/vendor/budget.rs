//! The API budget of one provider configuration: a token bucket (`qps`, `burst`), a cap on
//! requests in flight, and a shared "not before" instant set by `429 Retry-After`, so that one
//! throttled call slows every caller of that vendor, not just itself.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

use crate::api::provider_config::ApiBudget;

/// Pure token-bucket arithmetic, separate from the clock so it can be tested exactly.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    qps: f64,
    capacity: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(qps: f64, burst: f64, now: Instant) -> Self {
        let capacity = burst.max(1.0);
        TokenBucket {
            qps: qps.max(0.001),
            capacity,
            tokens: capacity,
            last: now,
        }
    }

    /// Take one token at `now`; returns how long the caller must wait before its request may go
    /// (zero when a token was available). The token is reserved either way, so concurrent
    /// callers queue up one refill interval apart instead of stampeding.
    pub fn reserve(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.qps).min(self.capacity);
        self.last = now;
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }
}

/// Budget shared by every call to one vendor endpoint.
#[derive(Debug)]
pub struct Budget {
    bucket: Mutex<TokenBucket>,
    in_flight: Semaphore,
    not_before: Mutex<Option<Instant>>,
    max_in_flight: usize,
}

impl Budget {
    pub fn new(spec: &ApiBudget) -> Self {
        let max_in_flight = spec.max_in_flight.max(1) as usize;
        Budget {
            bucket: Mutex::new(TokenBucket::new(
                spec.qps,
                spec.burst as f64,
                Instant::now(),
            )),
            in_flight: Semaphore::new(max_in_flight),
            not_before: Mutex::new(None),
            max_in_flight,
        }
    }

    /// Wait until a request may go: a slot in flight, any Retry-After pause over, and a token.
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        let permit = self
            .in_flight
            .acquire()
            .await
            .expect("budget semaphore is never closed");
        loop {
            let pause = self
                .not_before
                .lock()
                .unwrap()
                .map(|t| t.saturating_duration_since(Instant::now()));
            match pause {
                Some(p) if !p.is_zero() => tokio::time::sleep(p).await,
                _ => break,
            }
        }
        let wait = self.bucket.lock().unwrap().reserve(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        permit
    }

    /// The vendor said "not before `after`": hold every caller until then.
    pub fn pause_for(&self, after: Duration) {
        let until = Instant::now() + after;
        let mut nb = self.not_before.lock().unwrap();
        if nb.is_none_or(|t| t < until) {
            *nb = Some(until);
        }
    }

    /// Requests in flight right now.
    pub fn in_flight(&self) -> usize {
        self.max_in_flight - self.in_flight.available_permits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_is_free_then_requests_are_spaced_by_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(10.0, 3.0, t0);
        for _ in 0..3 {
            assert_eq!(b.reserve(t0), Duration::ZERO);
        }
        // The fourth and fifth wait one and two refill intervals (100 ms each at 10 qps).
        let w4 = b.reserve(t0);
        let w5 = b.reserve(t0);
        assert!((w4.as_secs_f64() - 0.1).abs() < 1e-9, "{w4:?}");
        assert!((w5.as_secs_f64() - 0.2).abs() < 1e-9, "{w5:?}");
    }

    #[test]
    fn tokens_refill_over_time_up_to_the_burst() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(2.0, 2.0, t0);
        b.reserve(t0);
        b.reserve(t0);
        // Ten seconds later the bucket holds the burst (2), not 20 tokens.
        let later = t0 + Duration::from_secs(10);
        assert_eq!(b.reserve(later), Duration::ZERO);
        assert_eq!(b.reserve(later), Duration::ZERO);
        assert!(b.reserve(later) > Duration::ZERO);
    }

    #[tokio::test]
    async fn in_flight_is_capped() {
        let budget = Budget::new(&ApiBudget {
            qps: 1000.0,
            burst: 1000,
            max_in_flight: 2,
        });
        let a = budget.acquire().await;
        let _b = budget.acquire().await;
        assert_eq!(budget.in_flight(), 2);
        let third = tokio::time::timeout(Duration::from_millis(50), budget.acquire()).await;
        assert!(third.is_err(), "a third request must wait for a slot");
        drop(a);
        let third = tokio::time::timeout(Duration::from_millis(500), budget.acquire()).await;
        assert!(third.is_ok());
    }
}
