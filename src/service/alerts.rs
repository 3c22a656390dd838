//! The service's alert sender: a thread with its own connection to the database and a
//! current-thread tokio runtime that every few seconds, until it is stopped (at a reload it is
//! started again with the new settings), makes the day's digests when due, puts the IMY cases
//! nobody acknowledged within `escalate_after` in the outbox again for IT security, and
//! delivers the outbox's due mails.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tracing::{error, info};

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
    /// Alerts for `config`, when it has [alerts], [smtp] or [directory]; `db` is the
    /// database the sender opens. An unreadable directory or unusable [smtp] is an error.
    pub fn start(config: &Config, db: PathBuf) -> Result<Option<Alerting>, String> {
        let s = &config.alerts;
        if s.smtp.is_none() && s.directory.is_none() && s.it_security.is_empty() {
            return Ok(None);
        }
        let router = Arc::new(Router::new(s.clone()).map_err(|e| e.to_string())?);
        let sender = match &s.smtp {
            None => {
                info!("alerts are written to the outbox; no [smtp] server, nothing is sent");
                None
            }
            Some(smtp_settings) => {
                let mailer = smtp::Mailer::new(smtp_settings).map_err(|e| e.to_string())?;
                let stop = Arc::new(AtomicBool::new(false));
                let handle = spawn(mailer, s.clone(), config.language, db, stop.clone())?;
                info!(
                    "alerts sent through {}:{}",
                    smtp_settings.host, smtp_settings.port
                );
                Some((stop, handle))
            }
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
    mailer: smtp::Mailer,
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
                if let Some(s) = &store
                    && let Err(e) = smtp::make_digests_if_due(s, &settings, jiff::Timestamp::now())
                        .and_then(|_| {
                            crate::alert::escalate_due(s, &settings, jiff::Timestamp::now())
                        })
                        .map_err(smtp::SendError::from)
                        .and_then(|_| {
                            runtime.block_on(smtp::deliver(s, &mailer, &settings, lang, false))
                        })
                {
                    let e = e.to_string();
                    if e != last_error {
                        error!("alert sender: {e}; tried again");
                        last_error = e;
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
