//! `[listen]`: the service's HTTP(S) receiver of live feeds (Zoom and Webex webhooks, the
//! Pexip event sink), with `[listen.zoom]`, `[listen.webex]` and `[listen.pexip]`, each
//! switched on by its secret. Secrets are read from files (a relative name from systemd's
//! `$CREDENTIALS_DIRECTORY` first), never written in the configuration itself.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// `[listen]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawListen {
    pub address: Option<String>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub max_body_bytes: Option<u64>,
    pub max_connections: Option<u32>,
    pub rate_per_second: Option<u32>,
    pub rate_burst: Option<u32>,
    pub timeout: Option<String>,
    pub queue: Option<u32>,
    pub working_hours: Option<String>,
    pub working_days: Option<Vec<String>>,
    pub zoom: Option<RawFeed>,
    pub webex: Option<RawFeed>,
    pub pexip: Option<RawFeed>,
}

/// `[listen.zoom]`, `[listen.webex]`, `[listen.pexip]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFeed {
    /// Zoom: the app's Secret Token; Webex: the webhook's secret.
    pub secret_file: Option<PathBuf>,
    /// Pexip: the event sink's user name and password.
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub expect_every: Option<String>,
    /// Zoom: how far `x-zm-request-timestamp` may be from now.
    pub max_skew: Option<String>,
}

/// The default address: this machine only, behind a reverse proxy or a port forward.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:8443";

/// One feed's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Feed {
    /// `secret_file` (Zoom, Webex) or `password_file` (Pexip).
    pub secret_file: PathBuf,
    /// Pexip's user name.
    pub user: String,
    /// Raise `feed-silent` when nothing came for this long during working hours.
    pub expect_every: Option<Duration>,
    pub max_skew: Duration,
}

/// `[listen]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenSettings {
    pub address: SocketAddr,
    /// Certificate chain and key (PEM) for HTTPS; `None`: plain HTTP, on a loopback address
    /// only.
    pub tls: Option<(PathBuf, PathBuf)>,
    pub max_body_bytes: u64,
    pub max_connections: u32,
    pub rate_per_second: u32,
    pub rate_burst: u32,
    /// For the request head, and again for the body.
    pub timeout: Duration,
    /// Verified bodies waiting for the inbox writer; a full queue answers 503.
    pub queue: u32,
    /// Working hours, in Swedish time: from and to, minutes after midnight.
    pub working_hours: (u16, u16),
    /// Working days, Monday = 1 … Sunday = 7.
    pub working_days: Vec<i8>,
    pub zoom: Option<Feed>,
    pub webex: Option<Feed>,
    pub pexip: Option<Feed>,
}

fn clock(text: &str) -> Option<u16> {
    let (h, m) = text.trim().split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some(h * 60 + m)
}

fn day(text: &str) -> Option<i8> {
    let d = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let t = text.trim().to_ascii_lowercase();
    let sv = ["mån", "tis", "ons", "tor", "fre", "lör", "sön"];
    d.iter()
        .position(|x| t.starts_with(x))
        .or_else(|| sv.iter().position(|x| t.starts_with(x)))
        .map(|i| i as i8 + 1)
}

impl ListenSettings {
    /// Checks `[listen]`.
    pub fn from_raw<E>(
        raw: Option<RawListen>,
        invalid: &dyn Fn(&str, String) -> E,
    ) -> Result<Option<ListenSettings>, E> {
        let Some(r) = raw else {
            return Ok(None);
        };
        let address: SocketAddr = r
            .address
            .as_deref()
            .unwrap_or(DEFAULT_ADDRESS)
            .parse()
            .map_err(|_| {
                invalid(
                    "listen.address",
                    "expected an address and port like 127.0.0.1:8443 or [::]:443".into(),
                )
            })?;
        let tls = match (r.tls_cert, r.tls_key) {
            (Some(c), Some(k)) => Some((c, k)),
            (None, None) => None,
            _ => {
                return Err(invalid(
                    "listen.tls_cert",
                    "tls_cert and tls_key go together: set both for HTTPS, or neither for plain HTTP behind a local reverse proxy".into(),
                ));
            }
        };
        if tls.is_none() && !address.ip().is_loopback() {
            return Err(invalid(
                "listen.address",
                "plain HTTP is only served on a loopback address (behind a reverse proxy on this machine); set tls_cert and tls_key to listen on the network".into(),
            ));
        }
        let positive = |key: &str, v: Option<u32>, default: u32| -> Result<u32, E> {
            match v.unwrap_or(default) {
                0 => Err(invalid(key, "must be more than 0".into())),
                n => Ok(n),
            }
        };
        let max_body_bytes = match r.max_body_bytes.unwrap_or(1024 * 1024) {
            0 => {
                return Err(invalid(
                    "listen.max_body_bytes",
                    "must be more than 0".into(),
                ));
            }
            n => n,
        };
        let timeout = crate::alert::duration_setting(
            "listen.timeout",
            &r.timeout,
            Duration::from_secs(10),
            invalid,
        )?;
        if timeout.is_zero() {
            return Err(invalid("listen.timeout", "must be more than 0s".into()));
        }
        let hours = r.working_hours.as_deref().unwrap_or("07:00-18:00");
        let working_hours = hours
            .split_once('-')
            .and_then(|(a, b)| Some((clock(a)?, clock(b)?)))
            .filter(|(a, b)| a < b)
            .ok_or_else(|| {
                invalid(
                    "listen.working_hours",
                    "expected a span of Swedish time like \"07:00-18:00\"".into(),
                )
            })?;
        let working_days = match r.working_days {
            None => vec![1, 2, 3, 4, 5],
            Some(days) => days
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    day(d).ok_or_else(|| {
                        invalid(
                            &format!("listen.working_days[{i}]"),
                            "expected a day like mon, tue … sun".into(),
                        )
                    })
                })
                .collect::<Result<_, E>>()?,
        };
        let feed = |name: &str, raw: Option<RawFeed>, pexip: bool| -> Result<Option<Feed>, E> {
            let Some(f) = raw else {
                return Ok(None);
            };
            let key = |k: &str| format!("listen.{name}.{k}");
            let (secret_file, user) = if pexip {
                if f.secret_file.is_some() {
                    return Err(invalid(
                        &key("secret_file"),
                        "Pexip authenticates with user and password_file".into(),
                    ));
                }
                let user = f
                    .user
                    .filter(|u| !u.is_empty() && !u.contains(':'))
                    .ok_or_else(|| {
                        invalid(
                            &key("user"),
                            "the event sink's user name is needed (without ':')".into(),
                        )
                    })?;
                let file = f.password_file.ok_or_else(|| {
                    invalid(
                        &key("password_file"),
                        "the file with the event sink's password is needed".into(),
                    )
                })?;
                (file, user)
            } else {
                if f.user.is_some() || f.password_file.is_some() {
                    return Err(invalid(
                        &key("user"),
                        "this platform signs its requests: give secret_file only".into(),
                    ));
                }
                let file = f.secret_file.ok_or_else(|| {
                    invalid(
                        &key("secret_file"),
                        "the file with the webhook secret is needed".into(),
                    )
                })?;
                (file, String::new())
            };
            let expect_every = match &f.expect_every {
                None => None,
                Some(_) => Some(crate::alert::duration_setting(
                    &key("expect_every"),
                    &f.expect_every,
                    Duration::ZERO,
                    invalid,
                )?)
                .filter(|d| !d.is_zero()),
            };
            let max_skew = crate::alert::duration_setting(
                &key("max_skew"),
                &f.max_skew,
                Duration::from_secs(300),
                invalid,
            )?;
            Ok(Some(Feed {
                secret_file,
                user,
                expect_every,
                max_skew,
            }))
        };
        let settings = ListenSettings {
            address,
            tls,
            max_body_bytes,
            max_connections: positive("listen.max_connections", r.max_connections, 256)?,
            rate_per_second: positive("listen.rate_per_second", r.rate_per_second, 50)?,
            rate_burst: positive("listen.rate_burst", r.rate_burst, 500)?,
            timeout,
            queue: positive("listen.queue", r.queue, 4096)?,
            working_hours,
            working_days,
            zoom: feed("zoom", r.zoom, false)?,
            webex: feed("webex", r.webex, false)?,
            pexip: feed("pexip", r.pexip, true)?,
        };
        if settings.zoom.is_none() && settings.webex.is_none() && settings.pexip.is_none() {
            return Err(invalid(
                "listen",
                "no feed is switched on: add [listen.zoom], [listen.webex] or [listen.pexip]"
                    .into(),
            ));
        }
        Ok(Some(settings))
    }

    /// The feeds switched on, by source name.
    pub fn feeds(&self) -> impl Iterator<Item = (&'static str, &Feed)> {
        [
            ("zoom", &self.zoom),
            ("webex", &self.webex),
            ("pexip", &self.pexip),
        ]
        .into_iter()
        .filter_map(|(n, f)| f.as_ref().map(|f| (n, f)))
    }

    /// Whether `t` is within working hours, in Swedish time.
    pub fn working(&self, t: jiff::Timestamp) -> bool {
        let z = t.to_zoned(crate::config::profile::swedish_tz());
        let minute = z.hour() as u16 * 60 + z.minute() as u16;
        self.working_days
            .contains(&z.weekday().to_monday_one_offset())
            && minute >= self.working_hours.0
            && minute < self.working_hours.1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<ListenSettings>, String> {
        let raw: RawListen = toml::from_str(text).map_err(|e| e.to_string())?;
        ListenSettings::from_raw(Some(raw), &|k, m| format!("{k}: {m}"))
    }

    #[test]
    fn defaults_and_refusals() {
        let s = parse("[zoom]\nsecret_file = \"zoom\"\nexpect_every = \"2h\"")
            .unwrap()
            .unwrap();
        assert_eq!(s.address.to_string(), DEFAULT_ADDRESS);
        assert!(s.tls.is_none());
        assert_eq!(
            s.zoom.as_ref().unwrap().expect_every,
            Some(Duration::from_secs(7200))
        );
        assert_eq!(s.working_hours, (7 * 60, 18 * 60));
        let bad = [
            (
                "address = \"0.0.0.0:443\"\n[zoom]\nsecret_file = \"z\"",
                "listen.address",
            ),
            (
                "tls_cert = \"c\"\n[zoom]\nsecret_file = \"z\"",
                "listen.tls_cert",
            ),
            ("address = \"x\"", "listen.address"),
            ("", "listen:"),
            ("[pexip]\npassword_file = \"p\"", "listen.pexip.user"),
            ("[webex]\nuser = \"u\"", "listen.webex.user"),
            (
                "working_hours = \"18-07\"\n[webex]\nsecret_file = \"w\"",
                "listen.working_hours",
            ),
        ];
        for (text, key) in bad {
            let e = parse(text).unwrap_err();
            assert!(e.starts_with(key), "{text}: {e}");
        }
        assert!(
            parse("address = \"[::]:443\"\ntls_cert = \"c\"\ntls_key = \"k\"\n[pexip]\nuser = \"p\"\npassword_file = \"f\"")
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn working_hours_in_swedish_time() {
        let s = parse("working_hours = \"08:00-17:00\"\n[zoom]\nsecret_file = \"z\"")
            .unwrap()
            .unwrap();
        // Tuesday 2024-05-07: 06:30 UTC is 08:30 in summer time.
        let t = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        assert!(s.working(t("2024-05-07T06:30:00Z")));
        assert!(!s.working(t("2024-05-07T05:30:00Z")));
        assert!(!s.working(t("2024-05-07T15:00:00Z")), "17:00 is after");
        assert!(!s.working(t("2024-05-11T08:00:00Z")), "a Saturday");
    }
}
