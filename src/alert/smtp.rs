//! Delivering the outbox over SMTP with `lettre`: one mail per recipient and meeting, retried
//! with exponential back-off and jitter after a temporary failure (4xx, a timeout, a server
//! that cannot be reached), never after a permanent one (5xx), and marked dead when it could
//! not be delivered within `give_up_after`. Each mail's Message-ID is fixed before its first
//! attempt, so a receiver recognises a repeat.

use std::time::Duration;

use jiff::Timestamp;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls as LTls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::render::{Mail, alert_mail, header_value};
use super::{AlertSettings, Channel, Role, SmtpSettings, Tls};
use crate::i18n::Language;
use crate::store::{Store, StoreError};

/// Why mail cannot be sent at all (the configuration), or the store failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// The message names the section (`[smtp]: …`, `[webhook]: …`).
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One attempt's failure.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub permanent: bool,
}

/// What one round of delivery did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    pub sent: u64,
    pub retried: u64,
    pub dead: u64,
    /// Alerts the hourly cap held back (for one "N more" mail later).
    pub held: u64,
    /// Dead alerts told to IT security by an incident of their own (`alert-undeliverable`).
    pub told: u64,
}

/// A connection setup to the configured server.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The `[[reports]]` a digest names or attaches (the service's; none for a scan).
    reports: Vec<crate::report::schedule::Schedule>,
}

/// A file attached to a mail.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl Mailer {
    pub fn new(s: &SmtpSettings) -> Result<Mailer, SendError> {
        let setup = |m: String| SendError::Setup(format!("[smtp]: {m}"));
        let params = || -> Result<TlsParameters, SendError> {
            let mut b = TlsParameters::builder(s.host.clone());
            if let Some(ca) = &s.ca_file {
                let pem = std::fs::read(ca)
                    .map_err(|e| setup(format!("ca_file {}: {e}", ca.display())))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| setup(format!("ca_file {}: {e}", ca.display())))?;
                b = b.add_root_certificate(cert);
            }
            b.build_rustls().map_err(|e| setup(format!("TLS: {e}")))
        };
        let tls = match s.tls {
            Tls::Required => LTls::Required(params()?),
            Tls::Wrapper => LTls::Wrapper(params()?),
            Tls::None => LTls::None,
        };
        let mut b = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.clone())
            .port(s.port)
            .timeout(Some(s.timeout))
            .tls(tls);
        if let (Some(user), Some(file)) = (&s.username, &s.password_file) {
            let file = credential_path(file);
            let password = std::fs::read_to_string(&file)
                .map_err(|e| setup(format!("password_file {}: {e}", file.display())))?;
            b = b.credentials(Credentials::new(
                user.clone(),
                password.trim_end_matches(['\r', '\n']).to_string(),
            ));
        }
        let from: Mailbox = s.from.parse().map_err(|e| setup(format!("from: {e}")))?;
        Ok(Mailer {
            transport: b.build(),
            from,
            reports: Vec::new(),
        })
    }

    /// The mailer, its digests naming (or attaching) the reports of `reports` written in the
    /// last day for their recipient.
    pub fn with_reports(mut self, reports: Vec<crate::report::schedule::Schedule>) -> Mailer {
        self.reports = reports;
        self
    }

    /// Sends one mail. `message_id` is the left part of the Message-ID.
    pub async fn send(&self, to: &str, mail: &Mail, message_id: &str) -> Result<(), Failure> {
        self.send_with(to, mail, message_id, &[]).await
    }

    /// Sends one mail with `attachments` (multipart/mixed when there are any).
    pub async fn send_with(
        &self,
        to: &str,
        mail: &Mail,
        message_id: &str,
        attachments: &[Attachment],
    ) -> Result<(), Failure> {
        let to: Mailbox = header_value(to).parse().map_err(|e| Failure {
            message: format!("recipient: {e}"),
            permanent: true,
        })?;
        let domain = self.from.email.domain().to_string();
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(header_value(&mail.subject))
            .message_id(Some(format!(
                "<{}@{}>",
                header_value(message_id),
                header_value(&domain)
            )));
        let message = if attachments.is_empty() {
            message
                .header(ContentType::TEXT_PLAIN)
                .body(mail.body.clone())
        } else {
            let mut parts = MultiPart::mixed().singlepart(SinglePart::plain(mail.body.clone()));
            for a in attachments {
                let kind = ContentType::parse(a.content_type).unwrap_or(ContentType::TEXT_PLAIN);
                parts = parts.singlepart(
                    lettre::message::Attachment::new(header_value(&a.name))
                        .body(a.bytes.clone(), kind),
                );
            }
            message.multipart(parts)
        }
        .map_err(|e| Failure {
            message: format!("the mail cannot be built: {e}"),
            permanent: true,
        })?;
        match self.transport.send(message).await {
            Ok(_) => Ok(()),
            Err(e) => Err(Failure {
                // SMTP 5xx is permanent; 4xx, timeouts and connection errors are retried.
                permanent: e.is_permanent(),
                message: crate::report::shown(&e.to_string()),
            }),
        }
    }
}

/// A relative `password_file` that systemd passed as a credential
/// (`LoadCredential=smtp-password:...`) is read from `$CREDENTIALS_DIRECTORY`; else as given.
pub(crate) fn credential_path(file: &std::path::Path) -> std::path::PathBuf {
    if file.is_relative()
        && let Some(dir) = std::env::var_os("CREDENTIALS_DIRECTORY")
    {
        let p = std::path::Path::new(&dir).join(file);
        if p.is_file() {
            return p;
        }
    }
    file.to_path_buf()
}

/// The delay before attempt `attempts + 1`: 30 s doubled per attempt, at most 1 h, with up to
/// a quarter more or less of jitter.
pub fn backoff(attempts: i64, jitter_seed: u64) -> Duration {
    let base = 30u64
        .saturating_mul(1u64 << attempts.clamp(0, 7) as u32)
        .min(3600);
    // ±25 %: a cheap mix of the seed (the mail id and the time), no need for a real RNG.
    let mut x = jitter_seed ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    let frac = (x % 1001) as f64 / 1000.0; // 0..=1
    Duration::from_secs_f64(base as f64 * (0.75 + 0.5 * frac))
}

/// When to try a failed alert again (`key` seeds the jitter), and whether it is dead: a
/// permanent failure, or not delivered within `give_up_after` of `created_us`.
pub(crate) fn after_failure(
    key: &str,
    attempts: i64,
    created_us: i64,
    now: i64,
    settings: &AlertSettings,
    f: &Failure,
) -> (i64, bool) {
    let seed = key
        .bytes()
        .fold(now as u64, |h, b| h.rotate_left(5) ^ u64::from(b));
    let next = now + backoff(attempts, seed).as_micros() as i64;
    let expired = now - created_us > settings.give_up_after.as_micros() as i64;
    (next, f.permanent || expired)
}

impl Delivered {
    /// Counts and logs a failed attempt of `what` (`alert mail <id>`, `webhook alert <id>`).
    pub(crate) fn count_failure(&mut self, what: &str, f: &Failure, dead: bool) {
        if dead {
            self.dead += 1;
            tracing::error!(
                "{what} is dead ({}): {}",
                if f.permanent {
                    "a permanent failure"
                } else {
                    "not delivered in time"
                },
                f.message
            );
        } else {
            self.retried += 1;
            tracing::warn!("{what} not delivered, tried again later: {}", f.message);
        }
    }
}

/// The meta key of the last digest made (Unix µs of its slot).
const LAST_DIGEST: &str = "last_digest_us";

/// Makes the day's digests when `digest_at` (Swedish time) has passed since the last ones.
/// The service calls it; a scan leaves the digest to the service.
pub fn make_digests_if_due(
    store: &Store,
    settings: &AlertSettings,
    now: Timestamp,
) -> Result<u64, StoreError> {
    let slot = super::last_digest_slot(now, settings.digest_at).as_microsecond();
    let tx = store.transaction()?;
    if tx.meta_value(LAST_DIGEST)?.is_some_and(|last| last >= slot) {
        return Ok(0);
    }
    let n = tx.make_digests()?;
    tx.set_meta_value(LAST_DIGEST, slot)?;
    tx.commit()?;
    if n > 0 {
        tracing::info!("daily digest for {n} recipient(s)");
    }
    Ok(n)
}

/// Sends the mails due now (all pending ones when `all`, for a scan that exits), and records
/// each outcome in the store. A mail given up on is told to IT security by an incident of its
/// own ([`super::undeliverable_incident`]); a scan sends those before it returns too.
pub async fn deliver(
    store: &Store,
    mailer: &Mailer,
    settings: &AlertSettings,
    lang: Language,
    all: bool,
) -> Result<Delivered, SendError> {
    let mut done = Delivered::default();
    // An undeliverable incident's own mail that dies makes no further incident: two rounds
    // at most, a third to be sure.
    for _ in 0..3 {
        let round = deliver_round(store, mailer, settings, lang, all).await?;
        done.sent += round.sent;
        done.retried += round.retried;
        done.dead += round.dead;
        done.held += round.held;
        done.told += round.told;
        if !all || round.told == 0 {
            break;
        }
    }
    Ok(done)
}

/// One round of [`deliver`].
async fn deliver_round(
    store: &Store,
    mailer: &Mailer,
    settings: &AlertSettings,
    lang: Language,
    all: bool,
) -> Result<Delivered, SendError> {
    let now = Timestamp::now().as_microsecond();
    let due = {
        let tx = store.transaction()?;
        let due = tx.due_mails(now, settings.group_wait.as_micros() as i64, all)?;
        let mut out = Vec::new();
        for m in due {
            let mut incidents = Vec::new();
            let mut first_alert = None;
            for id in &m.incidents {
                if let Some(i) = tx.incident(id)? {
                    incidents.push(i);
                }
                if m.role == Role::Escalation
                    && let Some(us) = tx.first_alert_us(id)?
                {
                    first_alert = Some(first_alert.map_or(us, |f: i64| f.min(us)));
                }
            }
            out.push((m, incidents, first_alert));
        }
        tx.commit()?;
        out
    };
    let mut done = Delivered::default();
    for (m, incidents, first_alert) in due {
        let hour = 3_600_000_000;
        if !m.digest && !m.capped && m.role != Role::Escalation && settings.hourly_cap > 0 {
            let now = Timestamp::now().as_microsecond();
            let tx = store.transaction()?;
            let (sent, first) = tx.mails_sent_since(&m.recipient, now - hour)?;
            if sent >= u64::from(settings.hourly_cap) {
                let until = first.unwrap_or(now) + hour;
                let held = tx.cap_mail(&m.recipient, &m.mail, until)?;
                tx.commit()?;
                done.held += m.incidents.len() as u64;
                tracing::warn!(
                    "alert mail {} held back by the hourly cap ({} mails in the last hour); {held} alert(s) wait for one mail",
                    m.mail,
                    sent
                );
                continue;
            }
        }
        let result = if incidents.is_empty() {
            // Pruned since: there is nothing left to tell.
            Err(Failure {
                message: "its incidents are no longer in the database".into(),
                permanent: true,
            })
        } else {
            let discovered = Timestamp::from_microsecond(m.created_us).unwrap_or_default();
            let mut mail = if m.role == Role::Escalation {
                let first = first_alert
                    .and_then(|us| Timestamp::from_microsecond(us).ok())
                    .unwrap_or(discovered);
                super::render::escalation_mail(
                    &incidents,
                    lang,
                    first,
                    settings.escalate_after,
                    Timestamp::now(),
                )
            } else {
                alert_mail(&incidents, m.role, lang, discovered, m.digest)
            };
            if m.capped {
                mail = super::render::capped(mail, incidents.len(), lang);
            }
            let attachments = if m.digest && !mailer.reports.is_empty() {
                digest_reports(store, mailer, &m.recipient, m.role, lang, &mut mail)?
            } else {
                Vec::new()
            };
            mailer
                .send_with(&m.recipient, &mail, &m.mail, &attachments)
                .await
        };
        let now = Timestamp::now().as_microsecond();
        let tx = store.transaction()?;
        match result {
            Ok(()) => {
                tx.mark_mail_sent(&m.mail, now)?;
                done.sent += 1;
                tracing::info!(
                    "alert mail {} sent ({} incident(s))",
                    m.mail,
                    incidents.len()
                );
            }
            Err(f) => {
                let (next, dead) =
                    after_failure(&m.mail, m.attempts, m.created_us, now, settings, &f);
                tx.mark_mail_failed(&m.mail, &f.message, next, dead)?;
                if dead
                    && super::record_undeliverable(
                        &tx,
                        settings,
                        &m.mail,
                        Channel::Mail,
                        &m.recipient,
                        &incidents,
                        f.permanent,
                        now,
                        lang,
                    )?
                {
                    done.told += 1;
                }
                done.count_failure(&format!("alert mail {}", m.mail), &f, dead);
            }
        }
        tx.commit()?;
    }
    Ok(done)
}

/// The scheduled reports of the last day for a digest's recipient: named at the end of the
/// mail's text, and returned as attachments for those with `attach_to_digest`.
fn digest_reports(
    store: &Store,
    mailer: &Mailer,
    recipient: &str,
    role: Role,
    lang: Language,
    mail: &mut Mail,
) -> Result<Vec<Attachment>, StoreError> {
    use crate::report::{Format, schedule, shown_path};
    /// A report larger than this is named, not attached.
    const ATTACH_MAX: u64 = 10 << 20;
    let found = schedule::for_digest(&mailer.reports, store, recipient, role, Timestamp::now())?;
    let mut attachments = Vec::new();
    let mut lines = Vec::new();
    for r in found {
        let small = std::fs::metadata(&r.path).is_ok_and(|m| m.len() <= ATTACH_MAX);
        let bytes = if r.attach && small {
            std::fs::read(&r.path).ok()
        } else {
            None
        };
        let file = r
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match bytes {
            Some(bytes) => {
                lines.push(match lang {
                    Language::Sv => format!("  {} (bifogad)", crate::report::shown(&file)),
                    Language::En => format!("  {} (attached)", crate::report::shown(&file)),
                });
                attachments.push(Attachment {
                    name: file,
                    content_type: match r.format {
                        Format::Html => "text/html; charset=utf-8",
                        Format::Markdown => "text/markdown; charset=utf-8",
                        Format::Json => "application/json",
                        Format::Csv => "text/csv; charset=utf-8",
                    },
                    bytes,
                });
            }
            None => lines.push(format!("  {}", shown_path(&r.path))),
        }
    }
    if !lines.is_empty() {
        let head = match lang {
            Language::Sv => "Schemalagda rapporter",
            Language::En => "Scheduled reports",
        };
        mail.body = format!(
            "{}\n\n{head}:\n{}\n",
            mail.body.trim_end(),
            lines.join("\n")
        );
    }
    Ok(attachments)
}

/// A runtime for one thread, for callers that are not async.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}
