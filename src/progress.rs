//! Human progress on stderr: one line per step with its elapsed time, and a
//! spinner with elapsed time during long waits (plain lines when stderr is
//! not a terminal). Results go to stdout, elsewhere.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Where progress goes.
#[derive(Debug, Clone)]
pub struct Progress {
    tty: bool,
    quiet: bool,
    start: Instant,
    /// Unit tests only: the lines printed, kept instead.
    #[cfg(test)]
    captured: Option<std::sync::Arc<std::sync::Mutex<Vec<String>>>>,
}

impl Progress {
    /// Progress on stderr; `quiet` silences it (used with `--output json`).
    pub fn new(quiet: bool) -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            quiet,
            start: Instant::now(),
            #[cfg(test)]
            captured: None,
        }
    }

    /// Unit tests: progress whose lines are kept in the returned list.
    #[cfg(test)]
    pub fn captured() -> (Self, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
        let lines = std::sync::Arc::default();
        let progress = Progress {
            tty: false,
            quiet: false,
            start: Instant::now(),
            captured: Some(std::sync::Arc::clone(&lines)),
        };
        (progress, lines)
    }

    /// Prints one line on stderr (in unit tests, into the captured list).
    fn line(&self, text: String) {
        #[cfg(test)]
        if let Some(lines) = &self.captured {
            lines.lock().unwrap_or_else(|e| e.into_inner()).push(text);
            return;
        }
        eprintln!("{text}");
    }

    /// Time since the run started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// One finished step: `resource  what  (elapsed)`.
    pub fn step(&self, resource: &str, what: &str, took: Duration) {
        if !self.quiet {
            self.line(format!(
                "  {resource:<14} {what} ({})",
                format_duration(took)
            ));
        }
    }

    /// A note that is not a step.
    pub fn note(&self, text: &str) {
        if !self.quiet {
            self.line(text.to_string());
        }
    }

    /// A wait with elapsed time; finish it with [`Wait::done`].
    pub fn wait(&self, message: &str) -> Wait {
        let bar = if self.tty && !self.quiet {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("  {spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(message.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            Some(bar)
        } else {
            if !self.quiet {
                self.line(format!("  … {message}"));
            }
            None
        };
        Wait {
            bar,
            start: Instant::now(),
            message: message.to_string(),
            quiet: self.quiet,
            last_line: Instant::now(),
        }
    }
}

/// A wait in progress.
pub struct Wait {
    bar: Option<ProgressBar>,
    start: Instant,
    message: String,
    quiet: bool,
    last_line: Instant,
}

impl Wait {
    /// Called from poll loops: on a non-terminal, prints a line every 15 s.
    pub fn tick(&mut self, status: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} [{status}]", self.message));
        } else if !self.quiet && self.last_line.elapsed() >= Duration::from_secs(15) {
            self.last_line = Instant::now();
            eprintln!(
                "  … {} [{status}] ({})",
                self.message,
                format_duration(self.start.elapsed())
            );
        }
    }

    /// Ends the wait and returns how long it took.
    pub fn done(self) -> Duration {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.start.elapsed()
    }
}

/// `1.2s`, `3m04s`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}
