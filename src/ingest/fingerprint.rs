//! What a file is, by its content: a hash of its first bytes (the head), and for whole
//! documents a hash of all of it.
//!
//! Paths, devices and inodes change under a file (renames, rotation, a network share
//! remounted) and are reused by other files, so they are hints only. A file shorter than
//! [`HEAD_BYTES`] is known by the head it had; as it grows, its head is taken again over more
//! bytes (the earlier head must be a prefix of the new one).

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;

use sha2::{Digest, Sha256};

/// How many bytes of a file make its head.
pub const HEAD_BYTES: usize = 4096;

/// A hash of a file's first `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Head {
    pub len: u32,
    pub hash: [u8; 16],
}

/// A hash of a whole file's content.
pub type ContentHash = [u8; 16];

fn digest16(h: Sha256) -> [u8; 16] {
    let d = h.finalize();
    let mut out = [0u8; 16];
    out.copy_from_slice(&d[..16]);
    out
}

/// The hash of `bytes` as a head.
pub fn head_of_bytes(bytes: &[u8]) -> Head {
    let mut h = Sha256::new();
    h.update(b"motesvakt-head");
    h.update(bytes);
    Head {
        len: bytes.len() as u32,
        hash: digest16(h),
    }
}

/// Reads up to `len` bytes from the start of `file` (without moving its cursor).
pub fn read_prefix(file: &File, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let mut got = 0;
    while got < len {
        match file.read_at(&mut buf[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// The head of `file` as it is now: its first [`HEAD_BYTES`] bytes, or all of it when shorter.
pub fn head(file: &File) -> io::Result<Head> {
    Ok(head_of_bytes(&read_prefix(file, HEAD_BYTES)?))
}

/// Whether `file` starts with the bytes `head` was taken over.
pub fn starts_with(file: &File, head: &Head) -> io::Result<bool> {
    let prefix = read_prefix(file, head.len as usize)?;
    Ok(prefix.len() == head.len as usize && head_of_bytes(&prefix) == *head)
}

/// The hash of everything `reader` gives.
pub fn content_hash(reader: &mut dyn Read) -> io::Result<ContentHash> {
    let mut h = Sha256::new();
    h.update(b"motesvakt-content");
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(digest16(h))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_head_taken_early_is_a_prefix_of_the_later_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.ndjson");
        let mut f = File::create(&p).unwrap();
        f.write_all(b"line one\n").unwrap();
        let r = File::open(&p).unwrap();
        let early = head(&r).unwrap();
        assert_eq!(early.len, 9);
        f.write_all(&vec![b'x'; 2 * HEAD_BYTES]).unwrap();
        let late = head(&r).unwrap();
        assert_eq!(late.len as usize, HEAD_BYTES);
        assert_ne!(early, late);
        assert!(starts_with(&r, &early).unwrap());
        assert!(starts_with(&r, &late).unwrap());
        let other = dir.path().join("b.ndjson");
        std::fs::write(&other, b"line two\n").unwrap();
        assert!(!starts_with(&File::open(&other).unwrap(), &early).unwrap());
        // Shorter than the head: not a match.
        std::fs::write(&other, b"line").unwrap();
        assert!(!starts_with(&File::open(&other).unwrap(), &early).unwrap());
    }

    #[test]
    fn content_hash_is_of_the_bytes_only() {
        let a = content_hash(&mut &b"abc"[..]).unwrap();
        assert_eq!(a, content_hash(&mut &b"abc"[..]).unwrap());
        assert_ne!(a, content_hash(&mut &b"abd"[..]).unwrap());
    }
}
