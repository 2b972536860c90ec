//! The issuer's signing keys: OIDC discovery (whose `issuer` must be the
//! configured one), a JWKS held in memory for the response's `max-age` (at most
//! an hour), and a refetch on an unknown `kid` limited to one per penalty period.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, Instant};

pub use crate::jwk::{Key, KeyKind};
use crate::jwk::{Keys, parse_keys};

/// How long an answer from the issuer may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);
/// Largest discovery document or JWKS accepted.
const MAX_DOCUMENT: usize = 256 * 1024;
/// Default time between refetches triggered by unknown key ids.
pub const DEFAULT_PENALTY: Duration = Duration::from_secs(10);
/// The longest the keys are used before they are fetched again, and how long
/// they are kept when the response names no `max-age`.
pub const MAX_KEY_AGE: Duration = Duration::from_secs(3600);

/// Why the keys could not be had.
#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    /// The issuer or jwks_uri is not https (or http on loopback).
    #[error("insecure URL {0}: only https, or http on 127.0.0.1/localhost, is allowed")]
    InsecureUrl(String),
    /// The HTTP fetch failed or returned something unusable.
    #[error("fetching {url} failed: {reason}")]
    Fetch {
        /// What was fetched.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A refetch was wanted but the penalty period has not yet passed.
    #[error("key refetch suppressed by the penalty period")]
    Penalty,
    /// The discovery document names another issuer (OpenID Connect Discovery 1.0, section 4.3).
    #[error(
        "the discovery document at {url} names the issuer {found:?}, not the configured {expected:?}"
    )]
    IssuerMismatch {
        /// The discovery document's URL.
        url: String,
        /// The configured issuer.
        expected: String,
        /// The issuer the document names.
        found: String,
    },
}

/// Keys cached from one issuer.
pub struct JwksCache {
    /// The issuer exactly as configured, which discovery must repeat.
    configured_issuer: String,
    issuer: String,
    /// Built on the first fetch, not at start-up: reading the CA bundle is
    /// no part of a cold start that serves no token.
    http: OnceLock<Result<reqwest::Client, String>>,
    penalty: Duration,
    keys: RwLock<Option<Arc<Keys>>>,
    // Serialises fetches so a burst of unknown kids waits for one fetch instead of starting many.
    fetch: tokio::sync::Mutex<FetchState>,
    fetches: AtomicU64,
    /// Refuse plain-http URLs even on loopback (a deployed function).
    https_only: bool,
}

#[derive(Default)]
struct FetchState {
    last_attempt: Option<Instant>,
}

/// True for https URLs and, unless `https_only` (a deployed function), for
/// http URLs on the loopback interface.
pub fn is_allowed_url_for(url: &str, https_only: bool) -> bool {
    url.starts_with("https://") || (!https_only && is_allowed_url(url))
}

/// True for https URLs and for http URLs on the loopback interface.
pub fn is_allowed_url(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

impl JwksCache {
    /// A cache for `issuer`; nothing is fetched until a key is needed.
    pub fn new(issuer: &str, penalty: Duration) -> Result<Self, JwksError> {
        if !is_allowed_url(issuer) {
            return Err(JwksError::InsecureUrl(issuer.to_string()));
        }
        Ok(Self {
            configured_issuer: issuer.to_string(),
            issuer: issuer.trim_end_matches('/').to_string(),
            http: OnceLock::new(),
            penalty,
            keys: RwLock::new(None),
            fetch: tokio::sync::Mutex::new(FetchState::default()),
            fetches: AtomicU64::new(0),
            https_only: false,
        })
    }

    /// A cache for a deployed function: `issuer` and the `jwks_uri` its
    /// discovery document names must be https, loopback or not.
    pub fn https_only(issuer: &str, penalty: Duration) -> Result<Self, JwksError> {
        if !is_allowed_url_for(issuer, true) {
            return Err(JwksError::InsecureUrl(issuer.to_string()));
        }
        Ok(Self {
            https_only: true,
            ..Self::new(issuer, penalty)?
        })
    }

    /// Whether this cache may fetch `url` (a `jwks_uri` a discovery document names).
    fn allows(&self, url: &str) -> bool {
        is_allowed_url_for(url, self.https_only)
    }

    /// How many times the JWKS document has been requested.
    pub fn fetch_count(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn cached(&self) -> Option<Arc<Keys>> {
        self.keys.read().ok().and_then(|k| k.clone())
    }

    fn lookup(
        keys: &Keys,
        kid: Option<&str>,
        accept: &(dyn Fn(&Key) -> bool + Sync),
    ) -> Option<Arc<Key>> {
        match kid {
            Some(kid) => keys.by_kid.get(kid).cloned(),
            // Without a kid, use the one key that could verify this algorithm, if exactly one can.
            None => {
                let mut fits = keys
                    .by_kid
                    .values()
                    .chain(keys.without_kid.iter())
                    .filter(|k| accept(k));
                match (fits.next(), fits.next()) {
                    (Some(k), None) => Some(k.clone()),
                    _ => None,
                }
            }
        }
    }

    /// The key for `kid`, fetching the JWKS when it is not cached, is stale,
    /// or lacks `kid`, as the penalty period allows. `Ok(None)` means the
    /// issuer does not publish it. Stale keys serve while a refetch fails.
    pub async fn key(
        &self,
        kid: Option<&str>,
        accept: &(dyn Fn(&Key) -> bool + Sync),
    ) -> Result<Option<Arc<Key>>, JwksError> {
        let before = self.cached();
        if let Some(keys) = &before
            && keys.fresh()
            && let Some(k) = Self::lookup(keys, kid, accept)
        {
            return Ok(Some(k));
        }
        let mut state = self.fetch.lock().await;
        // Another request may have refreshed the keys while this one waited.
        let now_cached = self.cached();
        if let Some(keys) = &now_cached
            && !before.as_ref().is_some_and(|b| Arc::ptr_eq(b, keys))
            && keys.fresh()
            && let Some(k) = Self::lookup(keys, kid, accept)
        {
            return Ok(Some(k));
        }
        let stale = now_cached
            .as_ref()
            .and_then(|keys| Self::lookup(keys, kid, accept));
        if let Some(last) = state.last_attempt
            && last.elapsed() < self.penalty
        {
            return match (stale, &now_cached) {
                (Some(k), _) => Ok(Some(k)),
                (None, Some(_)) => Ok(None),
                (None, None) => Err(JwksError::Penalty),
            };
        }
        state.last_attempt = Some(Instant::now());
        let keys = match self.fetch_keys().await {
            // Keys published before and now are the same `Key`, so tokens they
            // verified stay cached (token_cache); the others are new.
            Ok(keys) => Arc::new(match &now_cached {
                Some(previous) => keys.keeping(previous),
                None => keys,
            }),
            // The issuer is down but published this key an hour ago: keep serving.
            Err(e) if stale.is_some() && !matches!(e, JwksError::IssuerMismatch { .. }) => {
                tracing::warn!(error = %e, "refreshing the issuer's keys failed; using the cached keys");
                return Ok(stale);
            }
            // A discovery document naming another issuer: nothing fetched before
            // is used again (not even within the penalty period that follows).
            Err(e @ JwksError::IssuerMismatch { .. }) => {
                if let Ok(mut slot) = self.keys.write() {
                    *slot = None;
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let found = Self::lookup(&keys, kid, accept);
        if let Ok(mut slot) = self.keys.write() {
            *slot = Some(keys);
        }
        Ok(found)
    }

    async fn fetch_keys(&self) -> Result<Keys, JwksError> {
        let url = format!("{}/.well-known/openid-configuration", self.issuer);
        let (doc, _) = self.get_json(&url).await?;
        // OpenID Connect Discovery 1.0, 4.3: the issuer returned MUST be
        // identical to the one the document was requested for.
        let found = doc.get("issuer").and_then(|v| v.as_str()).unwrap_or("");
        if found != self.configured_issuer {
            return Err(JwksError::IssuerMismatch {
                url,
                expected: self.configured_issuer.clone(),
                found: found.chars().take(200).collect(),
            });
        }
        let jwks_uri = doc
            .get("jwks_uri")
            .and_then(|v| v.as_str())
            .ok_or_else(|| JwksError::Fetch {
                url: url.clone(),
                reason: "no jwks_uri in the discovery document".into(),
            })?
            .to_string();
        if !self.allows(&jwks_uri) {
            return Err(JwksError::InsecureUrl(jwks_uri));
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let (doc, max_age) = self.get_json(&jwks_uri).await?;
        let list = doc
            .get("keys")
            .and_then(|k| k.as_array())
            .ok_or_else(|| JwksError::Fetch {
                url: jwks_uri.clone(),
                reason: "no keys array in the JWKS".into(),
            })?;
        let mut keys = parse_keys(list);
        // Never shorter than the penalty period, which bounds refetches anyway.
        let ttl = max_age
            .unwrap_or(MAX_KEY_AGE)
            .min(MAX_KEY_AGE)
            .max(self.penalty);
        keys.expires = Some(Instant::now() + ttl);
        Ok(keys)
    }

    /// The JSON document at `url` and its `Cache-Control: max-age`, if any.
    async fn get_json(
        &self,
        url: &str,
    ) -> Result<(serde_json::Value, Option<Duration>), JwksError> {
        let fail = |reason: String| JwksError::Fetch {
            url: url.to_string(),
            reason,
        };
        let http = self
            .http
            .get_or_init(|| {
                crate::tls::client_builder()?
                    .connect_timeout(Duration::from_secs(2))
                    .timeout(FETCH_TIMEOUT)
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| fail(e.clone()))?;
        let mut resp = http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !resp.status().is_success() {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        let max_age = resp
            .headers()
            .get_all(reqwest::header::CACHE_CONTROL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(max_age);
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| fail(e.to_string()))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT {
                return Err(fail(format!("document larger than {MAX_DOCUMENT} bytes")));
            }
        }
        let doc = serde_json::from_slice(&body).map_err(|e| fail(format!("not JSON: {e}")))?;
        Ok((doc, max_age))
    }
}

/// The `max-age` of a `Cache-Control` value; `no-cache` and `no-store` count as 0.
fn max_age(value: &str) -> Option<Duration> {
    let mut age = None;
    for directive in value.split(',').map(str::trim) {
        let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
        match name.to_ascii_lowercase().as_str() {
            "no-cache" | "no-store" => return Some(Duration::ZERO),
            "max-age" => age = arg.trim_matches('"').parse().ok().map(Duration::from_secs),
            _ => {}
        }
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(is_allowed_url("https://id.example.com"));
        assert!(is_allowed_url("http://127.0.0.1:8080/realms/x"));
        assert!(is_allowed_url("http://localhost:3000"));
        assert!(!is_allowed_url("http://id.example.com"));
        assert!(!is_allowed_url("http://127.0.0.1.evil.com/"));
        assert!(!is_allowed_url("http://localhost.evil.com:80/"));
        assert!(!is_allowed_url("ftp://127.0.0.1"));
        // Issue 25, item 6: a deployed function takes https only, loopback or not.
        assert!(is_allowed_url_for("https://id.example.com/jwks", true));
        assert!(!is_allowed_url_for("http://127.0.0.1:8080/jwks", true));
        assert!(!is_allowed_url_for("http://localhost/jwks", true));
        assert!(is_allowed_url_for("http://127.0.0.1:8080/jwks", false));
        assert!(JwksCache::https_only("http://127.0.0.1:9/", DEFAULT_PENALTY).is_err());
        let deployed = JwksCache::https_only("https://id.example.com/", DEFAULT_PENALTY).unwrap();
        assert!(!deployed.allows("http://127.0.0.1:8080/jwks"));
        assert!(deployed.allows("https://id.example.com/jwks"));
        let local = JwksCache::new("http://127.0.0.1:9/", DEFAULT_PENALTY).unwrap();
        assert!(local.allows("http://127.0.0.1:8080/jwks"));
    }

    #[test]
    fn max_age_is_read_from_cache_control() {
        assert_eq!(
            max_age("public, max-age=300"),
            Some(Duration::from_secs(300))
        );
        assert_eq!(max_age("Max-Age=\"60\""), Some(Duration::from_secs(60)));
        assert_eq!(max_age("no-store"), Some(Duration::ZERO));
        assert_eq!(max_age("public"), None);
        assert_eq!(max_age("max-age=soon"), None);
    }
}
