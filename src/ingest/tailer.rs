//! Following the files of watched folders: which file is which (by content), how far each has
//! been read, and when a file's bytes are ready to read.
//!
//! The [`Tailer`] holds one [`Tracked`] per file it follows, each with the [`FileRow`] the
//! store keeps for it. It never writes the store itself: the service saves the rows it marks
//! dirty in the same transaction as the records read from those bytes, so a crash loses or
//! repeats nothing. Decisions worth logging are handed out as [`FileEvent`]s.
//!
//! - Appended files (NDJSON, `.log`) are read line by line from the saved offset, whole lines
//!   only; a last line without its end waits until it gets one, or until the file has been
//!   unchanged for the quiescence time. A line over the limit is reported and skipped, and does
//!   not stall the file.
//! - Whole documents (JSON documents, CSV, `.gz`) are read once they have been unchanged for the
//!   quiescence time, and remembered by the hash of their content: the same export dropped
//!   again under any name is not read again.
//! - A file is known by a hash of its head (first 4 KiB), not by its name or inode: a renamed or
//!   rotated file whose content is known is read on from where it was, and a copy of a file
//!   being read is not read again.
//! - An open file that is renamed away or deleted is read to its end before it is let go. A
//!   file that shrinks below the saved offset (truncated) is read again from the start; one
//!   whose first bytes changed (rewritten) is read as a new file.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::fs::{File, Metadata};
use std::io::{self, BufRead};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use super::fingerprint::{self, ContentHash, Head};
use super::{Cut, SNIFF_BYTES};
use crate::sources::{Adapter, Flow, Format, Record};
use crate::store::{FileKind, FileRow};

/// Shows a path to people, with what must not be shown (identity numbers) hidden.
pub type Redact = dyn Fn(&Path) -> String + Send + Sync;

/// The read settings the tailer needs.
#[derive(Debug, Clone, Copy)]
pub struct TailSettings {
    pub quiescence: Duration,
    pub max_line_bytes: u64,
}

/// A file a watch wants, as found in its folder.
#[derive(Debug)]
pub struct Found {
    pub path: PathBuf,
    pub meta: Metadata,
    /// The format the watch forces, if it does.
    pub format: Option<Format>,
}

/// A file decision, for the log. Paths are as shown to people (redacted).
#[derive(Debug, Clone, PartialEq)]
pub enum FileEvent {
    New {
        path: String,
        format: Format,
        kind: FileKind,
    },
    Resumed {
        path: String,
        offset: u64,
        line: u64,
    },
    Empty {
        path: String,
    },
    /// A whole document: read once unchanged for the quiescence time.
    Waiting {
        path: String,
    },
    /// The same content as a file already read or being read.
    Identical {
        path: String,
        of: String,
    },
    UnknownFormat {
        path: String,
        /// What the file is, when it is recognised but not read ("a zip archive").
        what: Option<&'static str>,
    },
    Truncated {
        path: String,
        from: u64,
        to: u64,
    },
    /// The file's first bytes changed: new content under the same name.
    Replaced {
        path: String,
    },
    Renamed {
        from: String,
        to: String,
    },
    /// Renamed away or deleted, read to its end and let go.
    Gone {
        path: String,
        offset: u64,
    },
    LineTooLong {
        path: String,
        line: u64,
        limit: u64,
    },
    /// A document read to its end.
    DocumentRead {
        path: String,
        records: u64,
    },
    /// A document that was read has changed since: read again.
    Changed {
        path: String,
    },
    Unreadable {
        path: String,
        reason: String,
    },
}

impl fmt::Display for FileEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileEvent::New { path, format, kind } => {
                write!(f, "{path}: new file, {} ({})", format.name(), kind.as_str())
            }
            FileEvent::Resumed { path, offset, line } => {
                write!(f, "{path}: resumed at offset {offset} (line {line})")
            }
            FileEvent::Empty { path } => {
                write!(f, "{path}: empty; looked at again once it has bytes")
            }
            FileEvent::Waiting { path } => write!(
                f,
                "{path}: a whole document, or a first line not ended yet; read once it has stopped changing"
            ),
            FileEvent::Identical { path, of } => {
                write!(f, "{path}: identical content to {of}; skipped")
            }
            FileEvent::UnknownFormat {
                path,
                what: Some(what),
            } => write!(f, "{path}: {what}, which motesvakt does not read; skipped"),
            FileEvent::UnknownFormat { path, what: None } => write!(
                f,
                "{path}: not a format motesvakt recognises; skipped (set `format` in its [[watch]])"
            ),
            FileEvent::Truncated { path, from, to } => write!(
                f,
                "{path}: truncated from {from} to {to} bytes; read again from the start"
            ),
            FileEvent::Replaced { path } => write!(
                f,
                "{path}: its first bytes changed; read as a new file from the start"
            ),
            FileEvent::Renamed { from, to } => write!(f, "{from}: renamed to {to}"),
            FileEvent::Gone { path, offset } => write!(
                f,
                "{path}: renamed away or deleted; read to its end ({offset} bytes) and let go"
            ),
            FileEvent::LineTooLong { path, line, limit } => write!(
                f,
                "{path}:{line}: line longer than max_line_bytes ({limit}); skipped"
            ),
            FileEvent::DocumentRead { path, records } => {
                write!(f, "{path}: read to its end ({records} records)")
            }
            FileEvent::Changed { path } => write!(
                f,
                "{path}: changed after it was read; read again (records already read count once)"
            ),
            FileEvent::Unreadable { path, reason } => write!(f, "{path}: cannot read: {reason}"),
        }
    }
}

/// A file the tailer knows.
pub struct Tracked {
    pub row: FileRow,
    /// Where it is now (not redacted; in memory only). Empty until found.
    pub path: PathBuf,
    /// The format its watch forces.
    forced: Option<Format>,
    file: Option<File>,
    /// Size and modification time when last looked at, and since when they have been so.
    seen: Option<Seen>,
    /// Found at the last full look (or since).
    present: bool,
    /// Changed since last saved.
    pub dirty: bool,
    /// Bytes after the last line end wait for the line to end (or the file to stop changing).
    partial: bool,
    /// Which tracked file this is, in this process.
    serial: u64,
}

impl Tracked {
    /// Whether the file is open (being followed).
    pub fn is_open(&self) -> bool {
        self.file.is_some()
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Seen {
    size: u64,
    mtime: Option<SystemTime>,
    since: Instant,
}

impl Seen {
    fn update(old: Option<Seen>, size: u64, mtime: Option<SystemTime>, now: Instant) -> Seen {
        match old {
            Some(s) if s.size == size && s.mtime == mtime => s,
            _ => Seen {
                size,
                mtime,
                since: now,
            },
        }
    }

    /// Unchanged for `quiescence`: seen so for that long, or last modified that long ago.
    fn stable(&self, now: Instant, quiescence: Duration) -> bool {
        if now.duration_since(self.since) >= quiescence {
            return true;
        }
        let old = self
            .mtime
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .is_some_and(|age| age >= quiescence);
        // Modified long ago, and not changed since it was first seen.
        old && now > self.since
    }
}

/// A file found that is not followed yet (empty, not yet recognisable, a document not yet
/// stable).
struct Candidate {
    seen: Seen,
}

/// What a read of an appended file did.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct LinesRead {
    pub records: u64,
    /// Bytes taken.
    pub bytes: u64,
    /// More is ready to read now.
    pub more: bool,
}

type Inode = (u64, u64);

fn inode(meta: &Metadata) -> Inode {
    (meta.dev(), meta.ino())
}

fn now_us() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Follows the files of the watched folders.
pub struct Tailer {
    pub files: Vec<Tracked>,
    candidates: HashMap<Inode, Candidate>,
    /// Files whose content is another's (a copy, a known document), skipped while their size
    /// and modification time stay the same, with the serial of the tracked file they copy.
    known: HashMap<Inode, (u64, Option<SystemTime>, u64)>,
    next_serial: u64,
    /// Files said to be of no known format, with their size then.
    unknown: HashMap<Inode, u64>,
    redact: Box<Redact>,
    settings: TailSettings,
    /// Bytes read per call for an appended file.
    budget: usize,
}

impl Tailer {
    /// A tailer that knows the files in `rows` (from the store) and has none open: the first
    /// look finds them again by content.
    pub fn new(rows: Vec<FileRow>, settings: TailSettings, redact: Box<Redact>) -> Tailer {
        let files: Vec<Tracked> = rows
            .into_iter()
            .enumerate()
            .map(|(serial, row)| Tracked {
                path: PathBuf::new(),
                forced: None,
                file: None,
                seen: None,
                present: false,
                dirty: false,
                partial: false,
                serial: serial as u64,
                row,
            })
            .collect();
        Tailer {
            next_serial: files.len() as u64,
            files,
            candidates: HashMap::new(),
            known: HashMap::new(),
            unknown: HashMap::new(),
            redact,
            settings,
            budget: (4 * 1024 * 1024).max(2 * settings.max_line_bytes as usize + 2),
        }
    }

    /// New settings (after a reload).
    pub fn set_settings(&mut self, settings: TailSettings) {
        self.settings = settings;
        self.budget = (4 * 1024 * 1024).max(2 * settings.max_line_bytes as usize + 2);
    }

    /// Sets the bytes read per call for an appended file (for tests; at least twice the
    /// longest line).
    pub fn set_budget(&mut self, bytes: usize) {
        self.budget = bytes.max(2 * self.settings.max_line_bytes as usize + 2);
    }

    fn show(&self, path: &Path) -> String {
        (self.redact)(path)
    }

    /// Looks at everything the watches want (`found`, in a stable order): finds new files and
    /// files renamed, rotated, copied or gone.
    pub fn look(&mut self, found: Vec<Found>, events: &mut dyn FnMut(FileEvent)) {
        for t in &mut self.files {
            t.present = false;
        }
        let inodes = self.look_at(found, events);
        let wall = now_us();
        for t in &mut self.files {
            // Not found and not open: gone (an open one is read to its end first).
            if !t.present && t.file.is_none() && t.row.gone_at.is_none() {
                t.row.gone_at = Some(wall);
                t.dirty = true;
            }
        }
        self.candidates.retain(|k, _| inodes.contains(k));
        self.known.retain(|k, _| inodes.contains(k));
        self.unknown.retain(|k, _| inodes.contains(k));
    }

    /// Looks at some files only (those a notification named), without concluding that others
    /// are gone. Returns the inodes seen.
    pub fn look_at(
        &mut self,
        found: Vec<Found>,
        events: &mut dyn FnMut(FileEvent),
    ) -> HashSet<Inode> {
        let now = Instant::now();
        let mut inodes = HashSet::new();
        // Files open at their inode first, then files known at their inode, so that of a file
        // and its copy, the file is the one followed whatever the order of names.
        let mut rest = Vec::new();
        for f in found {
            let ino = inode(&f.meta);
            if !inodes.insert(ino) {
                continue; // a hard link, or two watches over one folder
            }
            match self.open_at(ino) {
                Some(i) => self.found_open(i, &f.path, f.format),
                None => rest.push(f),
            }
        }
        // Then the largest first: of several files with one head, the largest holds the rest
        // of what was read (the others are copies of a part of it).
        rest.sort_by_key(|f| {
            let ino = inode(&f.meta);
            let known = self.files.iter().any(|t| (t.row.dev, t.row.ino) == ino);
            (!known, std::cmp::Reverse(f.meta.len()))
        });
        for f in rest {
            self.consider(f, now, events);
        }
        inodes
    }

    fn open_at(&self, ino: Inode) -> Option<usize> {
        self.files
            .iter()
            .position(|t| t.file.is_some() && (t.row.dev, t.row.ino) == ino)
    }

    fn found_open(&mut self, i: usize, path: &Path, forced: Option<Format>) {
        let shown = self.show(path);
        let t = &mut self.files[i];
        t.present = true;
        t.forced = forced;
        if t.path != path {
            t.path = path.to_path_buf();
        }
        if t.row.path != shown {
            t.row.path = shown;
            t.dirty = true;
        }
    }

    fn push(&mut self, mut t: Tracked) {
        t.serial = self.next_serial;
        self.next_serial += 1;
        self.files.push(t);
    }

    /// An appended file known by its head: the same head, or (for a file that was shorter
    /// then) a head that is a prefix of this file. Prefers the row of the same inode.
    fn match_lines(&self, file: &File, head: &Head, ino: Inode) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, t) in self.files.iter().enumerate() {
            if t.row.kind != FileKind::Lines {
                continue;
            }
            // The same head; or the known head a prefix of this file (it was shorter then); or,
            // for a file open now, this file a prefix of it (a copy of its first part).
            let same = t.row.head == *head
                || (t.row.head.len < head.len
                    && fingerprint::starts_with(file, &t.row.head).unwrap_or(false))
                || (head.len < t.row.head.len
                    && t.file
                        .as_ref()
                        .is_some_and(|open| fingerprint::starts_with(open, head).unwrap_or(false)));
            if !same {
                continue;
            }
            let at_inode = (t.row.dev, t.row.ino) == ino;
            match best {
                None => best = Some(i),
                Some(b) => {
                    let b_inode = (self.files[b].row.dev, self.files[b].row.ino) == ino;
                    // The same inode first, then the longest head, then the latest.
                    if (at_inode && !b_inode)
                        || (at_inode == b_inode && t.row.head.len > self.files[b].row.head.len)
                        || (at_inode == b_inode
                            && t.row.head.len == self.files[b].row.head.len
                            && t.row.gone_at.is_none()
                            && self.files[b].row.gone_at.is_some())
                    {
                        best = Some(i);
                    }
                }
            }
        }
        best
    }

    /// A file found that is not open: a new file, one known found again (after a restart, a
    /// rotation), a copy, or a document to wait for.
    fn consider(&mut self, f: Found, now: Instant, events: &mut dyn FnMut(FileEvent)) {
        let ino = inode(&f.meta);
        let size = f.meta.len();
        let mtime = f.meta.modified().ok();
        if let Some(&(s, m, _)) = self.known.get(&ino)
            && s == size
            && m == mtime
        {
            return;
        }
        self.known.remove(&ino);
        if self.unknown.get(&ino) == Some(&size) {
            return;
        }
        let first_time = !self.candidates.contains_key(&ino);
        let seen = Seen::update(self.candidates.get(&ino).map(|c| c.seen), size, mtime, now);
        self.candidates.insert(ino, Candidate { seen });
        if size == 0 {
            if first_time {
                events(FileEvent::Empty {
                    path: self.show(&f.path),
                });
            }
            return;
        }
        let unreadable = |me: &mut Tailer, e: io::Error, events: &mut dyn FnMut(FileEvent)| {
            me.candidates.remove(&ino);
            events(FileEvent::Unreadable {
                path: me.show(&f.path),
                reason: e.to_string(),
            });
        };
        let file = match File::open(&f.path) {
            Ok(file) => file,
            Err(e) => return unreadable(self, e, events),
        };
        let head = match fingerprint::head(&file) {
            Ok(h) => h,
            Err(e) => return unreadable(self, e, events),
        };
        let stable = seen.stable(now, self.settings.quiescence);

        // An appended file followed before?
        if let Some(i) = self.match_lines(&file, &head, ino) {
            self.candidates.remove(&ino);
            // Open at another inode that no longer holds this content (rewritten: copied away
            // and truncated): this file is the content's, the open one is new.
            let mut rewritten = None;
            if let Some(open) = &self.files[i].file
                && !fingerprint::starts_with(open, &self.files[i].row.head).unwrap_or(false)
            {
                let t = &self.files[i];
                rewritten = Some((t.path.clone(), t.forced));
                events(FileEvent::Replaced {
                    path: t.row.path.clone(),
                });
                self.let_go(i);
            }
            // Open at another inode, and this one longer: of two files with the same content,
            // the one that grows is followed (the other was a copy).
            let open_size = self.files[i]
                .file
                .as_ref()
                .and_then(|f| f.metadata().ok())
                .map(|m| m.len());
            if let Some(open_size) = open_size
                && size > open_size
                && size >= self.files[i].row.offset
            {
                let shown = self.show(&f.path);
                let t = &mut self.files[i];
                if let Some(old) = t.file.replace(file)
                    && let Ok(m) = old.metadata()
                {
                    self.known
                        .insert(inode(&m), (m.len(), m.modified().ok(), t.serial));
                }
                events(FileEvent::Identical {
                    path: t.row.path.clone(),
                    of: shown.clone(),
                });
                t.path = f.path.clone();
                t.forced = f.format;
                t.present = true;
                t.seen = None;
                t.partial = false;
                t.row.path = shown;
                t.row.dev = ino.0;
                t.row.ino = ino.1;
                t.dirty = true;
                return;
            }
            if self.files[i].file.is_some() || size < self.files[i].row.offset {
                // Open at another inode (a copy of a file being read), or shorter than what was
                // read of it (a copy of a part already read).
                let of = self.files[i].row.path.clone();
                self.known.insert(ino, (size, mtime, self.files[i].serial));
                events(FileEvent::Identical {
                    path: self.show(&f.path),
                    of,
                });
                return;
            }
            let shown = self.show(&f.path);
            let t = &mut self.files[i];
            let moved = !t.path.as_os_str().is_empty() && t.path != f.path;
            let from = std::mem::replace(&mut t.row.path, shown.clone());
            t.file = Some(file);
            t.path = f.path.clone();
            t.forced = f.format;
            t.present = true;
            t.seen = None;
            t.partial = false;
            t.row.dev = ino.0;
            t.row.ino = ino.1;
            t.row.gone_at = None;
            t.dirty = true;
            if moved || from != shown {
                events(FileEvent::Renamed {
                    from,
                    to: shown.clone(),
                });
            }
            events(FileEvent::Resumed {
                path: shown,
                offset: t.row.offset,
                line: t.row.line,
            });
            if let Some((path, format)) = rewritten
                && let Ok(meta) = std::fs::metadata(&path)
            {
                self.consider(Found { path, meta, format }, now, events);
            }
            return;
        }
        // A document known at this inode, unchanged (after a restart), or not read to its end.
        if let Some(i) = self.files.iter().position(|t| {
            t.row.kind == FileKind::Document
                && (t.row.dev, t.row.ino) == ino
                && t.row.head == head
                && t.row.size == size
        }) {
            self.candidates.remove(&ino);
            let shown = self.show(&f.path);
            let t = &mut self.files[i];
            t.path = f.path.clone();
            t.forced = f.format;
            t.present = true;
            if t.row.gone_at.take().is_some() || t.row.path != shown {
                t.row.path = shown;
                t.dirty = true;
            }
            if t.row.done {
                self.known.insert(ino, (size, mtime, t.serial));
            }
            return;
        }

        // New to the tailer: what is it?
        let gz = is_gz(&f.path);
        let (sniffed, cut, first_line_whole, what) = match sniff(&file, gz) {
            Ok(s) => s,
            Err(e) => return unreadable(self, e, events),
        };
        let format = match f.format.or(sniffed) {
            Some(format) => format,
            None => {
                // Perhaps only the start of the first record is there yet.
                if !first_line_whole && !stable {
                    if first_time {
                        events(FileEvent::Waiting {
                            path: self.show(&f.path),
                        });
                    }
                    return;
                }
                self.candidates.remove(&ino);
                self.unknown.insert(ino, size);
                events(FileEvent::UnknownFormat {
                    path: self.show(&f.path),
                    what,
                });
                return;
            }
        };
        let kind = if gz || cut != Cut::Lines {
            FileKind::Document
        } else {
            FileKind::Lines
        };
        if !first_line_whole && !stable {
            // Its first line is not whole yet: what the file is may still change.
            if first_time {
                events(FileEvent::Waiting {
                    path: self.show(&f.path),
                });
            }
            return;
        }
        let shown = self.show(&f.path);
        let mut row = FileRow {
            id: 0,
            kind,
            format,
            head,
            content: None,
            path: shown.clone(),
            dev: ino.0,
            ino: ino.1,
            offset: 0,
            line: 1,
            skipping: false,
            records: 0,
            errors: 0,
            done: false,
            size: 0,
            first_seen: now_us(),
            last_read: None,
            gone_at: None,
        };
        if kind == FileKind::Lines {
            self.candidates.remove(&ino);
            events(FileEvent::New {
                path: shown,
                format,
                kind,
            });
            self.push(Tracked {
                row,
                path: f.path,
                forced: f.format,
                file: Some(file),
                seen: None,
                present: true,
                dirty: true,
                partial: false,
                serial: 0,
            });
            return;
        }
        if !stable {
            if first_time {
                events(FileEvent::Waiting { path: shown });
            }
            return;
        }
        let content: ContentHash = match fingerprint::content_hash(&mut &file) {
            Ok(c) => c,
            Err(e) => return unreadable(self, e, events),
        };
        self.candidates.remove(&ino);
        if let Some(t) = self
            .files
            .iter()
            .find(|t| t.row.kind == FileKind::Document && t.row.content == Some(content))
        {
            self.known.insert(ino, (size, mtime, t.serial));
            events(FileEvent::Identical {
                path: shown,
                of: t.row.path.clone(),
            });
            return;
        }
        // The same inode read before with other content: it changed after it was read.
        let changed = self
            .files
            .iter_mut()
            .find(|t| t.row.kind == FileKind::Document && (t.row.dev, t.row.ino) == ino);
        match changed {
            Some(t) => {
                if t.row.gone_at.is_none() {
                    t.row.gone_at = Some(now_us());
                    t.dirty = true;
                }
                events(FileEvent::Changed {
                    path: shown.clone(),
                });
            }
            None => events(FileEvent::New {
                path: shown.clone(),
                format,
                kind,
            }),
        }
        row.content = Some(content);
        row.size = size;
        self.push(Tracked {
            row,
            path: f.path,
            forced: f.format,
            file: None,
            seen: None,
            present: true,
            dirty: true,
            partial: false,
            serial: 0,
        });
    }

    /// The files that may have something to read now: open appended files and documents
    /// found and not yet read to their end.
    pub fn readable(&self) -> Vec<usize> {
        (0..self.files.len())
            .filter(|&i| {
                let t = &self.files[i];
                match t.row.kind {
                    FileKind::Lines => t.file.is_some(),
                    FileKind::Document => {
                        !t.row.done && t.present && !t.path.as_os_str().is_empty()
                    }
                }
            })
            .collect()
    }

    /// Reads what is ready of the appended file `i`: whole lines after the saved offset, up to
    /// the read budget, handed to `adapter` and from there to `emit` (positions are the
    /// file's). The file's row is advanced. A file renamed away or deleted is let go once read
    /// to its end.
    pub fn read_lines(
        &mut self,
        i: usize,
        adapter: &dyn Adapter,
        emit: &mut dyn FnMut(Record<'_>) -> Flow,
        events: &mut dyn FnMut(FileEvent),
    ) -> LinesRead {
        let now = Instant::now();
        let max_line = self.settings.max_line_bytes;
        let quiescence = self.settings.quiescence;
        let budget = self.budget;
        let mut out = LinesRead::default();
        let Some(file) = self.files[i].file.as_ref() else {
            return out;
        };
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(e) => {
                let path = self.files[i].row.path.clone();
                self.let_go(i);
                events(FileEvent::Unreadable {
                    path,
                    reason: e.to_string(),
                });
                return out;
            }
        };
        let size = meta.len();
        // Rewritten under the same name: its first bytes are not what they were.
        let head_kept = fingerprint::starts_with(file, &self.files[i].row.head).unwrap_or(false);
        let t = &mut self.files[i];
        if size < t.row.offset || !head_kept {
            let path = t.row.path.clone();
            if head_kept {
                events(FileEvent::Truncated {
                    path,
                    from: t.row.offset,
                    to: size,
                });
                t.row.offset = 0;
                t.row.line = 1;
                t.row.skipping = false;
                t.dirty = true;
            } else {
                events(FileEvent::Replaced { path });
                // The old content's row is let go; the file is found again as new (or as a
                // file known by its new head).
                let (path, forced) = (t.path.clone(), t.forced);
                self.let_go(i);
                if let Ok(meta) = std::fs::metadata(&path) {
                    self.look_at(
                        vec![Found {
                            path,
                            meta,
                            format: forced,
                        }],
                        events,
                    );
                }
                return out;
            }
        }
        let t = &mut self.files[i];
        let Some(file) = t.file.as_ref() else {
            return out;
        };
        t.seen = Some(Seen::update(t.seen, size, meta.modified().ok(), now));
        let stable = t.seen.is_some_and(|s| s.stable(now, quiescence));
        // A file that grew past its head's length is known by a longer head.
        if (t.row.head.len as usize) < fingerprint::HEAD_BYTES
            && size > t.row.head.len as u64
            && let Ok(h) = fingerprint::head(file)
        {
            t.row.head = h;
            t.dirty = true;
        }
        if size == t.row.offset {
            if !t.present && stable {
                self.gone(i, events);
            }
            return out;
        }
        let want = (size - t.row.offset).min(budget as u64) as usize;
        let mut buf = vec![0u8; want];
        let got = match read_full_at(file, &mut buf, t.row.offset) {
            Ok(n) => n,
            Err(e) => {
                events(FileEvent::Unreadable {
                    path: t.row.path.clone(),
                    reason: e.to_string(),
                });
                return out;
            }
        };
        buf.truncate(got);
        let at_end = t.row.offset + got as u64 >= size;
        let mut pos = 0usize;
        // The rest of a line too long, skipped.
        if t.row.skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(nl) => {
                    pos = nl + 1;
                    t.row.skipping = false;
                    t.row.line += 1;
                }
                None => {
                    t.row.offset += got as u64;
                    t.dirty = true;
                    out.bytes = got as u64;
                    out.more = !at_end;
                    return out;
                }
            }
        }
        // Whole lines; the last line without its end only when the file has stopped changing.
        let mut end = match memchr::memrchr(b'\n', &buf[pos..]) {
            Some(nl) => pos + nl + 1,
            None => pos,
        };
        if at_end && end < buf.len() && stable {
            end = buf.len();
        }
        t.partial = at_end && end < buf.len();
        if end == pos && buf.len() - pos > max_line as usize {
            // No line end within the limit: the line is too long; skip to its end.
            events(FileEvent::LineTooLong {
                path: t.row.path.clone(),
                line: t.row.line,
                limit: max_line,
            });
            t.row.errors += 1;
            t.row.skipping = true;
            t.row.offset += buf.len() as u64;
            t.dirty = true;
            out.bytes = got as u64;
            out.more = !at_end;
            return out;
        }
        let base = t.row.offset;
        let mut line = t.row.line;
        let mut run_start = pos;
        let mut run_line = line;
        let mut records = 0u64;
        let mut feed = |from: usize, to: usize, first_line: u64| {
            if from >= to {
                return;
            }
            let mut input: &[u8] = &buf[from..to];
            let offset = base + from as u64;
            let mut shifted = |mut r: Record<'_>| {
                r.pos.start += offset;
                r.pos.end += offset;
                r.pos.line += first_line - 1;
                records += 1;
                emit(r)
            };
            // Reading from memory cannot fail.
            let _ = if offset == 0 {
                adapter.read(&mut input, &mut shifted)
            } else {
                adapter.read_lines(&mut input, &mut shifted)
            };
        };
        let mut at = pos;
        let mut too_long = 0u64;
        while at < end {
            let next = memchr::memchr(b'\n', &buf[at..end]).map_or(end, |k| at + k + 1);
            let len = next - at;
            let content = buf[at..next].strip_suffix(b"\n").map_or(len, |c| c.len());
            if content as u64 > max_line {
                feed(run_start, at, run_line);
                events(FileEvent::LineTooLong {
                    path: t.row.path.clone(),
                    line,
                    limit: max_line,
                });
                too_long += 1;
                run_start = next;
                run_line = line + 1;
            }
            line += 1;
            at = next;
        }
        feed(run_start, end, run_line);
        // `line` counted a last line without its end too; the next line is after it.
        t.row.errors += too_long;
        t.row.records += records;
        t.row.offset = base + end as u64;
        t.row.line = line;
        t.row.size = size;
        t.row.last_read = Some(now_us());
        t.dirty = true;
        out.records = records;
        out.bytes = end as u64;
        out.more = t.row.offset < size && end > 0;
        if !out.more && !t.present && t.row.offset == size && stable {
            self.gone(i, events);
        }
        out
    }

    /// Lets go of a file renamed away or deleted and read to its end.
    fn gone(&mut self, i: usize, events: &mut dyn FnMut(FileEvent)) {
        let t = &mut self.files[i];
        events(FileEvent::Gone {
            path: t.row.path.clone(),
            offset: t.row.offset,
        });
        self.let_go(i);
    }

    fn let_go(&mut self, i: usize) {
        let t = &mut self.files[i];
        t.file = None;
        t.present = false;
        t.seen = None;
        t.path = PathBuf::new();
        t.row.gone_at = Some(now_us());
        t.dirty = true;
        t.partial = false;
        // Copies of it skipped while it was open may now be the file to follow.
        let serial = t.serial;
        self.known.retain(|_, v| v.2 != serial);
    }

    /// Opens document `i` for reading: its content (decompressed for `.gz`). `None` when it
    /// cannot be read now (the failure is reported).
    pub fn open_document(
        &mut self,
        i: usize,
        events: &mut dyn FnMut(FileEvent),
    ) -> Option<Box<dyn BufRead + Send>> {
        let t = &self.files[i];
        let opened = File::open(&t.path).and_then(super::content_reader);
        match opened {
            Ok((reader, _)) => Some(reader),
            Err(e) => {
                let path = t.row.path.clone();
                events(FileEvent::Unreadable {
                    path,
                    reason: e.to_string(),
                });
                self.files[i].present = false;
                None
            }
        }
    }

    /// Takes back a document's row after the service read it (to its end when `done`).
    pub fn end_document(&mut self, i: usize, row: FileRow, events: &mut dyn FnMut(FileEvent)) {
        let t = &mut self.files[i];
        let finished = row.done && !t.row.done;
        t.row = row;
        t.dirty = true;
        if finished {
            events(FileEvent::DocumentRead {
                path: t.row.path.clone(),
                records: t.row.records,
            });
            if let Ok(meta) = std::fs::metadata(&t.path)
                && inode(&meta) == (t.row.dev, t.row.ino)
            {
                self.known
                    .insert(inode(&meta), (meta.len(), meta.modified().ok(), t.serial));
            }
        }
    }

    /// After the rows were saved: their ids, and nothing dirty.
    pub fn saved(&mut self, i: usize, id: i64) {
        let t = &mut self.files[i];
        t.row.id = id;
        t.dirty = false;
    }

    /// The earliest time a file may become ready without anything changing: a document or a
    /// last line waiting for the quiescence time.
    pub fn next_ready(&self) -> Option<Instant> {
        let q = self.settings.quiescence;
        let now = Instant::now();
        let waiting = self
            .candidates
            .values()
            .filter(|c| c.seen.size > 0)
            .map(|c| c.seen.since + q);
        let tails = self
            .files
            .iter()
            .filter(|t| t.partial || (t.file.is_some() && !t.present))
            .filter_map(|t| t.seen)
            .map(|s| s.since + q);
        waiting.chain(tails).filter(|&t| t > now).min()
    }

    /// Forgets rows of files gone (the store prunes them too).
    pub fn forget_gone_before(&mut self, before: i64) {
        self.files.retain(|t| {
            t.file.is_some() || t.row.id == 0 || t.row.gone_at.is_none_or(|g| g >= before)
        });
    }
}

/// Reads `buf.len()` bytes at `offset`, or fewer at the end of the file.
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], offset + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// What a file's first bytes say: its format (if known), how it can be cut, whether its
/// first line is whole (so that what it is will not change as it grows), and, for a file no
/// adapter reads, what it is when that is known (a zip archive, a workbook, a PDF).
type Sniffed = (Option<Format>, Cut, bool, Option<&'static str>);

fn sniff(file: &File, gz: bool) -> io::Result<Sniffed> {
    let head = if gz {
        use std::io::Read;
        let mut out = Vec::new();
        let reader = flate2::read::MultiGzDecoder::new(io::BufReader::new(file));
        // A gzip stream cut short (still being written) reads as an error: then nothing yet.
        match reader.take(SNIFF_BYTES as u64).read_to_end(&mut out) {
            Ok(_) => {}
            Err(_) if !out.is_empty() => {}
            Err(_) => return Ok((None, Cut::No, false, None)),
        }
        out
    } else {
        fingerprint::read_prefix(file, SNIFF_BYTES)?
    };
    // UTF-16 (Excel's "Unicode text"): recognised by its decoded start, read as a document.
    let (head, utf16) = match super::utf16::decode_head(&head) {
        Some(decoded) => (decoded, true),
        None => (head, false),
    };
    // Webhook bodies saved with their HTTP requests: recognised by the bodies, read whole.
    let (head, utf16) = if super::http::starts_with_request(&head) {
        (super::http::blank_heads(&head), true)
    } else {
        (head, utf16)
    };
    let whole = memchr::memchr(b'\n', &head).is_some() || head.len() >= SNIFF_BYTES;
    let format = Format::sniff(&head);
    let cut = match format {
        Some(f) if !utf16 => super::cut_of(f, &head),
        _ => Cut::No,
    };
    let what = format
        .is_none()
        .then(|| super::unsupported(&head).map(|(what, _)| what))
        .flatten();
    Ok((format, cut, whole, what))
}

#[cfg(test)]
mod tests;
