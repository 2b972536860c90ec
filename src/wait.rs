//! One generic poller for the long waits (certificate issued, distribution
//! deployed, function ready). The SDK's generated waiters poll every 60 s at
//! best for ACM and CloudFront, which would turn a 5-second validation into a
//! minute; this polls at 0.5 s, backing off to 5 s, with a bound and progress.

use std::future::Future;
use std::time::Duration;

// The clock the waits sleep on (paused in unit tests, the system's otherwise).
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::progress::Progress;

/// The longest pause between two polls: a finished wait is noticed within 5 s,
/// at a cost of a few hundred reads over a 30-minute validation.
const MAX_INTERVAL: Duration = Duration::from_secs(5);

/// colorid's own pause of `d`, on the clock `COLORID_CLOCK_SCALE` sets (1, AWS's
/// own, by default): scripts/bench-up runs AWS's clock scaled down through its
/// latency model, and colorid's pauses between polls must shrink with it, or
/// a poll interval would be billed as many times its length.
pub fn pause(d: Duration) -> Duration {
    static SCALE: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    let scale = *SCALE.get_or_init(|| {
        std::env::var("COLORID_CLOCK_SCALE")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .filter(|s| *s > 0.0 && *s <= 1.0)
            .unwrap_or(1.0)
    });
    d.mul_f64(scale)
}

/// One poll's answer.
pub enum Poll<T> {
    /// Done, with the result.
    Ready(T),
    /// Not yet; the current status for the progress line.
    Pending(String),
}

/// Polls `check` until it is ready or `max` has passed.
pub async fn until<T, F, Fut>(
    progress: &Progress,
    what: &str,
    max: Duration,
    fix: &str,
    mut check: F,
) -> Result<(T, Duration)>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>>>,
{
    let start = Instant::now();
    let mut wait: Option<crate::progress::Wait> = None;
    let mut delay = Duration::from_millis(500);
    loop {
        match check().await? {
            Poll::Ready(value) => {
                let took = wait.map(|w| w.done()).unwrap_or_else(|| start.elapsed());
                return Ok((value, took));
            }
            Poll::Pending(status) => {
                let w = wait.get_or_insert_with(|| progress.wait(what));
                w.tick(&status);
            }
        }
        if start.elapsed() >= max {
            if let Some(w) = wait {
                w.done();
            }
            return Err(Error::Timeout {
                what: what.to_string(),
                seconds: max.as_secs(),
                fix: fix.to_string(),
            });
        }
        tokio::time::sleep(pause(delay).min(max.saturating_sub(start.elapsed()))).await;
        delay = (delay.mul_f32(1.25)).min(MAX_INTERVAL);
    }
}
