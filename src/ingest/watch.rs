//! Finding the files of the watched folders, and hearing when they change.
//!
//! The periodic full look ([`walk`]) is the truth. File-system notifications (inotify, through
//! the `notify` crate) only make the next look come sooner: a notification names paths to look
//! at now, and one that says events were lost asks for a full look. Folders on network and
//! FUSE file systems are polled only, because inotify hears nothing of changes made on another
//! machine.

use std::collections::HashSet;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::tailer::Found;
use crate::config::{Watch, WatchMode};

/// Every file the watches want, in a stable order (watch by watch, names sorted byte-wise at
/// each level). Hidden folders are not entered. Problems (a folder that cannot be read) go to
/// `problem` and the walk goes on.
pub fn walk(watches: &[Watch], problem: &mut dyn FnMut(&Path, io::Error)) -> Vec<Found> {
    let mut out = Vec::new();
    let mut dirs = HashSet::new();
    for w in watches {
        walk_one(w, &w.path, &mut out, &mut dirs, problem);
    }
    out
}

fn walk_one(
    w: &Watch,
    path: &Path,
    out: &mut Vec<Found>,
    dirs: &mut HashSet<(u64, u64)>,
    problem: &mut dyn FnMut(&Path, io::Error),
) {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) => {
            problem(path, e);
            return;
        }
    };
    if meta.is_file() {
        if w.wants(path) {
            out.push(Found {
                path: path.to_path_buf(),
                meta,
                format: w.format,
            });
        }
        return;
    }
    if !meta.is_dir() {
        if w.wants(path) {
            problem(
                path,
                io::Error::other("not a file or folder (a pipe, socket or device is not read)"),
            );
        }
        return;
    }
    if !dirs.insert((meta.dev(), meta.ino())) {
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(rd) => rd,
        Err(e) => {
            problem(path, e);
            return;
        }
    };
    let mut children: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))
        .map(|e| e.path())
        .collect();
    children.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    for child in children {
        walk_one(w, &child, out, dirs, problem);
    }
}

/// The files among `paths` (named by notifications) that a watch wants, as they are now.
pub fn stat_paths(watches: &[Watch], paths: &[PathBuf]) -> Vec<Found> {
    let mut out = Vec::new();
    for p in paths {
        let Some(w) = watches.iter().find(|w| p.starts_with(&w.path)) else {
            continue;
        };
        if !w.wants(p) {
            continue;
        }
        if let Ok(meta) = std::fs::metadata(p)
            && meta.is_file()
        {
            out.push(Found {
                path: p.clone(),
                meta,
                format: w.format,
            });
        }
    }
    out
}

/// The file system type of the mount `path` is on (`ext4`, `nfs4`, `cifs`, `fuse.sshfs`...),
/// from `/proc/self/mountinfo`.
pub fn fs_type(path: &Path) -> Option<String> {
    let path = std::fs::canonicalize(path).ok()?;
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<(usize, String)> = None;
    for line in info.lines() {
        // id parent major:minor root mount-point options... - type source super-options
        let mut fields = line.split(' ');
        let mount = fields.nth(4).map(unescape)?;
        let Some(sep) = line.find(" - ") else {
            continue;
        };
        let Some(kind) = line[sep + 3..].split(' ').next() else {
            continue;
        };
        if path.starts_with(&mount) {
            let len = mount.as_os_str().len();
            if best.as_ref().is_none_or(|(l, _)| len >= *l) {
                best = Some((len, kind.to_string()));
            }
        }
    }
    best.map(|(_, k)| k)
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(field: &str) -> PathBuf {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    PathBuf::from(std::ffi::OsString::from(
        String::from_utf8_lossy(&out).into_owned(),
    ))
}

/// Whether a file system of this type must be polled: inotify hears nothing of what other
/// machines write there.
pub fn is_remote(fs_type: &str) -> bool {
    matches!(
        fs_type,
        "nfs" | "nfs4" | "cifs" | "smb3" | "smbfs" | "9p" | "afs" | "ceph" | "glusterfs" | "davfs"
    ) || fs_type.starts_with("fuse")
}

/// How a watch is followed, once decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Followed {
    Inotify,
    /// Polled, and why (the mode, or the file system type).
    Poll,
}

/// Decides how to follow `w`: `auto` polls on network and FUSE file systems.
pub fn decide(w: &Watch) -> (Followed, Option<String>) {
    let kind = fs_type(&w.path);
    let followed = match w.mode {
        WatchMode::Poll => Followed::Poll,
        WatchMode::Inotify => Followed::Inotify,
        WatchMode::Auto => match &kind {
            Some(k) if is_remote(k) => Followed::Poll,
            _ => Followed::Inotify,
        },
    };
    (followed, kind)
}

/// What a notification asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Look at these paths now.
    Paths(Vec<PathBuf>),
    /// Events were lost (the kernel queue overflowed, or the watcher failed): look at
    /// everything now.
    Rescan,
}

/// The notifications of the watches followed with inotify. Dropping it stops them.
pub struct Notifications {
    _watcher: Option<notify::RecommendedWatcher>,
}

/// How one watch is followed: inotify or polling, its file system type, and why inotify could
/// not be used when it was wanted.
pub type Decided = (Followed, Option<String>, Option<String>);

/// Starts notifications for the watches followed with inotify; `heard` is called on the
/// watcher's own thread. Returns, per watch, how it is followed (a watch whose folder cannot
/// be watched is polled, and the error is returned with it).
pub fn notifications(
    watches: &[Watch],
    heard: impl Fn(Heard) + Send + 'static,
) -> (Notifications, Vec<Decided>) {
    use notify::Watcher as _;
    let mut decided: Vec<Decided> = watches
        .iter()
        .map(|w| {
            let (f, k) = decide(w);
            (f, k, None)
        })
        .collect();
    if !decided.iter().any(|d| d.0 == Followed::Inotify) {
        return (Notifications { _watcher: None }, decided);
    }
    let handler = move |res: notify::Result<notify::Event>| match res {
        Ok(event) if event.need_rescan() => heard(Heard::Rescan),
        Ok(event) => {
            use notify::EventKind;
            // Reading a file (opening, closing unwritten, access) is not a change.
            let change = !matches!(
                event.kind,
                EventKind::Access(notify::event::AccessKind::Open(_))
                    | EventKind::Access(notify::event::AccessKind::Read)
                    | EventKind::Access(notify::event::AccessKind::Close(
                        notify::event::AccessMode::Read
                    ))
            );
            if change && !event.paths.is_empty() {
                heard(Heard::Paths(event.paths));
            }
        }
        Err(_) => heard(Heard::Rescan),
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            for d in &mut decided {
                if d.0 == Followed::Inotify {
                    d.0 = Followed::Poll;
                    d.2 = Some(e.to_string());
                }
            }
            return (Notifications { _watcher: None }, decided);
        }
    };
    for (w, d) in watches.iter().zip(decided.iter_mut()) {
        if d.0 != Followed::Inotify {
            continue;
        }
        if let Err(e) = watcher.watch(&w.path, notify::RecursiveMode::Recursive) {
            d.0 = Followed::Poll;
            d.2 = Some(match &e.kind {
                notify::ErrorKind::MaxFilesWatch => format!(
                    "{e} (raise fs.inotify.max_user_watches; now {})",
                    inotify_limit().unwrap_or_default()
                ),
                _ => e.to_string(),
            });
        }
    }
    (
        Notifications {
            _watcher: Some(watcher),
        },
        decided,
    )
}

/// `fs.inotify.max_user_watches`, for the log.
pub fn inotify_limit() -> Option<String> {
    std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches")
        .ok()
        .map(|s| s.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_and_remote_types() {
        assert_eq!(unescape("/mnt/a\\040b"), PathBuf::from("/mnt/a b"));
        assert_eq!(unescape("/plain"), PathBuf::from("/plain"));
        assert_eq!(unescape("/odd\\04"), PathBuf::from("/odd\\04"));
        for t in ["nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "fuse"] {
            assert!(is_remote(t), "{t}");
        }
        for t in ["ext4", "xfs", "tmpfs", "overlay", "btrfs"] {
            assert!(!is_remote(t), "{t}");
        }
        // The root is on some file system.
        assert!(fs_type(Path::new("/")).is_some());
    }
}
