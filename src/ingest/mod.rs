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

pub mod fingerprint;
pub mod http;
pub mod tailer;
pub mod utf16;
pub mod watch;

/// How much of a file is read to decide its format.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// A problem with one path; the walk or scan goes on with the next.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{path}: cannot read: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: skipped: not a format motesvakt recognises (use --format to name it)")]
    UnknownFormat { path: PathBuf },
    /// A file recognised for what it is, which motesvakt does not read (an archive, a
    /// workbook, a PDF).
    #[error("{path}: skipped: {what}, which motesvakt does not read; {fix}")]
    Unsupported {
        path: PathBuf,
        what: &'static str,
        fix: &'static str,
    },
    #[error(
        "{path}: skipped: not a file or folder (a pipe, socket or device in a folder is not read; name a pipe on the command line to read it)"
    )]
    NotAFile { path: PathBuf },
}

/// Lists the files under `paths` (files as given, folders recursively), in a stable order.
/// Problems (an unreadable folder) are passed to `problem` and the walk goes on.
pub fn discover(paths: &[PathBuf], problem: &mut dyn FnMut(IngestError)) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut seen_dirs = HashSet::new();
    for path in paths {
        use std::os::unix::fs::FileTypeExt;
        // A pipe or a terminal named on the command line (`/dev/stdin`, a FIFO) is read as a
        // stream; in a folder it is passed over (reading it could wait for ever).
        if let Ok(meta) = std::fs::metadata(path)
            && (meta.file_type().is_fifo() || meta.file_type().is_char_device())
        {
            out.push(path.clone());
            continue;
        }
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
    if !meta.is_dir() {
        problem(IngestError::NotAFile {
            path: path.to_path_buf(),
        });
        return;
    }
    if !seen_dirs.insert((meta.dev(), meta.ino())) {
        // A folder already walked through a symlink loop.
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

/// A file opened for reading, its format decided.
pub struct Opened {
    pub format: Format,
    /// The content (decompressed, for a `.gz`).
    pub reader: Box<dyn BufRead + Send>,
    /// How the file can be cut into pieces that are read apart.
    pub cut: Cut,
}

/// How a file can be cut into pieces read apart (on several threads).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Not at all: JSON arrays or pretty-printed objects over several lines, and content
    /// decoded from UTF-16 or with HTTP heads blanked, are read from the start to the end by
    /// one reader.
    No,
    /// At any line end: native NDJSON, and JSON formats whose first record fits on its first
    /// line (NDJSON).
    Lines,
    /// At line ends outside quotes, each piece read after the file's header row: CSV.
    Rows,
}

/// Opens `path` and decides its format from its content (or uses `format`). `None` for an
/// empty file: nothing to read, not an error.
pub fn open(path: &Path, format: Option<Format>) -> Result<Option<Opened>, IngestError> {
    let io_err = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(io_err)?;
    let (mut reader, through) = content(file).map_err(io_err)?;
    let head = reader.fill_buf().map_err(io_err)?;
    if head.is_empty() && format.is_none() {
        return Ok(None);
    }
    let blank = |b: &[u8]| {
        b.strip_prefix(b"\xEF\xBB\xBF")
            .unwrap_or(b)
            .trim_ascii()
            .is_empty()
    };
    let mut head_buf = Vec::new();
    if format.is_none() && head.len() >= SNIFF_BYTES / 2 && blank(head) {
        // A head of blank space only (padding before the data): recognise the file by what
        // follows it, and give the adapter every byte, the blank ones too.
        let Some((prefix, rest_head)) = skip_blank(&mut reader).map_err(io_err)? else {
            return Ok(None);
        };
        head_buf = rest_head;
        let rest = std::mem::replace(&mut reader, Box::new(io::empty()));
        reader = Box::new(BufReader::with_capacity(
            SNIFF_BYTES,
            io::Read::chain(
                io::Cursor::new(prefix),
                io::Read::chain(io::Cursor::new(head_buf.clone()), rest),
            ),
        ));
    }
    let head: &[u8] = if head_buf.is_empty() {
        reader.fill_buf().map_err(io_err)?
    } else {
        &head_buf
    };
    let format = match format {
        Some(f) => f,
        None => Format::sniff(head).ok_or_else(|| unknown(path, head))?,
    };
    let cut = match through {
        Through::Plain | Through::Gzip => cut_of(format, head),
        Through::Decoded => Cut::No,
    };
    Ok(Some(Opened {
        format,
        reader,
        cut,
    }))
}

/// The error for a file whose content matches no format: what it is, when it is a kind of
/// file that is recognised but not read.
pub fn unknown(path: &Path, head: &[u8]) -> IngestError {
    match unsupported(head) {
        Some((what, fix)) => IngestError::Unsupported {
            path: path.to_path_buf(),
            what,
            fix,
        },
        None => IngestError::UnknownFormat {
            path: path.to_path_buf(),
        },
    }
}

/// What a file that no adapter reads is, by its first bytes, and what to do instead: an
/// archive, a workbook, a PDF, another compression than gzip, UTF-32.
pub fn unsupported(head: &[u8]) -> Option<(&'static str, &'static str)> {
    const SAVE_AS_CSV: &str = "export the audit log as CSV or JSON, or save the sheet from Excel as \"CSV UTF-8\" or \"Unicode text\"";
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
        if has(b"xl/") || (has(b"[Content_Types].xml") && has(b"workbook")) {
            return Some(("an Excel workbook (.xlsx)", SAVE_AS_CSV));
        }
        return Some(("a zip archive", "unpack it and scan the files in it"));
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        return Some((
            "legacy Excel (.xls) or another Office 97-2003 file",
            SAVE_AS_CSV,
        ));
    }
    if head.starts_with(b"%PDF-") {
        return Some((
            "a PDF",
            "a PDF holds no records: export the audit log or the meeting records as CSV or JSON",
        ));
    }
    let recompress = "decompress it, or compress it with gzip (.gz), which motesvakt reads";
    if head.starts_with(b"BZh") && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
        return Some(("a bzip2-compressed file", recompress));
    }
    if head.starts_with(&[0xFD, b'7', b'z', b'X', b'Z', 0]) {
        return Some(("an xz-compressed file", recompress));
    }
    if head.starts_with(&[0x28, 0xB5, 0x2F, 0xFD]) {
        return Some(("a zstd-compressed file", recompress));
    }
    if head.starts_with(b"7z\xBC\xAF\x27\x1C") {
        return Some(("a 7-Zip archive", "unpack it and scan the files in it"));
    }
    if head.starts_with(&[0xFF, 0xFE, 0, 0]) || head.starts_with(&[0, 0, 0xFE, 0xFF]) {
        return Some(("UTF-32 text", "save it as UTF-8 (or UTF-16)"));
    }
    None
}

/// The most blank space read past at the start of a file to find what it holds.
const MAX_BLANK_PREFIX: usize = 64 * 1024 * 1024;

/// Reads past the blank space at the start of `reader`: returns it and up to [`SNIFF_BYTES`]
/// of what follows, or `None` when the file is blank to its end (or beyond
/// [`MAX_BLANK_PREFIX`]: then it is not read).
fn skip_blank(reader: &mut Box<dyn BufRead + Send>) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
    use std::io::Read;
    let mut prefix = Vec::new();
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() || prefix.len() > MAX_BLANK_PREFIX {
            return Ok(None);
        }
        let start = if prefix.is_empty() && buf.starts_with(b"\xEF\xBB\xBF") {
            3
        } else {
            0
        };
        let n = start
            + buf[start..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
        prefix.extend_from_slice(&buf[..n]);
        let done = n < buf.len();
        reader.consume(n);
        if done {
            break;
        }
    }
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    reader
        .by_ref()
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut head)?;
    Ok(Some((prefix, head)))
}

/// How a file of `format` that starts with `head` can be cut into pieces read apart.
pub fn cut_of(format: Format, head: &[u8]) -> Cut {
    match format {
        Format::Native => Cut::Lines,
        Format::TeamsAuditCsv => Cut::Rows,
        _ if first_line_is_a_record(head) => Cut::Lines,
        _ => Cut::No,
    }
}

/// Whether `head` starts like a gzip stream.
pub fn is_gzip(head: &[u8]) -> bool {
    head.starts_with(&[0x1f, 0x8b])
}

/// A reader over a file's content: decompressed when the file is gzip (one or more members,
/// as `cat a.gz b.gz` makes), decoded to UTF-8 when it is UTF-16 with a BOM (Excel's
/// "Unicode text", PowerShell 5.1's `>`), and with HTTP request heads blanked when it starts
/// with one (webhook bodies saved with their requests: [`http`]). The flag says whether the
/// content is read through a transformation (then it is read as a whole, not cut in pieces).
pub fn content_reader(file: File) -> io::Result<(Box<dyn BufRead + Send>, bool)> {
    content(file).map(|(reader, through)| (reader, through != Through::Plain))
}

/// What a file's content is read through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Through {
    Plain,
    /// Decompressed from gzip only: its lines are the content's, and it can be cut as a
    /// plain file is (the positions are in the content, on one thread or many).
    Gzip,
    /// Decoded from UTF-16, or with HTTP request heads blanked.
    Decoded,
}

/// [`content_reader`], saying what the content is read through.
fn content(file: File) -> io::Result<(Box<dyn BufRead + Send>, Through)> {
    // Peeked, not sought back: a pipe (`/dev/stdin`, a FIFO) cannot seek.
    let mut buffered = BufReader::with_capacity(SNIFF_BYTES, file);
    let gzip = is_gzip(peek(&mut buffered)?);
    let mut reader: Box<dyn BufRead + Send> = if gzip {
        let gz = flate2::bufread::MultiGzDecoder::new(buffered);
        Box::new(BufReader::with_capacity(SNIFF_BYTES, gz))
    } else {
        Box::new(buffered)
    };
    let head = peek(&mut reader)?;
    if head.len() >= 2
        && let Some(big_endian) = utf16::bom(head)
    {
        reader.consume(2);
        let decoded = utf16::Utf16Reader::new(reader, big_endian);
        return Ok((
            with_http_heads_blanked(Box::new(decoded))?,
            Through::Decoded,
        ));
    }
    if http::starts_with_request(head) {
        return Ok((Box::new(http::HttpHeads::new(reader)), Through::Decoded));
    }
    Ok((reader, if gzip { Through::Gzip } else { Through::Plain }))
}

/// `reader`, with HTTP request heads blanked when its content starts with one (webhook
/// bodies saved with their requests).
fn with_http_heads_blanked(
    mut reader: Box<dyn BufRead + Send>,
) -> io::Result<Box<dyn BufRead + Send>> {
    if http::starts_with_request(peek(&mut reader)?) {
        return Ok(Box::new(http::HttpHeads::new(reader)));
    }
    Ok(reader)
}

/// The buffered start of `reader`, retried when interrupted.
fn peek<R: BufRead + ?Sized>(reader: &mut R) -> io::Result<&[u8]> {
    loop {
        match reader.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    reader.fill_buf()
}

/// True when the first non-blank line of `head` is a whole JSON object or array (so the file
/// is NDJSON: JSON readers take it line by line from there on).
fn first_line_is_a_record(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let rest = &head[start..];
    let Some(end) = memchr::memchr(b'\n', rest) else {
        return false;
    };
    let line = rest[..end].trim_ascii();
    (line.starts_with(b"{") || line.starts_with(b"["))
        && serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok()
}

/// Reads one file: decides its format (or uses `format`), then hands every record to `emit`
/// until the file ends or `emit` says stop. Returns the format used.
pub fn read_file(
    path: &Path,
    format: Option<Format>,
    settings: &SourceSettings,
    emit: &mut dyn FnMut(Record) -> Flow,
) -> Result<Format, IngestError> {
    let Some(mut opened) = open(path, format)? else {
        return Ok(Format::Native);
    };
    opened
        .format
        .adapter(settings)
        .read(&mut opened.reader, emit)
        .map_err(|source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(opened.format)
}

/// How much a block of lines holds, about: a few parts for the reading threads (the scan's
/// memory holds a few blocks and what their parts were read into).
pub const BLOCK_BYTES: usize = 1024 * 1024;

/// A line longer than this (without its end) stops the cutting into blocks; the rest of the
/// file is then read from that line on by one reader, which handles overlong lines in bounded
/// memory.
pub const LONGEST_CUT_LINE: usize = 8 * 1024 * 1024;

/// The least [`LineBlocks::next_block`] reads at a time.
const READ_AHEAD: usize = 64 * 1024;

/// A piece of a file made of whole lines.
pub struct Block {
    pub bytes: Vec<u8>,
    /// The file offset of its first byte.
    pub offset: u64,
    /// The line number of its first line, from 1.
    pub line: u64,
    /// Whether it starts the file (its first line may begin with a BOM).
    pub file_start: bool,
}

/// What [`LineBlocks::next_block`] gives.
pub enum Next {
    Block(Block),
    /// A line longer than [`LONGEST_CUT_LINE`] comes next: read the rest with
    /// [`LineBlocks::rest`].
    LongLine,
    End,
}

/// Cuts a file into [`Block`]s at line ends (outside quotes, for CSV).
pub struct LineBlocks {
    reader: Box<dyn BufRead + Send>,
    /// Cut only where the quotes since the start of the block are balanced (CSV rows).
    rows: bool,
    /// Bytes read and not yet handed out: whole lines, then the start of the next.
    carry: Vec<u8>,
    offset: u64,
    line: u64,
    eof: bool,
    file_start: bool,
}

impl LineBlocks {
    pub fn new(reader: Box<dyn BufRead + Send>, cut: Cut) -> LineBlocks {
        LineBlocks {
            reader,
            rows: cut == Cut::Rows,
            carry: Vec::new(),
            offset: 0,
            line: 1,
            eof: false,
            file_start: true,
        }
    }

    /// The next block of about [`BLOCK_BYTES`], cut after its last line end.
    pub fn next_block(&mut self) -> io::Result<Next> {
        use std::io::Read;
        loop {
            if self.carry.len() > LONGEST_CUT_LINE
                && (if self.rows {
                    last_row_end(&self.carry[..=LONGEST_CUT_LINE]) == 0
                } else {
                    memchr::memchr(b'\n', &self.carry[..=LONGEST_CUT_LINE]).is_none()
                })
            {
                return Ok(Next::LongLine);
            }
            let full = self.carry.len() >= BLOCK_BYTES || self.eof;
            if full {
                let cut = if self.eof {
                    self.carry.len()
                } else if self.rows {
                    last_row_end(&self.carry)
                } else {
                    memchr::memrchr(b'\n', &self.carry).map_or(0, |i| i + 1)
                };
                if cut > 0 {
                    // The start of the next block goes into a buffer with room for the whole
                    // of it, so that reading the rest of it never regrows (and copies) it.
                    let mut rest =
                        Vec::with_capacity(BLOCK_BYTES.max(self.carry.len() - cut) + READ_AHEAD);
                    rest.extend_from_slice(&self.carry[cut..]);
                    self.carry.truncate(cut);
                    let bytes = std::mem::replace(&mut self.carry, rest);
                    let block = Block {
                        offset: self.offset,
                        line: self.line,
                        file_start: self.file_start,
                        bytes,
                    };
                    self.offset += cut as u64;
                    self.line += if self.rows {
                        memchr::memchr_iter(b'\n', &block.bytes).count() as u64
                    } else {
                        crate::sources::lines::count_line_ends(&block.bytes)
                    };
                    self.file_start = false;
                    return Ok(Next::Block(block));
                }
                if self.eof {
                    return Ok(Next::End);
                }
            }
            let want = BLOCK_BYTES.saturating_sub(self.carry.len()).max(READ_AHEAD);
            let n = self
                .reader
                .by_ref()
                .take(want as u64)
                .read_to_end(&mut self.carry)?;
            if n == 0 {
                self.eof = true;
            }
        }
    }

    /// The rest of the file, from the first byte not handed out in a block: its offset, line
    /// and a reader over it.
    pub fn rest(self) -> (u64, u64, impl BufRead) {
        use std::io::Read;
        (
            self.offset,
            self.line,
            BufReader::with_capacity(SNIFF_BYTES, io::Cursor::new(self.carry).chain(self.reader)),
        )
    }
}

/// Just after the last line end of `data` outside quotes (CSV: `"` opens and closes a quoted
/// field, `""` inside one is a quote and leaves it open), or 0 when there is none.
///
/// Only the parity of the quotes before a line end matters, so the quotes between two line
/// ends are counted in bulk ([`count_quotes`]) rather than visited one by one: an `AuditData`
/// cell has a doubled quote every few bytes, and a search stopping at each was a tenth of a
/// Teams CSV scan's instructions, on the thread that also judges.
fn last_row_end(data: &[u8]) -> usize {
    let mut open = false;
    let mut last = 0;
    let mut from = 0;
    for i in memchr::memchr_iter(b'\n', data) {
        open ^= count_quotes(&data[from..i]) % 2 == 1;
        if !open {
            last = i + 1;
        }
        from = i + 1;
    }
    last
}

/// The number of `"` in `data`, counted 255 bytes at a time in `u8` sums (which the compiler
/// turns into vector compares and adds).
fn count_quotes(data: &[u8]) -> usize {
    data.chunks(255)
        .map(|c| {
            c.iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'"')))
        })
        .map(usize::from)
        .sum()
}

/// The length of the first row of `data` (with its line end), or all of it.
fn first_row_len(data: &[u8]) -> usize {
    first_row(data).len()
}

/// The first row of a CSV block (its header), with its line end.
pub fn first_row(data: &[u8]) -> &[u8] {
    let mut open = false;
    let mut from = 0;
    for i in memchr::memchr_iter(b'\n', data) {
        open ^= count_quotes(&data[from..i]) % 2 == 1;
        if !open {
            return &data[..=i];
        }
        from = i + 1;
    }
    data
}

/// The header of a CSV block that starts a file: its first row, and the row after it when
/// the first is the `#TYPE ...` line of PowerShell 5.1's `Export-Csv`.
pub fn csv_header(data: &[u8]) -> &[u8] {
    let first = first_row(data);
    let bare = first.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(first);
    if bare.len() >= 5 && bare[..5].eq_ignore_ascii_case(b"#TYPE") {
        let next = first_row(&data[first.len()..]);
        return &data[..first.len() + next.len()];
    }
    first
}

/// A part of a [`Block`], borrowed from it (the threads that read the parts of a block end
/// before it is dropped: no copy of its bytes is made).
pub struct Piece<'a> {
    pub bytes: &'a [u8],
    /// The file offset of its first byte.
    pub offset: u64,
    /// The line number of its first line, from 1.
    pub line: u64,
    /// Whether it starts the file.
    pub file_start: bool,
}

/// Where a [`Piece`] is in its [`Block`]: a range of it, owned (so that a piece can be sent to
/// another thread with the block shared, not copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The piece's bytes in the block.
    pub range: std::ops::Range<usize>,
    /// The file offset of its first byte.
    pub offset: u64,
    /// The line number of its first line, from 1.
    pub line: u64,
    /// Whether it starts the file.
    pub file_start: bool,
}

impl Part {
    /// The piece of `block` this part names.
    pub fn piece<'a>(&self, block: &'a Block) -> Piece<'a> {
        Piece {
            bytes: &block.bytes[self.range.clone()],
            offset: self.offset,
            line: self.line,
            file_start: self.file_start,
        }
    }
}

/// Cuts `block` into up to `n` pieces of whole lines (rows, with `rows`), about equal in size.
pub fn split_block(block: &Block, n: usize, rows: bool) -> Vec<Piece<'_>> {
    split_parts(block, n, rows)
        .iter()
        .map(|p| p.piece(block))
        .collect()
}

/// [`split_block`], the pieces named by where they are in the block.
pub fn split_parts(block: &Block, n: usize, rows: bool) -> Vec<Part> {
    let n = n.max(1);
    let target = block.bytes.len().div_ceil(n).max(1);
    let mut out = Vec::with_capacity(n);
    let (mut offset, mut line, mut file_start) = (block.offset, block.line, block.file_start);
    let mut start = 0;
    while start < block.bytes.len() {
        let rest = &block.bytes[start..];
        let cut = if out.len() + 1 == n || rest.len() <= target {
            rest.len()
        } else {
            let end = if rows {
                // The end of the row that runs over `target` (quotes counted from the start
                // of `rest`, which starts a row).
                let upto = last_row_end(&rest[..target]);
                upto + first_row_len(&rest[upto..])
            } else {
                memchr::memchr(b'\n', &rest[target..]).map_or(rest.len(), |i| target + i + 1)
            };
            if end == 0 { rest.len() } else { end }
        };
        let bytes = &rest[..cut];
        let lines = if rows {
            memchr::memchr_iter(b'\n', bytes).count() as u64
        } else {
            crate::sources::lines::count_line_ends(bytes)
        };
        out.push(Part {
            range: start..start + cut,
            offset,
            line,
            file_start,
        });
        offset += cut as u64;
        line += lines;
        file_start = false;
        start += cut;
    }
    out
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
    fn blocks_cut_at_line_ends_and_know_where_they_are() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lines.ndjson");
        let mut data = Vec::new();
        for i in 0..300_000u32 {
            data.extend_from_slice(format!("line {i} with some text\n").as_bytes());
        }
        data.extend_from_slice(b"no end");
        std::fs::write(&path, &data).unwrap();
        let opened = open(&path, Some(Format::Native)).unwrap().unwrap();
        let mut blocks = LineBlocks::new(opened.reader, Cut::Lines);
        let mut all = Vec::new();
        let mut n = 0;
        while let Next::Block(b) = blocks.next_block().unwrap() {
            assert_eq!(b.offset as usize, all.len());
            let lines_before = memchr::memchr_iter(b'\n', &all).count() as u64;
            assert_eq!(b.line, lines_before + 1);
            assert_eq!(b.file_start, n == 0);
            let parts = split_block(&b, 3, false);
            for p in &parts {
                assert!(p.bytes.ends_with(b"\n") || p.bytes.ends_with(b"no end"));
            }
            for p in parts {
                assert_eq!(p.offset as usize, all.len());
                all.extend_from_slice(p.bytes);
            }
            n += 1;
        }
        assert!(n > 1, "several blocks");
        assert_eq!(all, data);
    }

    /// The row ends as found by visiting every quote, the way [`last_row_end`] and
    /// [`first_row`] did before they counted quotes in bulk.
    fn row_ends_one_by_one(data: &[u8]) -> Vec<usize> {
        let mut open = false;
        let mut ends = Vec::new();
        for (i, &b) in data.iter().enumerate() {
            if b == b'"' {
                open = !open;
            } else if b == b'\n' && !open {
                ends.push(i + 1);
            }
        }
        ends
    }

    proptest::proptest! {
        #[test]
        fn row_ends_are_those_found_quote_by_quote(
            picks in proptest::collection::vec(0u8..8, 0..700),
        ) {
            // Mostly quotes and line ends, with runs longer than a 255-byte count chunk.
            let data: Vec<u8> = picks
                .iter()
                .flat_map(|&p| match p {
                    0 | 1 => vec![b'"'],
                    2 => vec![b'\n'],
                    3 => vec![b'\r', b'\n'],
                    4 => vec![b'"'; 300],
                    5 => vec![b'x'; 260],
                    _ => vec![b'a', b','],
                })
                .collect();
            let ends = row_ends_one_by_one(&data);
            proptest::prop_assert_eq!(last_row_end(&data), ends.last().copied().unwrap_or(0));
            proptest::prop_assert_eq!(
                first_row(&data).len(),
                ends.first().copied().unwrap_or(data.len())
            );
            proptest::prop_assert_eq!(count_quotes(&data), data.iter().filter(|&&b| b == b'"').count());
        }
    }

    #[test]
    fn csv_is_cut_only_at_row_ends() {
        let data = b"h1,h2\n\"a\nb\",1\n\"c \"\"q\"\"\nd\",2\nplain,3\n";
        assert_eq!(first_row(data), b"h1,h2\n");
        // Row ends: after the header (6), after row 1 (14), row 2 (28), row 3 (36).
        assert_eq!(last_row_end(data), data.len());
        assert_eq!(last_row_end(&data[..20]), 14);
        let block = Block {
            bytes: data.to_vec(),
            offset: 100,
            line: 10,
            file_start: false,
        };
        for n in 1..6 {
            let parts = split_block(&block, n, true);
            let mut joined = Vec::new();
            for p in &parts {
                assert!(
                    [6usize, 14, 28, 36].contains(&(p.offset as usize - 100 + p.bytes.len())),
                    "{n}: a piece ends inside a row"
                );
                joined.extend_from_slice(p.bytes);
            }
            assert_eq!(joined, data);
        }
    }

    #[test]
    fn a_line_too_long_to_cut_leaves_the_rest_to_one_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.ndjson");
        let mut data = b"short\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', LONGEST_CUT_LINE + 10));
        data.extend_from_slice(b"\nafter\n");
        std::fs::write(&path, &data).unwrap();
        let opened = open(&path, Some(Format::Native)).unwrap().unwrap();
        let mut blocks = LineBlocks::new(opened.reader, Cut::Lines);
        let Next::Block(first) = blocks.next_block().unwrap() else {
            panic!("a first block")
        };
        assert_eq!(first.bytes, b"short\n");
        assert!(matches!(blocks.next_block().unwrap(), Next::LongLine));
        let (offset, line, mut rest) = blocks.rest();
        assert_eq!((offset, line), (6, 2));
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut rest, &mut back).unwrap();
        assert_eq!(back, data[6..]);
    }

    #[test]
    fn gzip_content_is_cut_as_plain_content_is_but_decoded_content_is_not() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let lines = b"{\"a\":1}\n{\"a\":2}\n";
        let gz = dir.path().join("x.ndjson.gz");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(lines).unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let opened = open(&gz, Some(Format::Native)).unwrap().unwrap();
        assert_eq!(opened.cut, Cut::Lines);
        let utf16 = dir.path().join("x.ndjson");
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(lines.iter().flat_map(|&b| [b, 0]));
        std::fs::write(&utf16, bytes).unwrap();
        let opened = open(&utf16, Some(Format::Native)).unwrap().unwrap();
        assert_eq!(opened.cut, Cut::No);
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
