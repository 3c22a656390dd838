//! The secret key behind the keyed hash of every finding.
//!
//! The key comes from the configuration (`[detect] secret` or `secret_file`), or is generated
//! once and kept in the state directory with mode 0600. Without any of these (a `scan` without
//! `--db`) a fresh key is made for the run: findings link within the run only.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use hmac::{KeyInit, Mac};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Problems reading or creating the key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the secret key file {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot create the secret key file {path}: {}", io_cause(source))]
    Create { path: PathBuf, source: io::Error },
    #[error("the secret key file {path} is empty or shorter than 16 bytes")]
    TooShort { path: PathBuf },
    #[error("cannot read random bytes from /dev/urandom: {0}")]
    Random(io::Error),
}

/// An HMAC-SHA256 key. Its `Debug` form does not show the key.
///
/// The HMAC state after the key (the inner and outer pads) is computed once and cloned for each
/// hash, which halves the cost of a hash.
#[derive(Clone)]
pub struct HashKey(Vec<u8>, HmacSha256);

impl std::fmt::Debug for HashKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKey(…)")
    }
}

impl HashKey {
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> HashKey {
        let bytes = bytes.into();
        let mac = HmacSha256::new_from_slice(&bytes).expect("HMAC takes a key of any length");
        HashKey(bytes, mac)
    }

    /// A new random key, for one run.
    pub fn random() -> Result<HashKey, KeyError> {
        let mut buf = [0u8; 32];
        fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut buf))
            .map_err(KeyError::Random)?;
        Ok(HashKey::from_bytes(buf.to_vec()))
    }

    /// Reads the key in `path`, or creates the file (mode 0600) with a random key.
    pub fn load_or_create(path: &Path) -> Result<HashKey, KeyError> {
        match fs::read(path) {
            Ok(bytes) => {
                let trimmed = bytes.trim_ascii();
                if trimmed.len() < 16 {
                    return Err(KeyError::TooShort {
                        path: path.to_path_buf(),
                    });
                }
                Ok(HashKey::from_bytes(trimmed.to_vec()))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let key = HashKey::random()?;
                let hex = hex(&key.0);
                match write_private(path, hex.as_bytes()) {
                    Ok(()) => Ok(HashKey::from_bytes(hex.into_bytes())),
                    // Another process made it first: use that one.
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        HashKey::load_or_create(path)
                    }
                    Err(source) => Err(KeyError::Create {
                        path: path.to_path_buf(),
                        source,
                    }),
                }
            }
            Err(source) => Err(KeyError::Read {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    /// HMAC-SHA256 of `data`, as the first 16 hex characters.
    pub fn hash_hex(&self, data: &[u8]) -> String {
        let mut mac = self.1.clone();
        mac.update(data);
        let out = mac.finalize().into_bytes();
        hex(&out[..8])
    }
}

/// An I/O error as the operator reads it: a full disk said as such, with what to do.
fn io_cause(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::StorageFull => {
            format!("the disk is full ({e}): free space there and run again (no key was written)")
        }
        _ => e.to_string(),
    }
}

/// Writes a new private file (mode 0600) all at once: the data goes to a temporary file in the
/// same folder, synced, then linked to `path` (which fails if `path` exists), so that an
/// interrupted write (a crash, a full disk) never leaves an empty or partial key behind.
fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp-{}-{serial}", std::process::id()));
    // A leftover of a process that crashed with this pid (no live process has it).
    let _ = fs::remove_file(&tmp);
    let written = (|| {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            // Only the final link's `AlreadyExists` means "made by another process".
            .map_err(|e| io::Error::other(format!("{}: {e}", tmp.display())))?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::hard_link(&tmp, path)?;
        // The new name made durable too.
        fs::File::open(dir)?.sync_all()
    })();
    let _ = fs::remove_file(&tmp);
    written
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/secret.key");
        let a = HashKey::load_or_create(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = HashKey::load_or_create(&path).unwrap();
        assert_eq!(a.hash_hex(b"x"), b.hash_hex(b"x"));
        assert_ne!(a.hash_hex(b"x"), HashKey::random().unwrap().hash_hex(b"x"));
        assert_eq!(format!("{a:?}"), "HashKey(…)");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["secret.key"], "no temporary file is left");
    }

    #[test]
    fn processes_making_the_key_at_once_agree_on_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let keys: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| HashKey::load_or_create(&path).unwrap().hash_hex(b"x")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.iter().all(|k| *k == keys[0]), "{keys:?}");
    }
}
