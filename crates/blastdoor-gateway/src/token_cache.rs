//! [`TokenCache`]: verified capability tokens, keyed by the SHA-256 digest of the token so the
//! token itself is never kept as a key. Bounded; entries expire after a time-to-live so that a
//! token's own expiry and key rotation are re-checked. Revocation is not the cache's business:
//! the caller checks it on every hit, so a revoked token stops at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

/// A bounded map from token digest to its verified form.
#[derive(Debug)]
pub struct TokenCache<V> {
    entries: Mutex<HashMap<[u8; 32], (V, Instant)>>,
    capacity: usize,
    time_to_live: Duration,
}

/// The digest a token is cached under.
pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl<V: Clone> TokenCache<V> {
    pub fn new(capacity: usize, time_to_live: Duration) -> TokenCache<V> {
        TokenCache {
            entries: Mutex::new(HashMap::new()),
            capacity: capacity.max(1),
            time_to_live,
        }
    }

    /// The cached verified token, if present and fresh.
    pub fn get(&self, digest: &[u8; 32], now: Instant) -> Option<V> {
        let mut entries = self.entries.lock().ok()?;
        match entries.get(digest) {
            Some((value, inserted))
                if now.saturating_duration_since(*inserted) < self.time_to_live =>
            {
                Some(value.clone())
            }
            Some(_) => {
                entries.remove(digest);
                None
            }
            None => None,
        }
    }

    /// Caches `value`; when full, drops expired entries, then everything (a cold cache only
    /// costs re-verification).
    pub fn insert(&self, digest: [u8; 32], value: V, now: Instant) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity {
            let time_to_live = self.time_to_live;
            entries
                .retain(|_, (_, inserted)| now.saturating_duration_since(*inserted) < time_to_live);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(digest, (value, now));
    }

    /// Forgets one token (after it is found revoked).
    pub fn remove(&self, digest: &[u8; 32]) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.remove(digest);
        }
    }

    pub fn len(&self) -> usize {
        self.entries
            .lock()
            .map(|entries| entries.len())
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_expiring() {
        let cache = TokenCache::new(2, Duration::from_secs(60));
        let now = Instant::now();
        cache.insert(token_digest("a"), 1, now);
        cache.insert(token_digest("b"), 2, now);
        assert_eq!(cache.get(&token_digest("a"), now), Some(1));
        cache.insert(token_digest("c"), 3, now);
        assert!(cache.len() <= 2);
        assert_eq!(cache.get(&token_digest("c"), now), Some(3));
        assert_eq!(
            cache.get(&token_digest("c"), now + Duration::from_secs(61)),
            None
        );
        cache.remove(&token_digest("c"));
        assert_eq!(cache.get(&token_digest("c"), now), None);
    }
}
