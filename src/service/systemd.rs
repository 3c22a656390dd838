//! Telling systemd how the service is doing (`Type=notify`): READY=1 once every watched
//! folder has been looked at, WATCHDOG=1 from the ingest loop (a stuck loop stops pinging and
//! systemd restarts the service), STATUS= with counts, RELOADING=1 and STOPPING=1. Outside
//! systemd (no `$NOTIFY_SOCKET`) every call does nothing.

use std::time::{Duration, Instant};

use sd_notify::NotifyState;

/// The service's line to systemd.
pub struct Systemd {
    /// Half the watchdog interval, when systemd set one (`WatchdogSec=`).
    ping_every: Option<Duration>,
    last_ping: Instant,
    last_status: Option<(Instant, String)>,
}

impl Default for Systemd {
    fn default() -> Self {
        Self::new()
    }
}

impl Systemd {
    pub fn new() -> Systemd {
        Systemd {
            ping_every: sd_notify::watchdog_enabled().map(|d| d / 2),
            last_ping: Instant::now(),
            last_status: None,
        }
    }

    /// The longest the ingest loop may wait before it must ping.
    pub fn max_wait(&self) -> Option<Duration> {
        self.ping_every
    }

    /// Whether the watchdog is on (for the log).
    pub fn watchdog(&self) -> Option<Duration> {
        self.ping_every.map(|d| d * 2)
    }

    fn send(states: &[NotifyState<'_>]) {
        // The service runs on if systemd cannot be told: a failed send is not an input error.
        if let Err(e) = sd_notify::notify(states) {
            tracing::debug!("cannot notify systemd: {e}");
        }
    }

    pub fn ready(&mut self) {
        Self::send(&[NotifyState::Ready]);
    }

    pub fn reloading(&mut self) {
        let mut states = vec![NotifyState::Reloading];
        if let Ok(m) = NotifyState::monotonic_usec_now() {
            states.push(m);
        }
        Self::send(&states);
    }

    pub fn stopping(&mut self) {
        Self::send(&[NotifyState::Stopping]);
    }

    /// WATCHDOG=1, at most every half interval.
    pub fn ping(&mut self) {
        if let Some(every) = self.ping_every
            && self.last_ping.elapsed() >= every / 2
        {
            Self::send(&[NotifyState::Watchdog]);
            self.last_ping = Instant::now();
        }
    }

    /// STATUS=..., when it changed, at most once a second.
    pub fn status(&mut self, text: &str) {
        if let Some((at, last)) = &self.last_status
            && (last == text || at.elapsed() < Duration::from_secs(1))
        {
            return;
        }
        Self::send(&[NotifyState::Status(text)]);
        self.last_status = Some((Instant::now(), text.to_string()));
    }
}
