//! Building the parts every command needs from a configuration: the hash key, the detector,
//! the store. Shared by `scan`, the service and `status`, so that they find the same key and
//! the same database.

use std::path::{Path, PathBuf};

use crate::config::{Config, KEY_FILE, STATE_DB};
use crate::detect::{Detector, HashKey};
use crate::store::Store;

/// A part that could not be built; the message says what and where.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// The hash key, in this order: `[detect] secret`; `[detect] secret_file`; the credential
/// `motesvakt.key` that systemd's `LoadCredential=` puts in `$CREDENTIALS_DIRECTORY`; the file
/// `motesvakt.key` in `dir` (created, readable by its owner only, when missing). Without
/// `dir` and none of the others, a fresh key for this run only.
pub fn hash_key(config: &Config, dir: Option<&Path>) -> Result<HashKey, SetupError> {
    if let Some(secret) = &config.detect.secret {
        return Ok(HashKey::from_bytes(secret.as_bytes()));
    }
    let credential = std::env::var_os("CREDENTIALS_DIRECTORY")
        .map(|d| PathBuf::from(d).join(KEY_FILE))
        .filter(|p| p.is_file());
    let file = config
        .detect
        .secret_file
        .clone()
        .or(credential)
        .or_else(|| dir.map(|d| d.join(KEY_FILE)));
    match file {
        Some(f) => HashKey::load_or_create(&f).map_err(|e| SetupError(e.to_string())),
        None => HashKey::random().map_err(|e| SetupError(e.to_string())),
    }
}

/// The folder of a database file (where its hash key goes).
pub fn db_dir(db: &Path) -> PathBuf {
    db.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// The detector for `config`, with its hash key from `dir` (see [`hash_key`]).
pub fn detector(config: &Config, dir: Option<&Path>) -> Result<Detector, SetupError> {
    let key = hash_key(config, dir)?;
    Detector::new(&config.detect, key).map_err(|e| SetupError(e.to_string()))
}

/// Why the service's state could not be opened: its folder (a setting to fix), or its
/// database (a store error, which may pass: a full disk, a lock).
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{0}")]
    Folder(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The service's state folder, created (readable by its owner only) if missing, and its
/// database opened.
pub fn state_store(config: &Config) -> Result<(PathBuf, Store), StateError> {
    let dir = config.service_state_dir();
    create_private_dir(&dir).map_err(|e| {
        StateError::Folder(format!(
            "cannot create the state folder {}: {e}",
            dir.display()
        ))
    })?;
    let store = Store::open(&dir.join(STATE_DB))?;
    Ok((dir, store))
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}
