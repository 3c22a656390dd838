//! The files the service follows: what each is (by content), how far it has been read, and
//! what reading it gave. Written in the same transaction as the meeting state those bytes
//! produced, so a crash at any moment neither loses nor repeats a record.

use rusqlite::{OptionalExtension, Row, params};

use super::{StoreError, Tx};
use crate::ingest::fingerprint::{ContentHash, Head};
use crate::sources::Format;

/// How a file is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// Appended to: followed line by line from a byte offset.
    Lines,
    /// Dropped whole (a JSON document, a CSV, a `.gz`): read once complete, known by the hash
    /// of its content.
    Document,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Lines => "lines",
            FileKind::Document => "document",
        }
    }

    fn from_str(s: &str) -> Option<FileKind> {
        match s {
            "lines" => Some(FileKind::Lines),
            "document" => Some(FileKind::Document),
            _ => None,
        }
    }
}

/// One followed file as the store keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct FileRow {
    /// 0 until inserted.
    pub id: i64,
    pub kind: FileKind,
    pub format: Format,
    pub head: Head,
    /// Documents: the hash of their whole content.
    pub content: Option<ContentHash>,
    /// Where it was last seen, for people (identity numbers in the name are redacted).
    pub path: String,
    pub dev: u64,
    pub ino: u64,
    /// Bytes taken: whole records (for documents, the end of the last record stored).
    pub offset: u64,
    /// The line number at `offset`, from 1.
    pub line: u64,
    /// Inside a line longer than the limit: skip to its end.
    pub skipping: bool,
    pub records: u64,
    /// Records rejected and lines skipped.
    pub errors: u64,
    /// Documents: read to the end.
    pub done: bool,
    /// The size when last read.
    pub size: u64,
    /// Unix µs.
    pub first_seen: i64,
    pub last_read: Option<i64>,
    /// When it was last found missing (Unix µs); `None` while it is there.
    pub gone_at: Option<i64>,
}

const COLUMNS: &str = "id, kind, format, head_len, head_hash, content, path, dev, ino, offset, line, \
     skipping, records, errors, done, size, first_seen, last_read, gone_at";

fn row_to_file(r: &Row<'_>) -> rusqlite::Result<Option<FileRow>> {
    let kind: String = r.get(1)?;
    let format: String = r.get(2)?;
    let head_hash: Vec<u8> = r.get(4)?;
    let content: Option<Vec<u8>> = r.get(5)?;
    let (Some(kind), Some(format), Ok(hash)) = (
        FileKind::from_str(&kind),
        Format::from_name(&format),
        <[u8; 16]>::try_from(head_hash.as_slice()),
    ) else {
        return Ok(None);
    };
    let content = match content {
        None => None,
        Some(c) => match <[u8; 16]>::try_from(c.as_slice()) {
            Ok(c) => Some(c),
            Err(_) => return Ok(None),
        },
    };
    Ok(Some(FileRow {
        id: r.get(0)?,
        kind,
        format,
        head: Head {
            len: r.get::<_, i64>(3)? as u32,
            hash,
        },
        content,
        path: r.get(6)?,
        dev: r.get::<_, i64>(7)? as u64,
        ino: r.get::<_, i64>(8)? as u64,
        offset: r.get::<_, i64>(9)? as u64,
        line: r.get::<_, i64>(10)? as u64,
        skipping: r.get(11)?,
        records: r.get::<_, i64>(12)? as u64,
        errors: r.get::<_, i64>(13)? as u64,
        done: r.get(14)?,
        size: r.get::<_, i64>(15)? as u64,
        first_seen: r.get(16)?,
        last_read: r.get(17)?,
        gone_at: r.get(18)?,
    }))
}

impl Tx<'_> {
    /// Every followed file, in the order they were first seen.
    pub fn files(&self) -> Result<Vec<FileRow>, StoreError> {
        let mut st = self
            .tx
            .prepare(&format!("SELECT {COLUMNS} FROM files ORDER BY id"))
            .map_err(self.sql())?;
        let rows = st.query_map([], row_to_file).map_err(self.sql())?;
        let mut out = Vec::new();
        for row in rows {
            match row.map_err(self.sql())? {
                Some(f) => out.push(f),
                None => return Err(self.corrupt("a file row with an unknown kind or format")),
            }
        }
        Ok(out)
    }

    /// The document whose content has this hash, if one was seen.
    pub fn file_by_content(&self, content: &ContentHash) -> Result<Option<FileRow>, StoreError> {
        let row = self
            .tx
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM files WHERE content = ?1 ORDER BY id LIMIT 1"
            ))
            .and_then(|mut st| st.query_row([&content[..]], row_to_file).optional())
            .map_err(self.sql())?;
        match row {
            Some(Some(f)) => Ok(Some(f)),
            Some(None) => Err(self.corrupt("a file row with an unknown kind or format")),
            None => Ok(None),
        }
    }

    /// Inserts (when `id` is 0) or updates a file row; returns its id.
    pub fn save_file(&self, f: &FileRow) -> Result<i64, StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO files (kind, format, head_len, head_hash, content, path, dev, ino,
                     offset, line, skipping, records, errors, done, size, first_seen,
                     last_read, gone_at, id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15,
                     ?16, ?17, ?18, NULLIF(?19, 0))
                 ON CONFLICT (id) DO UPDATE SET kind = excluded.kind,
                     format = excluded.format, head_len = excluded.head_len,
                     head_hash = excluded.head_hash, content = excluded.content,
                     path = excluded.path, dev = excluded.dev, ino = excluded.ino,
                     offset = excluded.offset, line = excluded.line,
                     skipping = excluded.skipping, records = excluded.records,
                     errors = excluded.errors, done = excluded.done, size = excluded.size,
                     first_seen = excluded.first_seen, last_read = excluded.last_read,
                     gone_at = excluded.gone_at",
            )
            .and_then(|mut st| {
                st.execute(params![
                    f.kind.as_str(),
                    f.format.name(),
                    f.head.len as i64,
                    &f.head.hash[..],
                    f.content.as_ref().map(|c| c.to_vec()),
                    f.path,
                    f.dev as i64,
                    f.ino as i64,
                    f.offset as i64,
                    f.line as i64,
                    f.skipping,
                    f.records as i64,
                    f.errors as i64,
                    f.done,
                    f.size as i64,
                    f.first_seen,
                    f.last_read,
                    f.gone_at,
                    f.id,
                ])
            })
            .map_err(self.sql())?;
        Ok(if f.id == 0 {
            self.tx.last_insert_rowid()
        } else {
            f.id
        })
    }

    /// Forgets files gone since before `before` (Unix µs). Returns how many.
    pub fn prune_files(&self, before: i64) -> Result<u64, StoreError> {
        let n = self
            .tx
            .execute(
                "DELETE FROM files WHERE gone_at IS NOT NULL AND gone_at < ?1",
                [before],
            )
            .map_err(self.sql())?;
        Ok(n as u64)
    }

    /// A value kept in `meta` (the service's last batch, its last pruning).
    pub fn meta_value(&self, key: &str) -> Result<Option<i64>, StoreError> {
        self.tx
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .and_then(|mut st| st.query_row([key], |r| r.get(0)).optional())
            .map_err(self.sql())
    }

    pub fn set_meta_value(&self, key: &str, value: i64) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut st| st.execute(params![key, value]))
            .map_err(self.sql())?;
        Ok(())
    }
}
