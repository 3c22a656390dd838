//! Finding input files and reading them through the right adapter.
//!
//! Folders are walked recursively in a stable order (names sorted byte-wise at each level), so
//! a batch over the same tree always reads files in the same order. Hidden files and folders
//! (names starting with `.`) are skipped. Each file's format is decided from its content
//! ([`Format::sniff`]) unless the caller forces one. Files are read through a buffered reader,
//! one record at a time: memory does not grow with file size.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::sources::{Flow, Format, Record, SourceSettings};

/// How much of a file is read to decide its format.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A problem with one path; the walk or scan goes on with the next.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: skipped: not a format motesvakt recognises (use --format to name it)")]
    UnknownFormat { path: PathBuf },
}

/// Lists the files under `paths` (files as given, folders recursively), in a stable order.
/// Problems (an unreadable folder) are passed to `problem` and the walk goes on.
pub fn discover(paths: &[PathBuf], problem: &mut dyn FnMut(IngestError)) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen_dirs = HashSet::new();
    for path in paths {
        walk(path, &mut out, &mut seen_dirs, problem);
    }
    out
}

fn walk(
    path: &Path,
    out: &mut Vec<PathBuf>,
    seen_dirs: &mut HashSet<(u64, u64)>,
    problem: &mut dyn FnMut(IngestError),
) {
    use std::os::unix::fs::MetadataExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(source) => {
            problem(IngestError::Io {
                path: path.to_path_buf(),
                source,
            });
            return;
        }
    };
    if meta.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    if !meta.is_dir() || !seen_dirs.insert((meta.dev(), meta.ino())) {
        // Not a regular file or folder (a socket, a FIFO), or a folder already walked through
        // a symlink loop.
        return;
    }
    let entries = match std::fs::read_dir(path) {
        Ok(rd) => rd,
        Err(source) => {
            problem(IngestError::Io {
                path: path.to_path_buf(),
                source,
            });
            return;
        }
    };
    let mut children: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => {
                if !e.file_name().as_encoded_bytes().starts_with(b".") {
                    children.push(e.path());
                }
            }
            Err(source) => problem(IngestError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }
    children.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    for child in children {
        walk(&child, out, seen_dirs, problem);
    }
}

/// Reads one file: decides its format (or uses `format`), then hands every record to `emit`
/// until the file ends or `emit` says stop. Returns the format used.
pub fn read_file(
    path: &Path,
    format: Option<Format>,
    settings: &SourceSettings,
    emit: &mut dyn FnMut(Record) -> Flow,
) -> Result<Format, IngestError> {
    let io_err = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let mut reader = BufReader::with_capacity(SNIFF_BYTES, file);
    let format = match format {
        Some(f) => f,
        None => {
            let head = reader.fill_buf().map_err(io_err)?;
            if head.is_empty() {
                // An empty file is nothing to read, not an error.
                return Ok(Format::Native);
            }
            Format::sniff(head).ok_or_else(|| IngestError::UnknownFormat {
                path: path.to_path_buf(),
            })?
        }
    };
    format
        .adapter(settings)
        .read(&mut reader, emit)
        .map_err(io_err)?;
    Ok(format)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_folders_in_a_stable_order_skipping_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/inner")).unwrap();
        std::fs::create_dir_all(root.join(".hidden")).unwrap();
        for f in [
            "b/inner/z.ndjson",
            "b/a.ndjson",
            "a.ndjson",
            ".hidden/x",
            ".swp",
        ] {
            std::fs::write(root.join(f), "").unwrap();
        }
        std::os::unix::fs::symlink(root, root.join("b/loop")).unwrap();
        let mut problems = Vec::new();
        let files = discover(&[root.to_path_buf()], &mut |e| problems.push(e.to_string()));
        let rel: Vec<_> = files
            .iter()
            .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(rel, ["a.ndjson", "b/a.ndjson", "b/inner/z.ndjson"]);
        assert!(problems.is_empty(), "{problems:?}");
        let missing = discover(&[root.join("nope")], &mut |e| problems.push(e.to_string()));
        assert!(missing.is_empty());
        assert!(problems[0].contains("nope") && problems[0].contains("cannot read"));
    }

    #[test]
    fn unknown_content_is_reported_not_guessed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.txt");
        std::fs::write(&path, "just some notes\n").unwrap();
        let err = read_file(&path, None, &SourceSettings::default(), &mut |_| {
            Flow::Continue(())
        })
        .unwrap_err();
        assert!(err.to_string().contains("notes.txt"));
        assert!(matches!(err, IngestError::UnknownFormat { .. }));
    }
}
