//! The service's alert sender: a thread with its own connection to the database and a
//! current-thread tokio runtime that every few seconds, until it is stopped (at a reload it is
//! started again with the new settings, which also opens the SIEM file again), makes the day's
//! digests when due, puts the IMY cases nobody acknowledged within `escalate_after` in the
//! outbox again for IT security, and delivers the outbox's due mails, webhook calls and SIEM
//! events.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing::{error, info};

use crate::alert::channels::{self, Channels};
use crate::alert::{AlertSettings, Router, smtp};
use crate::config::Config;
use crate::i18n::Language;
use crate::store::Store;

/// How often the outbox is looked at.
const TICK: Duration = Duration::from_secs(2);

/// The router the pipeline writes alerts with, and the thread that sends them.
pub struct Alerting {
    pub router: Arc<Router>,
    sender: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Alerting {
    /// Alerts for `config`, when it has [alerts], [smtp], [directory], [webhook] or [siem];
    /// `db` is the database the sender opens. An unreadable directory, an unusable [smtp] or a
    /// webhook secret that cannot be read is an error.
    pub fn start(config: &Config, db: PathBuf) -> Result<Option<Alerting>, String> {
        let s = &config.alerts;
        if !s.any() {
            return Ok(None);
        }
        let router = Arc::new(Router::new(s.clone()).map_err(|e| e.to_string())?);
        let mailer = s
            .smtp
            .as_ref()
            .map(smtp::Mailer::new)
            .transpose()
            .map_err(|e| e.to_string())?
            .map(|m| m.with_reports(config.reports.clone()));
        let channels = Channels::new(s).map_err(|e| e.to_string())?;
        match &s.smtp {
            Some(smtp_settings) => info!(
                "alert mail sent through {}:{}",
                smtp_settings.host, smtp_settings.port
            ),
            None if s.directory.is_some() || !s.it_security.is_empty() => {
                info!("alert mail is written to the outbox; no [smtp] server, no mail is sent")
            }
            None => {}
        }
        if let Some(c) = &channels {
            info!("alerts also go to: {}", c.describe());
        }
        let sender = if mailer.is_some() || channels.is_some() {
            let stop = Arc::new(AtomicBool::new(false));
            let handle = spawn(
                mailer,
                channels,
                s.clone(),
                config.language,
                db,
                stop.clone(),
            )?;
            Some((stop, handle))
        } else {
            None
        };
        Ok(Some(Alerting { router, sender }))
    }

    /// Stops the sender after the mail it is sending, if any.
    pub fn stop(&mut self) {
        if let Some((stop, handle)) = self.sender.take() {
            stop.store(true, Ordering::SeqCst);
            let _ = handle.join();
        }
    }
}

impl Drop for Alerting {
    fn drop(&mut self) {
        self.stop();
    }
}

fn spawn(
    mailer: Option<smtp::Mailer>,
    mut channels: Option<Channels>,
    settings: AlertSettings,
    lang: Language,
    db: PathBuf,
    stop: Arc<AtomicBool>,
) -> Result<std::thread::JoinHandle<()>, String> {
    let runtime = smtp::runtime().map_err(|e| format!("cannot start the mail sender: {e}"))?;
    std::thread::Builder::new()
        .name("alert-sender".into())
        .spawn(move || {
            let mut store: Option<Store> = None;
            let mut last_error = String::new();
            while !stop.load(Ordering::SeqCst) {
                if store.is_none() {
                    match Store::open(&db) {
                        Ok(s) => store = Some(s),
                        Err(e) => {
                            let e = e.to_string();
                            if e != last_error {
                                error!("alert sender: {e}; tried again");
                                last_error = e;
                            }
                        }
                    }
                }
                if let Some(s) = &store {
                    let mut round = || -> Result<(), smtp::SendError> {
                        if let Some(mailer) = &mailer {
                            smtp::make_digests_if_due(s, &settings, jiff::Timestamp::now())?;
                            crate::alert::escalate_due(s, &settings, jiff::Timestamp::now())?;
                            runtime.block_on(smtp::deliver(s, mailer, &settings, lang, false))?;
                        }
                        if let Some(c) = &mut channels {
                            runtime.block_on(channels::deliver(s, c, &settings, lang, false))?;
                        }
                        Ok(())
                    };
                    if let Err(e) = round() {
                        let e = e.to_string();
                        if e != last_error {
                            error!("alert sender: {e}; tried again");
                            last_error = e;
                        }
                    }
                }
                let mut slept = Duration::ZERO;
                while slept < TICK && !stop.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(100));
                    slept += Duration::from_millis(100);
                }
            }
        })
        .map_err(|e| format!("cannot start the mail sender: {e}"))
}
