//! Alerts: who is told of an incident ([`Router`], from the [`directory`]), the outbox rows
//! written in the same transaction as the incident ([`crate::store`]), the mail's text
//! ([`render`]) and its delivery over SMTP ([`smtp`]), to a signed webhook ([`webhook`]) and
//! to a SIEM as JSON lines or syslog ([`siem`]); [`channels`] delivers the last two.
//!
//! The person responsible for an incident is its actor (the rules make the organiser or chair
//! the actor of meeting-level rules); their manager gets the alert. IT security gets every
//! incident at or above `it_security_severity`, and those whose responsible person has no
//! manager in the directory, said so in the alert.

pub mod channels;
pub mod directory;
pub mod render;
pub mod siem;
pub mod smtp;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use crate::incident::{Incident, Outcome, Severity};
pub use directory::{Directory, DirectoryError};
pub use siem::{RawSiem, SiemSettings};
pub use webhook::{RawWebhook, WebhookSettings};

/// `[alerts]` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAlerts {
    #[serde(default)]
    pub it_security: Vec<String>,
    pub it_security_severity: Option<String>,
    pub immediate_severity: Option<String>,
    pub min_severity: Option<String>,
    pub group_wait: Option<String>,
    pub give_up_after: Option<String>,
    pub digest_at: Option<String>,
    pub hourly_cap: Option<u32>,
    pub escalate_after: Option<String>,
}

/// `[smtp]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: String,
    pub port: Option<u16>,
    pub tls: Option<Tls>,
    pub from: String,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub timeout: Option<String>,
    /// A PEM file of certificates to trust besides the system's (a relay with the
    /// organisation's own CA).
    pub ca_file: Option<PathBuf>,
}

/// `[directory]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDirectory {
    pub file: PathBuf,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tls {
    /// STARTTLS, required (port 587).
    Required,
    /// TLS from the first byte (port 465).
    Wrapper,
    /// Plain text, for a relay on the same machine or network; must be asked for.
    None,
}

/// `[smtp]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: Tls,
    pub from: String,
    pub username: Option<String>,
    pub password_file: Option<PathBuf>,
    pub timeout: Duration,
    pub ca_file: Option<PathBuf>,
}

/// `[alerts]`, `[smtp]` and `[directory]`, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertSettings {
    pub it_security: Vec<String>,
    pub it_security_severity: Severity,
    /// At or above: a mail within `group_wait`. Below: kept in the outbox for the digest.
    pub immediate_severity: Severity,
    /// Below this nobody is alerted.
    pub min_severity: Severity,
    pub group_wait: Duration,
    /// When the daily digest of what is below `immediate_severity` goes out, Swedish time.
    pub digest_at: jiff::civil::Time,
    /// An alert not delivered by then is marked dead.
    pub give_up_after: Duration,
    /// At most this many immediate mails per recipient in an hour; what it holds back goes in
    /// one "N more" mail when the hour is over (0: no cap).
    pub hourly_cap: u32,
    /// A possible IMY case still open this long after its first alert is sent again to IT
    /// security, once, with the time left until the 72-hour deadline.
    pub escalate_after: Duration,
    pub smtp: Option<SmtpSettings>,
    pub directory: Option<PathBuf>,
    /// `[webhook]`: incidents that are news, POSTed signed.
    pub webhook: Option<WebhookSettings>,
    /// `[siem]`: every change of an incident, as JSON lines and/or syslog.
    pub siem: Option<SiemSettings>,
}

impl Default for AlertSettings {
    fn default() -> AlertSettings {
        AlertSettings {
            it_security: Vec::new(),
            it_security_severity: Severity::Medium,
            immediate_severity: Severity::High,
            min_severity: Severity::Low,
            group_wait: Duration::from_secs(30),
            digest_at: jiff::civil::time(7, 30, 0, 0),
            give_up_after: Duration::from_secs(24 * 3600),
            hourly_cap: 10,
            escalate_after: Duration::from_secs(4 * 3600),
            smtp: None,
            directory: None,
            webhook: None,
            siem: None,
        }
    }
}

impl AlertSettings {
    /// Checks the three sections; `invalid(key, message)` makes the error.
    pub fn from_raw<E>(
        alerts: Option<RawAlerts>,
        smtp: Option<RawSmtp>,
        directory: Option<RawDirectory>,
        invalid: &dyn Fn(&str, String) -> E,
    ) -> Result<AlertSettings, E> {
        let d = AlertSettings::default();
        let a = alerts.unwrap_or_default();
        let severity = |key: &str, v: &Option<String>, default: Severity| {
            severity_setting(key, v, default, invalid)
        };
        let duration = |key: &str, v: &Option<String>, default: Duration| {
            duration_setting(key, v, default, invalid)
        };
        for (i, addr) in a.it_security.iter().enumerate() {
            if !directory::looks_like_address(addr) {
                return Err(invalid(
                    &format!("alerts.it_security[{i}]"),
                    "not an e-mail address".into(),
                ));
            }
        }
        let smtp = match smtp {
            None => None,
            Some(s) => {
                if s.host.trim().is_empty() {
                    return Err(invalid("smtp.host", "is empty".into()));
                }
                if !directory::looks_like_address(&s.from) {
                    return Err(invalid("smtp.from", "not an e-mail address".into()));
                }
                let tls = s.tls.unwrap_or(Tls::Required);
                if s.username.is_some() != s.password_file.is_some() {
                    return Err(invalid(
                        "smtp.username",
                        "username and password_file go together".into(),
                    ));
                }
                if s.username.is_some() && tls == Tls::None {
                    return Err(invalid(
                        "smtp.tls",
                        "a password is never sent without TLS: use \"required\" or \"wrapper\""
                            .into(),
                    ));
                }
                Some(SmtpSettings {
                    port: s.port.unwrap_or(match tls {
                        Tls::Required => 587,
                        Tls::Wrapper => 465,
                        Tls::None => 25,
                    }),
                    host: s.host,
                    tls,
                    from: s.from,
                    username: s.username,
                    password_file: s.password_file,
                    timeout: duration("smtp.timeout", &s.timeout, Duration::from_secs(30))?,
                    ca_file: s.ca_file,
                })
            }
        };
        Ok(AlertSettings {
            it_security: a.it_security.clone(),
            it_security_severity: severity(
                "alerts.it_security_severity",
                &a.it_security_severity,
                d.it_security_severity,
            )?,
            immediate_severity: severity(
                "alerts.immediate_severity",
                &a.immediate_severity,
                d.immediate_severity,
            )?,
            min_severity: severity("alerts.min_severity", &a.min_severity, d.min_severity)?,
            group_wait: duration("alerts.group_wait", &a.group_wait, d.group_wait)?,
            digest_at: match &a.digest_at {
                None => d.digest_at,
                Some(t) => t.trim().parse::<jiff::civil::Time>().map_err(|_| {
                    invalid(
                        "alerts.digest_at",
                        "expected a time of day like \"07:30\" (Swedish time)".into(),
                    )
                })?,
            },
            give_up_after: duration("alerts.give_up_after", &a.give_up_after, d.give_up_after)?,
            hourly_cap: a.hourly_cap.unwrap_or(d.hourly_cap),
            escalate_after: duration("alerts.escalate_after", &a.escalate_after, d.escalate_after)?,
            smtp,
            directory: directory.map(|d| d.file),
            webhook: None,
            siem: None,
        })
    }

    /// Whether anything is to be alerted at all: a mail recipient, a mail server, a webhook or
    /// a SIEM.
    pub fn any(&self) -> bool {
        self.smtp.is_some()
            || self.directory.is_some()
            || !self.it_security.is_empty()
            || self.webhook.is_some()
            || self.siem.is_some()
    }
}

/// A severity setting: `default` when not given; `invalid(key, …)` when not a severity.
pub(crate) fn severity_setting<E>(
    key: &str,
    v: &Option<String>,
    default: Severity,
    invalid: &dyn Fn(&str, String) -> E,
) -> Result<Severity, E> {
    match v {
        None => Ok(default),
        Some(s) => Severity::from_name(s).ok_or_else(|| {
            invalid(
                key,
                "expected critical, high, medium, low or info".to_string(),
            )
        }),
    }
}

/// A duration setting ([`parse_duration`]): `default` when not given.
pub(crate) fn duration_setting<E>(
    key: &str,
    v: &Option<String>,
    default: Duration,
    invalid: &dyn Fn(&str, String) -> E,
) -> Result<Duration, E> {
    match v {
        None => Ok(default),
        Some(s) => parse_duration(s).ok_or_else(|| {
            invalid(
                key,
                "expected a duration like 30s, 5m, 4h or 1d".to_string(),
            )
        }),
    }
}

/// The latest digest time at or before `now`: today's `at` in Swedish time, or yesterday's.
pub fn last_digest_slot(now: jiff::Timestamp, at: jiff::civil::Time) -> jiff::Timestamp {
    let tz = crate::config::profile::swedish_tz();
    let today = now.to_zoned(tz.clone()).date();
    let slot = |d: jiff::civil::Date| {
        d.to_datetime(at)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(now)
    };
    let t = slot(today);
    if t <= now {
        t
    } else {
        today.yesterday().map(slot).unwrap_or(t)
    }
}

/// A duration as written in the configuration: `30s`, `5m`, `4h`, `1d`.
pub fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0s".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// `30s`, `5m`, `4h`, `1d` (or a number of seconds).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u64>() {
        return Some(Duration::from_secs(n));
    }
    let (n, unit) = s.split_at(s.len().checked_sub(1)?);
    let n: u64 = n.trim().parse().ok()?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult).map(Duration::from_secs)
}

/// Why someone gets an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The responsible person's manager.
    Manager,
    /// IT security, for its severity threshold.
    ItSecurity,
    /// IT security, because no manager was found.
    NoManager,
    /// IT security again: a possible IMY case nobody acknowledged within `escalate_after`.
    Escalation,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::ItSecurity => "it_security",
            Role::NoManager => "no_manager",
            Role::Escalation => "escalation",
        }
    }

    pub fn from_name(s: &str) -> Option<Role> {
        [
            Role::Manager,
            Role::ItSecurity,
            Role::NoManager,
            Role::Escalation,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Where an outbox row goes; each row of an incident is delivered and retried on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Mail,
    Webhook,
    /// `[siem] file`: JSON lines.
    SiemFile,
    /// `[siem] syslog`: RFC 5424.
    Syslog,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Mail,
        Channel::Webhook,
        Channel::SiemFile,
        Channel::Syslog,
    ];

    /// The name in the outbox's `channel` column and in `motesvakt alerts`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Mail => "mail",
            Channel::Webhook => "webhook",
            Channel::SiemFile => "siem-file",
            Channel::Syslog => "syslog",
        }
    }

    pub fn from_name(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// A SIEM target: it gets every change of an incident, none superseded or cancelled.
    pub fn is_siem(self) -> bool {
        matches!(self, Channel::SiemFile | Channel::Syslog)
    }
}

/// One alert to write to the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// Stable: the same incident, severity and recipient give the same id, so an incident
    /// already alerted is not alerted again after a restart, and one raised later is.
    pub id: String,
    pub incident: String,
    pub recipient: String,
    pub role: Role,
    pub severity: Severity,
    pub immediate: bool,
    /// Mails are grouped per recipient and meeting.
    pub group: String,
    pub channel: Channel,
    /// What happened to the incident: `new`, `raised`, `lowered`, `withdrawn`.
    pub change: &'static str,
    /// The severity before, for `raised` and `lowered`.
    pub severity_from: Option<Severity>,
}

/// The loaded directory, and what the file was when it was read.
#[derive(Debug, Default)]
struct Loaded {
    directory: Directory,
    stamp: Option<(SystemTime, u64)>,
    checked: Option<std::time::Instant>,
}

/// Decides who gets which alert.
#[derive(Debug)]
pub struct Router {
    pub settings: AlertSettings,
    loaded: Mutex<Loaded>,
}

impl Router {
    /// A router with the directory read now: a directory that cannot be read is an error at
    /// start.
    pub fn new(settings: AlertSettings) -> Result<Router, DirectoryError> {
        let router = Router {
            settings,
            loaded: Mutex::new(Loaded::default()),
        };
        if let Some(path) = &router.settings.directory {
            let stamp = stamp(path);
            let directory = Directory::load(path)?;
            let mut l = router.loaded.lock().unwrap_or_else(|e| e.into_inner());
            *l = Loaded {
                directory,
                stamp,
                checked: Some(std::time::Instant::now()),
            };
        }
        Ok(router)
    }

    /// Reads the directory again if its file changed (looked at once a second at most). A file
    /// that cannot be read now keeps the directory read before, and the error is returned.
    pub fn refresh(&self) -> Result<bool, DirectoryError> {
        let Some(path) = &self.settings.directory else {
            return Ok(false);
        };
        let mut l = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
        if l.checked
            .is_some_and(|t| t.elapsed() < Duration::from_secs(1))
        {
            return Ok(false);
        }
        l.checked = Some(std::time::Instant::now());
        let now = stamp(path);
        if now == l.stamp && now.is_some() {
            return Ok(false);
        }
        let directory = Directory::load(path)?;
        l.directory = directory;
        l.stamp = now;
        Ok(true)
    }

    /// The alerts for an incident that is news (new or raised).
    pub fn route(&self, inc: &Incident) -> Vec<Alert> {
        let s = &self.settings;
        if inc.severity < s.min_severity {
            return Vec::new();
        }
        if let Err(e) = self.refresh() {
            tracing::error!("{e}; the directory read before is used");
        }
        let manager = {
            let l = self.loaded.lock().unwrap_or_else(|e| e.into_inner());
            l.directory
                .person(&inc.actor.id)
                .and_then(|p| p.manager.clone())
        };
        let mut to: Vec<(String, Role)> = Vec::new();
        match manager {
            Some(m) => to.push((m, Role::Manager)),
            None => to.extend(s.it_security.iter().map(|a| (a.clone(), Role::NoManager))),
        }
        if inc.severity >= s.it_security_severity {
            for a in &s.it_security {
                if !to.iter().any(|(t, _)| t.eq_ignore_ascii_case(a)) {
                    to.push((a.clone(), Role::ItSecurity));
                }
            }
        }
        if to.is_empty() {
            tracing::warn!(
                "incident {}: no manager in the directory for its responsible person and no [alerts] it_security: nobody gets a mail",
                inc.id
            );
        }
        to.into_iter()
            .map(|(recipient, role)| {
                let recipient = recipient.to_lowercase();
                Alert {
                    id: short_hash(&[&inc.id, inc.severity.as_str(), &recipient]),
                    incident: inc.id.clone(),
                    group: short_hash(&[&recipient, inc.platform.as_str(), &inc.meeting]),
                    recipient,
                    role,
                    severity: inc.severity,
                    immediate: inc.severity >= s.immediate_severity,
                    channel: Channel::Mail,
                    change: "new",
                    severity_from: None,
                }
            })
            .collect()
    }

    /// Every outbox row for a change of an incident (`Known` is none): the mails and the
    /// webhook for news (new or raised), and a SIEM event per configured target for every
    /// change, lowered and withdrawn included. `now_us` makes each SIEM event's id (an
    /// incident can be withdrawn, return and be withdrawn again).
    pub fn route_change(&self, inc: &Incident, outcome: Outcome, now_us: i64) -> Vec<Alert> {
        let s = &self.settings;
        let change = outcome.as_str();
        let from = match outcome {
            Outcome::Raised { from } | Outcome::Lowered { from } => Some(from),
            Outcome::Known => return Vec::new(),
            Outcome::New | Outcome::Withdrawn => None,
        };
        let mut out = Vec::new();
        if outcome.is_news() {
            let mail_wanted =
                s.smtp.is_some() || s.directory.is_some() || !s.it_security.is_empty();
            if mail_wanted {
                out.extend(self.route(inc).into_iter().map(|a| Alert {
                    change,
                    severity_from: from,
                    ..a
                }));
            }
            if let Some(w) = &s.webhook
                && inc.severity >= w.min_severity
            {
                out.push(Alert {
                    id: short_hash(&["webhook", &inc.id, inc.severity.as_str()]),
                    incident: inc.id.clone(),
                    recipient: Channel::Webhook.as_str().into(),
                    role: Role::ItSecurity,
                    severity: inc.severity,
                    immediate: true,
                    group: Channel::Webhook.as_str().into(),
                    channel: Channel::Webhook,
                    change,
                    severity_from: from,
                });
            }
        }
        if let Some(siem) = &s.siem
            && (inc.severity >= siem.min_severity || from.is_some_and(|f| f >= siem.min_severity))
        {
            let now = now_us.to_string();
            for channel in siem.channels() {
                out.push(Alert {
                    id: short_hash(&[
                        channel.as_str(),
                        &inc.id,
                        change,
                        inc.severity.as_str(),
                        &now,
                    ]),
                    incident: inc.id.clone(),
                    recipient: channel.as_str().into(),
                    role: Role::ItSecurity,
                    severity: inc.severity,
                    immediate: true,
                    group: channel.as_str().into(),
                    channel,
                    change,
                    severity_from: from,
                });
            }
        }
        out
    }
}

/// Alerts of `inc` to IT security only, at once, for `role` (an escalation, or an incident of
/// motesvakt's own), in mails of their own (per recipient and meeting, apart from the other
/// alerts): `except` (the address an alert could not reach) is left out.
pub fn to_it_security(
    settings: &AlertSettings,
    inc: &Incident,
    role: Role,
    except: Option<&str>,
) -> Vec<Alert> {
    settings
        .it_security
        .iter()
        .map(|a| a.to_lowercase())
        .filter(|a| except.is_none_or(|e| !e.eq_ignore_ascii_case(a)))
        .map(|recipient| Alert {
            id: short_hash(&[&inc.id, role.as_str(), inc.severity.as_str(), &recipient]),
            incident: inc.id.clone(),
            group: short_hash(&[
                role.as_str(),
                &recipient,
                inc.platform.as_str(),
                &inc.meeting,
            ]),
            recipient,
            role,
            severity: inc.severity,
            immediate: true,
            channel: Channel::Mail,
            change: "new",
            severity_from: None,
        })
        .collect()
}

/// Puts the escalations due at `now` in the outbox: each possible IMY case still open
/// `escalate_after` after its first alert, once, to IT security. Returns how many incidents.
pub fn escalate_due(
    store: &crate::store::Store,
    settings: &AlertSettings,
    now: jiff::Timestamp,
) -> Result<u64, crate::store::StoreError> {
    if settings.it_security.is_empty() {
        return Ok(0);
    }
    let now_us = now.as_microsecond();
    let before = now_us.saturating_sub(settings.escalate_after.as_micros() as i64);
    // Looked at without the write lock: most ticks there is nothing to escalate.
    if store
        .read_transaction()?
        .due_escalations(before)?
        .is_empty()
    {
        return Ok(0);
    }
    let tx = store.transaction()?;
    let due = tx.due_escalations(before)?;
    for (inc, _) in &due {
        tx.enqueue_alerts(
            &to_it_security(settings, inc, Role::Escalation, None),
            now_us,
        )?;
        tracing::warn!(
            "incident {}: a possible IMY case still open {} after its first alert; sent to IT security again",
            inc.id,
            duration_text(settings.escalate_after)
        );
    }
    tx.commit()?;
    Ok(due.len() as u64)
}

/// The incident of motesvakt's own that tells IT security an alert (`key`: the mail, or the
/// webhook row) to `recipient` (for the webhook: `webhook`, never its url) was not delivered:
/// rule [`crate::incident::ALERT_UNDELIVERABLE`], high, filed under the first incident's
/// meeting, with no patient data (who it was for, how many incidents, why).
pub fn undeliverable_incident(
    key: &str,
    channel: Channel,
    recipient: &str,
    incidents: &[Incident],
    permanent: bool,
    now: jiff::Timestamp,
    lang: crate::i18n::Language,
) -> Incident {
    use crate::event::Platform;
    use crate::incident::{ALERT_UNDELIVERABLE, Count, Evidence, Undelivered};
    let first = incidents.first();
    let n = u32::try_from(incidents.len()).unwrap_or(u32::MAX);
    let mut incident = Incident {
        platform: first.map_or(Platform::Other, |i| i.platform),
        meeting: first.map(|i| i.meeting.clone()).unwrap_or_default(),
        ..Incident::own(
            short_hash(&["motesvakt-alert-undeliverable-v1", key])[..16].to_string(),
            ALERT_UNDELIVERABLE,
            Severity::High,
            recipient,
            now,
            Evidence {
                count: Some(Count { n, at_least: false }),
                undelivered: Some(Undelivered {
                    channel: channel.as_str().to_string(),
                    permanent,
                }),
                ..Evidence::default()
            },
        )
    };
    incident.summary = crate::i18n::summary(&incident, lang);
    incident
}

/// A dead alert (the mail or webhook row `key`, to `recipient`, of `incidents`) as an incident
/// of its own ([`undeliverable_incident`]), recorded in `tx` with its mails to IT security
/// (never to `recipient`). An alert of such an incident makes no further one. Returns whether
/// the incident was news.
#[allow(clippy::too_many_arguments)]
pub(crate) fn record_undeliverable(
    tx: &crate::store::Tx<'_>,
    settings: &AlertSettings,
    key: &str,
    channel: Channel,
    recipient: &str,
    incidents: &[Incident],
    permanent: bool,
    now_us: i64,
    lang: crate::i18n::Language,
) -> Result<bool, crate::store::StoreError> {
    use crate::incident::ALERT_UNDELIVERABLE;
    if incidents.is_empty() || incidents.iter().any(|i| i.rule == ALERT_UNDELIVERABLE) {
        return Ok(false);
    }
    let at = jiff::Timestamp::from_microsecond(now_us).unwrap_or_default();
    let inc = undeliverable_incident(key, channel, recipient, incidents, permanent, at, lang);
    let run = tx.start_run()?;
    if !tx.record_incident(&inc, at, run)?.is_news() {
        return Ok(false);
    }
    let alerts = to_it_security(settings, &inc, Role::ItSecurity, Some(recipient));
    if alerts.is_empty() {
        tracing::error!(
            "incident {}: an alert is dead and no other [alerts] it_security address is there to tell; `motesvakt incidents` lists it",
            inc.id
        );
    }
    tx.enqueue_alerts(&alerts, now_us)?;
    Ok(true)
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// A hex SHA-256 prefix of the parts (separated, so `a`+`bc` differs from `ab`+`c`).
pub fn short_hash(parts: &[&str]) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p.as_bytes());
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests;
