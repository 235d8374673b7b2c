//! Schedules compiled once, not at every observe. A resync observes every Policy once per poll
//! interval, and each observe compiled its portable schedule into the vendor's dialect again:
//! cron parsing, and time-zone rules looked up (over two years for RuBackup), 7 % of the CPU of
//! a steady state with 21,000 objects (issue 21). The result depends only on the spec's schedule
//! and on the time-zone offsets in force, which change only at a quarter hour of UTC (every
//! zone's offset is a whole number of quarter hours, and its clocks change at a whole local
//! hour or half hour), so a compiled value is kept per schedule for the quarter hour it was
//! compiled in, errors included.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

use jiff::Timestamp;

/// Seconds in the span a compiled value is kept for.
const SLOT_SECONDS: i64 = 15 * 60;

/// Values compiled from a key (a schedule and its time zones) during one quarter hour.
pub struct Compiled<K, V> {
    state: Mutex<(i64, HashMap<K, V>)>,
}

impl<K: Eq + Hash, V: Clone> Default for Compiled<K, V> {
    fn default() -> Self {
        Compiled {
            state: Mutex::new((i64::MIN, HashMap::new())),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Compiled<K, V> {
    /// The value for `key` as of `now`: the one compiled earlier in the same quarter hour, or
    /// `compile`'s. A later quarter hour forgets every value; a `now` before the kept one's
    /// (a test's fixed clock) compiles without keeping.
    pub fn get(&self, key: K, now: Timestamp, compile: impl FnOnce() -> V) -> V {
        let slot = now.as_second().div_euclid(SLOT_SECONDS);
        {
            let mut state = self.state.lock().unwrap();
            if slot > state.0 {
                *state = (slot, HashMap::new());
            }
            if slot == state.0
                && let Some(v) = state.1.get(&key)
            {
                return v.clone();
            }
        }
        // Compiled outside the lock: two callers may compile the same key once each.
        let value = compile();
        let mut state = self.state.lock().unwrap();
        if slot == state.0 {
            state.1.insert(key, value.clone());
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_value_is_compiled_once_per_key_and_quarter_hour() {
        let memo: Compiled<&str, Result<u32, String>> = Compiled::default();
        let calls = Cell::new(0);
        let compile = |v: u32| {
            calls.set(calls.get() + 1);
            Ok(v)
        };
        let t0: Timestamp = "2025-03-30T00:50:00Z".parse().unwrap();
        let later = t0 + jiff::SignedDuration::from_mins(9);
        assert_eq!(memo.get("0 1 * * *", t0, || compile(1)), Ok(1));
        assert_eq!(memo.get("0 1 * * *", later, || compile(2)), Ok(1));
        assert_eq!(calls.get(), 1, "kept within the quarter hour");
        assert_eq!(memo.get("0 2 * * *", later, || compile(3)), Ok(3));
        // An error is kept like a value.
        assert_eq!(
            memo.get("bad", t0, || Err::<u32, _>("cron".to_string())),
            Err("cron".to_string())
        );
        assert_eq!(memo.get("bad", t0, || compile(4)), Err("cron".to_string()));
        assert_eq!(calls.get(), 2);
        // The next quarter hour (a clock change of the zone may fall on it) compiles again.
        let next = t0 + jiff::SignedDuration::from_mins(10);
        assert_eq!(memo.get("0 1 * * *", next, || compile(5)), Ok(5));
        // An earlier clock is answered, never kept.
        assert_eq!(memo.get("0 1 * * *", t0, || compile(6)), Ok(6));
        assert_eq!(memo.get("0 1 * * *", next, || compile(7)), Ok(5));
        assert_eq!(calls.get(), 4);
    }
}
