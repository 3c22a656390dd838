//! Delivering the outbox's webhook and SIEM rows: each row is one change of one incident,
//! rendered when it is sent from the stored incident, tried again with the mail's back-off
//! after a temporary failure, and dead after a permanent one or `give_up_after`.
//!
//! What goes out is the same object for the webhook and the JSON-lines file (and the same
//! fields for syslog's structured data): the fields of the mail, never the incident's summary,
//! a phrase, a file name or a finding; every value redacted.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::render::{incident_lines, one_line, reportable};
use super::siem::{self, JsonLines, Syslog};
use super::smtp::{Delivered, Failure, SendError, after_failure};
use super::webhook::Webhook;
use super::{AlertSettings, Channel};
use crate::i18n::{Language, rule_title, who};
use crate::incident::{Incident, Severity};
use crate::report::shown;
use crate::store::DueEvent;
use crate::store::Store;

/// The configured webhook and SIEM targets.
#[derive(Debug)]
pub struct Channels {
    webhook: Option<Webhook>,
    file: Option<JsonLines>,
    syslog: Option<Syslog>,
    hostname: String,
    facility: u8,
}

impl Channels {
    /// The targets of `[webhook]` and `[siem]`, or `None` when neither is configured. A
    /// secret that cannot be read is an error.
    pub fn new(s: &AlertSettings) -> Result<Option<Channels>, SendError> {
        if s.webhook.is_none() && s.siem.is_none() {
            return Ok(None);
        }
        let webhook = s.webhook.as_ref().map(Webhook::new).transpose()?;
        let (file, syslog, facility) = match &s.siem {
            None => (None, None, 10),
            Some(siem) => (
                siem.file.as_deref().map(JsonLines::new),
                siem.syslog.clone().map(|t| Syslog::new(t, siem.timeout)),
                siem.facility,
            ),
        };
        Ok(Some(Channels {
            webhook,
            file,
            syslog,
            hostname: siem::hostname(),
            facility,
        }))
    }

    /// What the channels are, for the log.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.webhook.is_some() {
            parts.push("webhook");
        }
        if self.file.is_some() {
            parts.push("SIEM file");
        }
        if self.syslog.is_some() {
            parts.push("syslog");
        }
        parts.join(", ")
    }
}

/// The object sent for one change of an incident (Standard Webhooks' `type`, `timestamp`,
/// `data`). `severity` is the one at the change; `at` when the change was seen.
pub fn event(inc: &Incident, e: &DueEvent, lang: Language) -> Value {
    let severity = Severity::from_name(&e.severity).unwrap_or(inc.severity);
    let mut inc = inc.clone();
    inc.severity = severity;
    let at = Timestamp::from_microsecond(e.created_us).unwrap_or_default();
    let lines = incident_lines(&inc, lang);
    let mut data = json!({
        "incident": shown(&inc.id),
        "change": e.change,
        "severity": severity.as_str(),
        "severity_label": lines[0].1,
        "rule": shown(&inc.rule),
        "rule_title": shown(rule_title(&inc.rule, lang)),
        "platform": inc.platform.as_str(),
        "meeting": shown(&inc.meeting),
        "time": inc.time.round(jiff::Unit::Second).unwrap_or(inc.time).to_string(),
        "time_local": crate::i18n::time::date_time(inc.time),
        "responsible": shown(who(&inc.actor)),
        "routine": {"file": shown(&inc.routine.file), "section": shown(&inc.routine.section)},
        "findings": inc.evidence.findings.len(),
        "text": one_line(&inc, lang),
    });
    if let Some(from) = e.severity_from.as_deref().and_then(Severity::from_name) {
        data["severity_from"] = json!(from.as_str());
    }
    if reportable(&inc) {
        // When motesvakt first saw it is the start of the IMY deadline, as in the mail.
        data["imy_report_by"] = json!(crate::i18n::time::date_time(
            at + jiff::SignedDuration::from_hours(72)
        ));
    }
    json!({
        "type": format!("incident.{}", e.change),
        "timestamp": at.round(jiff::Unit::Second).unwrap_or(at).to_string(),
        "data": data,
    })
}

/// The syslog message for one event.
fn syslog_bytes(ev: &Value, e: &DueEvent, facility: u8, hostname: &str) -> Vec<u8> {
    let d = &ev["data"];
    let text = |k: &str| match &d[k] {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        v => v.to_string(),
    };
    let mut sd: Vec<(&str, String)> = [
        "incident",
        "change",
        "severity",
        "severity_from",
        "rule",
        "platform",
        "meeting",
        "time",
        "responsible",
        "findings",
        "imy_report_by",
    ]
    .iter()
    .map(|k| (*k, text(k)))
    .filter(|(_, v)| !v.is_empty())
    .collect();
    sd.push(("routine", text_of(&d["routine"]["file"])));
    sd.push(("section", text_of(&d["routine"]["section"])));
    let severity = Severity::from_name(&e.severity).unwrap_or(Severity::Info);
    let time = Timestamp::from_microsecond(e.created_us).unwrap_or_default();
    siem::syslog_message(
        facility,
        siem::syslog_severity(severity, &e.change),
        time,
        hostname,
        &e.change,
        &sd,
        &text_of(&d["text"]),
    )
}

fn text_of(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Delivers the due webhook and SIEM rows (all pending ones when `all`, for a scan that
/// exits) and records each outcome.
pub async fn deliver(
    store: &Store,
    channels: &mut Channels,
    settings: &AlertSettings,
    lang: Language,
    all: bool,
) -> Result<Delivered, SendError> {
    let mut done = Delivered::default();
    for channel in [Channel::Webhook, Channel::SiemFile, Channel::Syslog] {
        let configured = match channel {
            Channel::Webhook => channels.webhook.is_some(),
            Channel::SiemFile => channels.file.is_some(),
            Channel::Syslog => channels.syslog.is_some(),
            Channel::Mail => false,
        };
        if !configured {
            continue;
        }
        let due = {
            let tx = store.transaction()?;
            let due = tx.due_events(channel, Timestamp::now().as_microsecond(), all)?;
            let mut out = Vec::with_capacity(due.len());
            for e in due {
                let inc = tx.incident(&e.incident)?;
                out.push((e, inc));
            }
            tx.commit()?;
            out
        };
        for (e, inc) in due {
            let result = match &inc {
                None => Err(Failure {
                    message: "its incident is no longer in the database".into(),
                    permanent: true,
                }),
                Some(inc) => send(channels, channel, inc, &e, lang).await,
            };
            let now = Timestamp::now().as_microsecond();
            let tx = store.transaction()?;
            match result {
                Ok(()) => {
                    tx.mark_event(&e.id, now, None)?;
                    done.sent += 1;
                    tracing::info!("{} alert {} delivered", channel.as_str(), e.id);
                }
                Err(f) => {
                    let (next, dead) =
                        after_failure(&e.id, e.attempts, e.created_us, now, settings, &f);
                    tx.mark_event(&e.id, now, Some((&f.message, next, dead)))?;
                    // A dead webhook call is told to IT security by mail, like a dead mail; the
                    // SIEM's own failures are logged and listed (`alerts --dead`).
                    if dead
                        && channel == Channel::Webhook
                        && let Some(inc) = inc
                        && super::record_undeliverable(
                            &tx,
                            settings,
                            &e.id,
                            channel,
                            channel.as_str(),
                            std::slice::from_ref(&inc),
                            f.permanent,
                            now,
                            lang,
                        )?
                    {
                        done.told += 1;
                    }
                    done.count_failure(&format!("{} alert {}", channel.as_str(), e.id), &f, dead);
                }
            }
            tx.commit()?;
        }
    }
    if let Some(s) = &mut channels.syslog {
        s.close();
    }
    Ok(done)
}

async fn send(
    channels: &mut Channels,
    channel: Channel,
    inc: &Incident,
    e: &DueEvent,
    lang: Language,
) -> Result<(), Failure> {
    let ev = event(inc, e, lang);
    match channel {
        Channel::Webhook => {
            let body = serde_json::to_vec(&ev).unwrap_or_default();
            match &channels.webhook {
                Some(w) => w.post(&format!("msg_{}", e.id), &body).await,
                None => Ok(()),
            }
        }
        Channel::SiemFile => {
            let line = serde_json::to_vec(&ev).unwrap_or_default();
            match &mut channels.file {
                Some(f) => f.append(&line).map_err(|err| Failure {
                    message: shown(&format!("[siem] file: {err}")),
                    permanent: false,
                }),
                None => Ok(()),
            }
        }
        Channel::Syslog => {
            let msg = syslog_bytes(&ev, e, channels.facility, &channels.hostname);
            match &mut channels.syslog {
                Some(s) => s.send(&msg).await,
                None => Ok(()),
            }
        }
        Channel::Mail => Ok(()),
    }
}
