//! The verified-token cache of one [`Verifier`](crate::token::Verifier): every
//! API call of a signed-in user carries the same token, so a warm instance
//! keeps what verifying it decided instead of checking the signature again.
//!
//! Keyed by the SHA-256 of the whole token (a token differing in one byte,
//! signature included, is another key); bounded, least recently used out
//! first. The cache only stores; what makes a hit safe (the token's times
//! checked again, its key still the issuer's) is the verifier's. It lives
//! and dies with its verifier, so a settings reload starts an empty one.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest;

use crate::jwks::Key;
use crate::token_refusal::Header;

/// How many verified tokens one instance keeps.
pub const CAPACITY: usize = 1024;

/// The cache key: SHA-256 of the whole token.
pub type Digest = [u8; 32];

/// The key of `token` in the cache.
pub fn digest_of(token: &str) -> Digest {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// What verifying one token decided, and what a hit must check again.
pub struct Verified<C> {
    /// The verified claims, shared with every request that carries the token.
    pub claims: Arc<C>,
    /// The token's header, to look its key up again.
    pub header: Header,
    /// The key whose signature check passed.
    pub key: Arc<Key>,
    /// `exp`, `nbf` and `iat` as verification read them.
    pub times: Times,
}

/// The time claims of a verified token.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Times {
    /// `exp` (required, so always present once verified).
    pub exp: u64,
    /// `nbf`, when present.
    pub nbf: Option<u64>,
    /// `iat`, when present.
    pub iat: Option<f64>,
}

/// Hashes a digest by its first eight bytes: SHA-256 output is already
/// uniform, so hashing it again (SipHash, four times a first-sight request)
/// buys nothing. Only verified tokens are stored, so no caller can choose
/// digests that crowd the table.
#[derive(Default)]
pub struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn write(&mut self, bytes: &[u8]) {
        // A digest arrives as its length, then its 32 bytes.
        if let Some(first) = bytes.first_chunk::<8>() {
            self.0 = u64::from_le_bytes(*first);
        }
    }

    fn write_usize(&mut self, _length: usize) {}

    fn finish(&self) -> u64 {
        self.0
    }
}

const NONE: usize = usize::MAX;

struct Node<C> {
    digest: Digest,
    value: Arc<Verified<C>>,
    prev: usize,
    next: usize,
}

/// A bounded map from token digest to what verification decided, least
/// recently used out first (an index-linked list over a slab, O(1) each way).
pub struct Cache<C> {
    capacity: usize,
    inner: Mutex<Lru<C>>,
    hits: AtomicU64,
}

struct Lru<C> {
    index: HashMap<Digest, usize, BuildHasherDefault<DigestHasher>>,
    nodes: Vec<Node<C>>,
    /// Most recently used.
    head: usize,
    /// Least recently used: the next to go.
    tail: usize,
    /// Slots of removed entries, reused before the slab grows.
    free: Vec<usize>,
}

impl<C> Cache<C> {
    /// An empty cache holding at most `capacity` tokens (none when 0).
    pub fn new(capacity: usize) -> Self {
        Cache {
            capacity,
            inner: Mutex::new(Lru {
                index: HashMap::default(),
                nodes: Vec::new(),
                head: NONE,
                tail: NONE,
                free: Vec::new(),
            }),
            hits: AtomicU64::new(0),
        }
    }

    fn lru(&self) -> std::sync::MutexGuard<'_, Lru<C>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The entry for `digest`, now the most recently used.
    pub fn get(&self, digest: &Digest) -> Option<Arc<Verified<C>>> {
        let mut lru = self.lru();
        let i = *lru.index.get(digest)?;
        lru.unlink(i);
        lru.push_front(i);
        Some(Arc::clone(&lru.nodes[i].value))
    }

    /// Counts a hit the verifier served (tests and the bench read it).
    pub fn count_hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    /// How many requests a cached verification served.
    pub fn hits(&self) -> u64 {
        self.hits.load(Ordering::Relaxed)
    }

    /// How many tokens are held.
    pub fn len(&self) -> usize {
        self.lru().index.len()
    }

    /// Whether no token is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops the entry for `digest`, if any.
    pub fn remove(&self, digest: &Digest) {
        let mut lru = self.lru();
        if let Some(i) = lru.index.remove(digest) {
            lru.unlink(i);
            lru.free.push(i);
        }
    }

    /// Keeps `value` for `digest`, dropping the least recently used entry when full.
    pub fn insert(&self, digest: Digest, value: Verified<C>) {
        if self.capacity == 0 {
            return;
        }
        let value = Arc::new(value);
        let mut lru = self.lru();
        if let Some(&i) = lru.index.get(&digest) {
            lru.nodes[i].value = value;
            lru.unlink(i);
            lru.push_front(i);
            return;
        }
        let node = Node {
            digest,
            value,
            prev: NONE,
            next: NONE,
        };
        let i = if lru.index.len() >= self.capacity {
            let i = lru.tail;
            lru.unlink(i);
            let old = lru.nodes[i].digest;
            lru.index.remove(&old);
            lru.nodes[i] = node;
            i
        } else if let Some(i) = lru.free.pop() {
            lru.nodes[i] = node;
            i
        } else {
            lru.nodes.push(node);
            lru.nodes.len() - 1
        };
        lru.index.insert(digest, i);
        lru.push_front(i);
    }
}

impl<C> Lru<C> {
    fn unlink(&mut self, i: usize) {
        let (prev, next) = (self.nodes[i].prev, self.nodes[i].next);
        match prev {
            NONE => self.head = next,
            p => self.nodes[p].next = next,
        }
        match next {
            NONE => self.tail = prev,
            n => self.nodes[n].prev = prev,
        }
        self.nodes[i].prev = NONE;
        self.nodes[i].next = NONE;
    }

    fn push_front(&mut self, i: usize) {
        self.nodes[i].next = self.head;
        self.nodes[i].prev = NONE;
        match self.head {
            NONE => self.tail = i,
            h => self.nodes[h].prev = i,
        }
        self.head = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A digest hashes to its first eight bytes, whatever the rest.
    #[test]
    fn a_digest_is_its_own_hash() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<DigestHasher>::default();
        let token = digest_of("a token");
        let mut other = token;
        other[31] ^= 1;
        let first = u64::from_le_bytes(token[..8].try_into().unwrap());
        assert_eq!(build.hash_one(token), first);
        assert_eq!(build.hash_one(other), first);
        assert_ne!(build.hash_one(digest_of("another token")), first);
    }

    fn entry(n: u64) -> Verified<u64> {
        Verified {
            claims: Arc::new(n),
            header: Header {
                alg: "EdDSA".into(),
                kid: None,
                typ: None,
            },
            key: crate::jwk::tests::ed_key(),
            times: Times {
                exp: n,
                nbf: None,
                iat: None,
            },
        }
    }

    fn held(cache: &Cache<u64>, token: &str) -> Option<u64> {
        cache.get(&digest_of(token)).map(|v| *v.claims)
    }

    #[test]
    fn the_least_recently_used_token_goes_first() {
        let cache = Cache::new(2);
        cache.insert(digest_of("a"), entry(1));
        cache.insert(digest_of("b"), entry(2));
        assert_eq!(held(&cache, "a"), Some(1), "a is now the most recent");
        cache.insert(digest_of("c"), entry(3));
        assert_eq!(held(&cache, "b"), None, "b was the least recently used");
        assert_eq!(held(&cache, "a"), Some(1));
        assert_eq!(held(&cache, "c"), Some(3));
        assert_eq!(cache.len(), 2);
        assert!(!cache.is_empty());
        cache.remove(&digest_of("a"));
        assert_eq!((held(&cache, "a"), cache.len()), (None, 1), "a was removed");
        cache.insert(digest_of("d"), entry(4));
        assert_eq!((held(&cache, "c"), held(&cache, "d")), (Some(3), Some(4)));
        assert_eq!(cache.len(), 2);
        // A re-verified token replaces its entry rather than taking a second slot.
        cache.insert(digest_of("d"), entry(5));
        assert_eq!((held(&cache, "d"), cache.len()), (Some(5), 2));
    }

    #[test]
    fn a_cache_of_capacity_zero_holds_nothing() {
        let cache = Cache::new(0);
        cache.insert(digest_of("a"), entry(1));
        assert!(cache.is_empty());
    }

    #[test]
    fn the_key_is_the_whole_token() {
        // One character apart (the signature's last): two keys.
        assert_ne!(digest_of("h.p.sig1"), digest_of("h.p.sig2"));
        assert_eq!(digest_of("h.p.s"), digest_of("h.p.s"));
    }
}
