//! Signals, heard on a small tokio runtime of their own: SIGTERM and SIGINT ask the ingest
//! loop to stop after the current batch (a second one stops the process at once), SIGHUP to
//! reload the configuration.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

use tokio::signal::unix::{SignalKind, signal};

use super::Wake;

/// Starts listening; the handlers are installed when this returns.
pub fn listen(wake: Sender<Wake>, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (mut term, mut int, mut hup) = rt.block_on(async {
        Ok::<_, std::io::Error>((
            signal(SignalKind::terminate())?,
            signal(SignalKind::interrupt())?,
            signal(SignalKind::hangup())?,
        ))
    })?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            rt.block_on(async move {
                loop {
                    let name = tokio::select! {
                        _ = term.recv() => "SIGTERM",
                        _ = int.recv() => "SIGINT",
                        _ = hup.recv() => {
                            tracing::info!("SIGHUP: reloading the configuration");
                            let _ = wake.send(Wake::Reload);
                            continue;
                        }
                    };
                    if stop.swap(true, Ordering::SeqCst) {
                        tracing::warn!("{name} again: stopping now");
                        std::process::exit(super::super::cli::EXIT_STORE as i32);
                    }
                    tracing::info!("{name}: finishing the current batch, then stopping");
                    let _ = wake.send(Wake::Stop);
                }
            })
        })?;
    Ok(())
}
