//! A limit on writes (posting, replying, messaging, profile edits), per user and
//! per client address: a token bucket each, in memory (one per task). Over the
//! limit, the answer is 429 with `Retry-After` in whole seconds.
//!
//! Configured as `N/SECONDS` (N writes per SECONDS, in bursts of up to N):
//! WRITE_RATE_LIMIT_PER_USER (default 30/60) and WRITE_RATE_LIMIT_PER_ADDRESS
//! (default 300/60); `off` disables one. The address is the last entry of
//! `X-Forwarded-For` (the one the load balancer adds), else the peer's address.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::request::Parts;

/// At most `count` writes per `per`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub count: u32,
    pub per: Duration,
}

impl Limit {
    /// `N/SECONDS`, or `off` (None).
    pub fn parse(name: &str, value: &str) -> Result<Option<Limit>, String> {
        if value.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let bad = || format!("{name} `{value}` is not N/SECONDS (say 30/60) or off");
        let (count, secs) = value.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let secs: u64 = secs.trim().parse().map_err(|_| bad())?;
        if count == 0 || secs == 0 {
            return Err(bad());
        }
        Ok(Some(Limit { count, per: Duration::from_secs(secs) }))
    }

    fn per_second(&self) -> f64 {
        f64::from(self.count) / self.per.as_secs_f64()
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Buckets beyond this many are pruned of the full (idle) ones.
const MAX_BUCKETS: usize = 100_000;

pub struct RateLimiter {
    per_user: Option<Limit>,
    per_address: Option<Limit>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_user: Option<Limit>, per_address: Option<Limit>) -> RateLimiter {
        RateLimiter { per_user, per_address, buckets: Mutex::new(HashMap::new()) }
    }

    /// One write from this address: Err(seconds to wait) when over the limit.
    pub fn address(&self, address: &str) -> Result<(), u64> {
        match self.per_address {
            Some(limit) => self.take(format!("a:{address}"), limit),
            None => Ok(()),
        }
    }

    /// One write by this user: Err(seconds to wait) when over the limit.
    pub fn user(&self, user_uuid: &str) -> Result<(), u64> {
        match self.per_user {
            Some(limit) => self.take(format!("u:{user_uuid}"), limit),
            None => Ok(()),
        }
    }

    fn take(&self, key: String, limit: Limit) -> Result<(), u64> {
        let now = Instant::now();
        let (capacity, rate) = (f64::from(limit.count), limit.per_second());
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_BUCKETS {
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < capacity);
        }
        let bucket = buckets.entry(key).or_insert(Bucket { tokens: capacity, at: now });
        bucket.tokens = (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - bucket.tokens) / rate).ceil() as u64).max(1))
        }
    }
}

/// The client's address: the last `X-Forwarded-For` entry, else the peer's.
pub fn client_address(parts: &Parts) -> String {
    let forwarded = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|v| !v.is_empty());
    match forwarded {
        Some(a) => a.to_string(),
        None => parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string())
            .unwrap_or_else(|| "unknown".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::{Limit, RateLimiter};
    use std::time::Duration;

    #[test]
    fn limits_parse_and_buckets_empty() {
        assert_eq!(Limit::parse("X", "3/60"), Ok(Some(Limit { count: 3, per: Duration::from_secs(60) })));
        assert_eq!(Limit::parse("X", "off"), Ok(None));
        for bad in ["3", "0/60", "3/0", "a/b", ""] {
            assert!(Limit::parse("X", bad).is_err(), "{bad}");
        }
        let limiter = RateLimiter::new(Limit::parse("U", "2/3600").unwrap(), None);
        assert_eq!(limiter.user("a"), Ok(()));
        assert_eq!(limiter.user("a"), Ok(()));
        // One token comes back every 1800 s.
        assert!(matches!(limiter.user("a"), Err(s) if s > 1790 && s <= 1800));
        assert_eq!(limiter.user("b"), Ok(()), "buckets are per user");
        assert_eq!(limiter.address("1.2.3.4"), Ok(()), "no address limit configured");
    }
}
