//! Streaming split of a JSON file into records, whatever its layout, with bounded memory.
//!
//! The platforms' records arrive as NDJSON (one per line), as a JSON array (the Management
//! Activity API's content blobs), as a list response wrapping an array (`{"value":[...]}` in
//! Graph, `{"objects":[...]}` in Pexip's history API, `{"items":[...]}` in Webex), as
//! pretty-printed objects one after another, or as a single object. [`read_records`] reads any
//! of these byte by byte and hands over one record at a time, so memory is bounded by the
//! largest record ([`MAX_RECORD`]) and not by the file.
//!
//! The splitter only matches brackets and strings; each record is then parsed by the adapter
//! with serde_json, so a record whose brackets balance but whose content is not JSON is rejected
//! alone and the file goes on. When the structure itself is broken (an unclosed record, a line
//! break inside a string), the record is rejected and reading resumes at the next line that
//! starts with `{` or `[`. Once the first record of a file has been seen to fit on one line, the
//! file is taken as NDJSON and a record left open at the end of its line is an error, so one
//! truncated line never swallows the next.

use std::io::{self, BufRead};

use super::value::Map;

use super::lines::MAX_LINE;
use super::util::parse_object;
use super::{Flow, Identity, Item, Position, Record, RecordKey};

/// The largest record accepted; a larger one is rejected (and skipped) instead of being held.
pub const MAX_RECORD: usize = MAX_LINE;

/// Nesting deeper than this is rejected rather than tracked.
const MAX_DEPTH: usize = 512;

/// One record as split from the file: where it was, and its bytes (blanks outside strings
/// removed) or why it was skipped.
pub struct RawRecord<'a> {
    pub pos: Position,
    pub bytes: Result<&'a [u8], String>,
}

/// A reader of JSON records: the splitting is the same for every JSON format
/// ([`read_records`]), the mapping of one record as split is the adapter's. Every adapter that
/// reads JSON reads through [`read_json`], one record after the other, and a scan on several
/// threads maps runs of records cut by one splitter ([`Run`], [`map_run`]) with the same
/// [`JsonRecords::map_record`]: the two give the same records, positions and diagnostics.
pub trait JsonRecords: Sync {
    /// The keys of a top-level object whose array value holds the records (`value`...).
    fn wrappers(&self) -> &'static [&'static str];

    /// Maps one record as split (or the reason it could not be split) and hands what it gave to
    /// `emit`, returning what `emit` said.
    fn map_record(&self, raw: RawRecord<'_>, emit: &mut dyn FnMut(Record<'_>) -> Flow) -> Flow;
}

/// Reads every JSON record of `input` (see [`read_records`]) and maps each with `json`.
pub fn read_json(
    json: &dyn JsonRecords,
    input: &mut dyn BufRead,
    layout: Layout,
    emit: &mut dyn FnMut(Record<'_>) -> Flow,
) -> io::Result<()> {
    read_records(input, json.wrappers(), layout, &mut |raw| {
        json.map_record(raw, emit)
    })
}

/// Records as split from a file, one after the other, held for mapping elsewhere (on another
/// thread): their bytes in one buffer, their positions, and for each the range of its bytes or
/// why it could not be split.
#[derive(Default)]
pub struct Run {
    bytes: Vec<u8>,
    records: Vec<(Position, Result<std::ops::Range<usize>, String>)>,
}

impl Run {
    /// Adds a record at the end.
    pub fn push(&mut self, raw: RawRecord<'_>) {
        let bytes = raw.bytes.map(|b| {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(b);
            start..self.bytes.len()
        });
        self.records.push((raw.pos, bytes));
    }

    /// The records' bytes, in all.
    pub fn bytes(&self) -> usize {
        self.bytes.len()
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Where the last record ends in the file (0 when there is none).
    pub fn end(&self) -> u64 {
        self.records.last().map_or(0, |(pos, _)| pos.end)
    }

    /// The records, as the splitter handed them over.
    pub fn iter(&self) -> impl Iterator<Item = RawRecord<'_>> {
        self.records.iter().map(|(pos, bytes)| RawRecord {
            pos: *pos,
            bytes: match bytes {
                Ok(r) => Ok(&self.bytes[r.clone()]),
                Err(e) => Err(e.clone()),
            },
        })
    }
}

/// Maps the records of `run` with `json`, in order, until `emit` says stop.
pub fn map_run(
    json: &dyn JsonRecords,
    run: &Run,
    emit: &mut dyn FnMut(Record<'_>) -> Flow,
) -> Flow {
    for raw in run.iter() {
        json.map_record(raw, emit)?;
    }
    Flow::Continue(())
}

/// Maps a JSON object record: `map` pushes the items it maps the record to and may name the
/// record's own id (its [`RecordKey`]); without one, the key is the hash of the record's JSON
/// under `family`. A record that is not a JSON object, or that `map` refuses, also gives an
/// [`Item::Rejected`].
pub fn map_object(
    raw: RawRecord<'_>,
    family: &'static str,
    emit: &mut dyn FnMut(Record<'_>) -> Flow,
    map: impl FnOnce(&Map<'_>, &mut Vec<Item>) -> Result<Option<RecordKey>, String>,
) -> Flow {
    let mut items = Vec::new();
    let identity = match raw.bytes.and_then(|b| parse_object(b).map(|obj| (b, obj))) {
        Ok((json, obj)) => {
            let key = map(&obj, &mut items).unwrap_or_else(|reason| {
                items.push(Item::Rejected(reason));
                None
            });
            match key {
                Some(k) => Identity::Key(k),
                // The splitter left out the blanks outside strings.
                None => Identity::CompactJson { family, json },
            }
        }
        Err(reason) => {
            items.push(Item::Rejected(reason));
            Identity::Key(position_key(family, raw.pos))
        }
    };
    emit(Record {
        pos: raw.pos,
        identity,
        items: items.into(),
        chat_text: None,
    })
}

/// The key of a record that could not be read: it gives no event, so only its place matters.
pub fn position_key(family: &str, pos: Position) -> RecordKey {
    RecordKey::new(family, &[b"unreadable", &pos.start.to_le_bytes()])
}

/// How the records of a file are laid out, as far as the reader knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Anything (NDJSON, arrays, pretty-printed objects): found out from the first record.
    Any,
    /// NDJSON, known already (a block cut from a file at line ends, the file's first record
    /// having fit on one line): a record left open at the end of its line is an error from the
    /// first line on.
    Lines,
}

/// Reads every JSON record in `input` and calls `emit` with each one's position, until the
/// input ends or `emit` says stop.
///
/// A top-level array yields its elements; a top-level object having one of the `wrappers` keys
/// with an array value (e.g. `value`) yields that array's elements (its other keys are
/// ignored); any other top-level object is itself a record. Returns an error only for I/O.
pub fn read_records(
    input: &mut dyn BufRead,
    wrappers: &[&str],
    layout: Layout,
    emit: &mut dyn FnMut(RawRecord<'_>) -> Flow,
) -> io::Result<()> {
    let mut s = Scanner {
        input,
        newlines: 0,
        offset: 0,
        strict_lines: layout == Layout::Lines,
        at_line_start: true,
        stack: Vec::new(),
    };
    let mut outer = Buf::default();
    let mut inner = Buf::default();
    let mut layout_known = layout == Layout::Lines;
    if layout == Layout::Any {
        // A block from the middle of a file has no BOM to skip.
        s.skip_bom()?;
    }
    loop {
        let Some(b) = s.skip_ws_top()? else {
            return Ok(());
        };
        let start = s.here();
        let res = match b {
            b'[' => {
                s.bump();
                s.array_elements(&mut inner, emit)
            }
            b'{' => s.top_object(&mut outer, &mut inner, wrappers, emit, start),
            _ => Err(ScanErr::Syntax("expected a JSON object or array")),
        };
        match res {
            Ok(()) => {
                if !layout_known {
                    layout_known = true;
                    s.strict_lines = s.line() == start.line;
                }
            }
            Err(ScanErr::Io(e)) => return Err(e),
            Err(ScanErr::Stop) => return Ok(()),
            Err(ScanErr::Syntax(msg)) => {
                s.resync()?;
                if s.broken(start, msg, emit).is_break() {
                    return Ok(());
                }
            }
            Err(ScanErr::At(at, msg)) => {
                s.resync()?;
                if s.broken(at, msg, emit).is_break() {
                    return Ok(());
                }
            }
        }
    }
}

fn broken(msg: &str) -> String {
    format!("malformed JSON ({msg}); skipped to the next line that starts a record")
}

enum ScanErr {
    Io(io::Error),
    /// The callback said stop.
    Stop,
    /// A syntax error in the record being scanned; the caller knows where it started.
    Syntax(&'static str),
    /// A syntax error in the record starting here.
    At(Position, &'static str),
}

impl From<io::Error> for ScanErr {
    fn from(e: io::Error) -> Self {
        ScanErr::Io(e)
    }
}

impl ScanErr {
    fn at(self, start: Position) -> ScanErr {
        match self {
            ScanErr::Syntax(m) => ScanErr::At(start, m),
            other => other,
        }
    }
}

const EOF: ScanErr = ScanErr::Syntax("unexpected end of file");
const OPEN_AT_EOL: &str = "record does not end on its line";

/// A record buffer that stops growing at [`MAX_RECORD`].
#[derive(Default)]
struct Buf {
    bytes: Vec<u8>,
    overflow: bool,
}

impl Buf {
    fn clear(&mut self) {
        self.bytes.clear();
        self.overflow = false;
        if self.bytes.capacity() > 1 << 20 {
            self.bytes.shrink_to(1 << 16);
        }
    }

    fn push(&mut self, b: u8) {
        self.extend(&[b]);
    }

    fn extend(&mut self, s: &[u8]) {
        if self.overflow {
            return;
        }
        if self.bytes.len() + s.len() > MAX_RECORD {
            self.overflow = true;
            self.bytes = Vec::new();
        } else {
            self.bytes.extend_from_slice(s);
        }
    }

    fn len(&self) -> usize {
        self.bytes.len()
    }

    fn result(&self) -> Result<&[u8], String> {
        if self.overflow {
            Err(format!("record longer than {MAX_RECORD} bytes"))
        } else {
            Ok(&self.bytes)
        }
    }
}

struct Scanner<'a> {
    input: &'a mut dyn BufRead,
    newlines: u64,
    /// Bytes consumed so far.
    offset: u64,
    /// NDJSON: a line break outside a string inside a record is an error.
    strict_lines: bool,
    /// Whether the last byte consumed was a line break; used by `resync`.
    at_line_start: bool,
    /// The closing brackets awaited in [`Self::scan_nested`], kept between records.
    stack: Vec<u8>,
}

impl Scanner<'_> {
    fn line(&self) -> u64 {
        self.newlines + 1
    }

    /// The position of the next byte, as the start of a record (its end is filled in later).
    fn here(&self) -> Position {
        Position {
            line: self.line(),
            start: self.offset,
            end: self.offset,
        }
    }

    fn consume(&mut self, n: usize) {
        self.input.consume(n);
        self.offset += n as u64;
    }

    /// Reports a broken record that started at `start`; reading resumes where the scanner is.
    fn broken(
        &self,
        start: Position,
        msg: &str,
        emit: &mut dyn FnMut(RawRecord<'_>) -> Flow,
    ) -> Flow {
        emit(RawRecord {
            pos: Position {
                end: self.offset,
                ..start
            },
            bytes: Err(broken(msg)),
        })
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.input.fill_buf()?.first().copied())
    }

    /// Consumes the byte last peeked.
    fn bump(&mut self) {
        let b = self.input.fill_buf().ok().and_then(|c| c.first().copied());
        if let Some(b) = b {
            self.consume(1);
            self.at_line_start = b == b'\n';
            if b == b'\n' {
                self.newlines += 1;
            }
        }
    }

    fn skip_bom(&mut self) -> io::Result<()> {
        if self.input.fill_buf()?.starts_with(b"\xEF\xBB\xBF") {
            self.consume(3);
        }
        Ok(())
    }

    /// Skips blanks between top-level values.
    fn skip_ws_top(&mut self) -> io::Result<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.bump(),
                other => return Ok(other),
            }
        }
    }

    /// Skips blanks inside a record; in NDJSON a line break there is an error.
    fn skip_ws_in(&mut self) -> Result<u8, ScanErr> {
        loop {
            match self.peek()? {
                None => return Err(EOF),
                Some(b'\n') if self.strict_lines => return Err(ScanErr::Syntax(OPEN_AT_EOL)),
                Some(b' ' | b'\t' | b'\r' | b'\n') => self.bump(),
                Some(b) => return Ok(b),
            }
        }
    }

    /// After a syntax error: skips to the next line starting with `{` or `[`.
    fn resync(&mut self) -> io::Result<()> {
        if self.peek()?.is_none() {
            return Ok(());
        }
        self.bump();
        while let Some(b) = self.peek()? {
            if self.at_line_start && (b == b'{' || b == b'[') {
                break;
            }
            self.bump();
        }
        Ok(())
    }

    fn top_object(
        &mut self,
        outer: &mut Buf,
        inner: &mut Buf,
        wrappers: &[&str],
        emit: &mut dyn FnMut(RawRecord<'_>) -> Flow,
        start: Position,
    ) -> Result<(), ScanErr> {
        outer.clear();
        self.bump();
        outer.push(b'{');
        let mut wrapped = false;
        let res = (|| -> Result<(), ScanErr> {
            loop {
                match self.skip_ws_in()? {
                    b'}' => {
                        self.bump();
                        outer.push(b'}');
                        return Ok(());
                    }
                    b',' => {
                        self.bump();
                        outer.push(b',');
                    }
                    b'"' => {
                        let key_start = outer.len();
                        self.scan_string(outer)?;
                        let is_wrapper = !outer.overflow
                            && outer.len() >= key_start + 2
                            && wrappers.iter().any(|w| {
                                w.as_bytes() == &outer.bytes[key_start + 1..outer.len() - 1]
                            });
                        if self.skip_ws_in()? != b':' {
                            return Err(ScanErr::Syntax("expected `:` after a key"));
                        }
                        self.bump();
                        outer.push(b':');
                        let b = self.skip_ws_in()?;
                        if is_wrapper && b == b'[' {
                            self.bump();
                            wrapped = true;
                            self.array_elements(inner, emit)?;
                            outer.extend(b"null");
                        } else {
                            self.scan_value(outer)?;
                        }
                    }
                    _ => return Err(ScanErr::Syntax("expected a key")),
                }
            }
        })();
        res.map_err(|e| e.at(start))?;
        if !wrapped {
            let pos = Position {
                end: self.offset,
                ..start
            };
            if emit(RawRecord {
                pos,
                bytes: outer.result(),
            })
            .is_break()
            {
                return Err(ScanErr::Stop);
            }
        }
        Ok(())
    }

    /// Yields the elements of an array whose `[` was consumed, up to and including its `]`.
    fn array_elements(
        &mut self,
        inner: &mut Buf,
        emit: &mut dyn FnMut(RawRecord<'_>) -> Flow,
    ) -> Result<(), ScanErr> {
        loop {
            match self.skip_ws_in()? {
                b']' => {
                    self.bump();
                    return Ok(());
                }
                b',' => self.bump(),
                _ => {
                    let start = self.here();
                    inner.clear();
                    self.scan_value(inner).map_err(|e| e.at(start))?;
                    let pos = Position {
                        end: self.offset,
                        ..start
                    };
                    if emit(RawRecord {
                        pos,
                        bytes: inner.result(),
                    })
                    .is_break()
                    {
                        return Err(ScanErr::Stop);
                    }
                }
            }
        }
    }

    /// Copies one value (the next byte is its first) into `out`.
    fn scan_value(&mut self, out: &mut Buf) -> Result<(), ScanErr> {
        match self.peek()?.ok_or(EOF)? {
            b'"' => self.scan_string(out),
            b'{' | b'[' => self.scan_nested(out),
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => loop {
                let chunk = self.input.fill_buf()?;
                let n = chunk
                    .iter()
                    .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.')))
                    .unwrap_or(chunk.len());
                out.extend(&chunk[..n]);
                let ended = n < chunk.len() || chunk.is_empty();
                self.consume(n);
                if n > 0 {
                    self.at_line_start = false;
                }
                if ended {
                    return Ok(());
                }
            },
            _ => Err(ScanErr::Syntax("unexpected character")),
        }
    }

    /// Copies a string (the next byte is its `"`) into `out`, escapes included.
    fn scan_string(&mut self, out: &mut Buf) -> Result<(), ScanErr> {
        // Nearly every string is whole in the buffer: copy it at once.
        let chunk = self.input.fill_buf()?;
        if let Some(end) = string_end(chunk) {
            out.extend(&chunk[..end]);
            self.consume(end);
            self.at_line_start = false;
            return Ok(());
        }
        self.bump();
        out.push(b'"');
        loop {
            let (used, stop) = {
                let chunk = self.input.fill_buf()?;
                if chunk.is_empty() {
                    return Err(EOF);
                }
                match memchr::memchr3(b'"', b'\\', b'\n', chunk) {
                    None => {
                        out.extend(chunk);
                        (chunk.len(), None)
                    }
                    Some(i) => {
                        out.extend(&chunk[..i]);
                        (i, Some(chunk[i]))
                    }
                }
            };
            self.consume(used);
            match stop {
                None => {}
                Some(b'"') => {
                    self.bump();
                    out.push(b'"');
                    return Ok(());
                }
                Some(b'\\') => {
                    self.bump();
                    out.push(b'\\');
                    match self.peek()? {
                        None => return Err(EOF),
                        Some(b'\n') => {
                            return Err(ScanErr::Syntax("line break inside a string"));
                        }
                        Some(b) => {
                            out.push(b);
                            self.bump();
                        }
                    }
                }
                Some(_) => return Err(ScanErr::Syntax("line break inside a string")),
            }
        }
    }

    /// Copies an object or array (the next byte is its `{` or `[`) into `out`, dropping blanks
    /// outside strings.
    ///
    /// The bytes between blanks are copied in runs, strings whole in the buffer included (in
    /// compact JSON a buffer's worth of the record is one copy); a string cut by the end of
    /// the buffer, or with a line break in it, goes to [`Self::scan_string`].
    fn scan_nested(&mut self, out: &mut Buf) -> Result<(), ScanErr> {
        self.stack.clear();
        loop {
            let mut done = false;
            let mut string_next = false;
            let mut err = None;
            let used = {
                let chunk = self.input.fill_buf()?;
                if chunk.is_empty() {
                    return Err(EOF);
                }
                let mut i = 0;
                // The first byte not yet copied into `out`.
                let mut run = 0;
                while i < chunk.len() {
                    let b = chunk[i];
                    match b {
                        b'"' => match string_end(&chunk[i..]) {
                            Some(end) => {
                                i += end;
                                continue;
                            }
                            None => {
                                string_next = true;
                                break;
                            }
                        },
                        b'{' | b'[' => {
                            self.stack.push(if b == b'{' { b'}' } else { b']' });
                            if self.stack.len() > MAX_DEPTH {
                                err = Some("nested too deeply");
                                break;
                            }
                        }
                        b'}' | b']' => {
                            if self.stack.pop() != Some(b) {
                                err = Some("brackets do not match");
                                break;
                            }
                            if self.stack.is_empty() {
                                done = true;
                                i += 1;
                                break;
                            }
                        }
                        b'\n' | b' ' | b'\t' | b'\r' => {
                            if b == b'\n' {
                                if self.strict_lines {
                                    err = Some(OPEN_AT_EOL);
                                    break;
                                }
                                self.newlines += 1;
                            }
                            out.extend(&chunk[run..i]);
                            run = i + 1;
                        }
                        _ => {}
                    }
                    i += 1;
                }
                out.extend(&chunk[run..i]);
                i
            };
            self.consume(used);
            if used > 0 {
                self.at_line_start = false;
            }
            if let Some(msg) = err {
                return Err(ScanErr::Syntax(msg));
            }
            if done {
                return Ok(());
            }
            if string_next {
                self.scan_string(out)?;
            }
        }
    }
}

/// The index just past the closing `"` of the string that opens at `chunk[0]`, when the whole
/// string (escapes included) is in `chunk` and holds no line break; `None` otherwise, for the
/// byte-by-byte path to read it (and report what is wrong with it).
fn string_end(chunk: &[u8]) -> Option<usize> {
    let mut i = 1;
    loop {
        let j = i + memchr::memchr3(b'"', b'\\', b'\n', chunk.get(i..)?)?;
        match chunk[j] {
            b'"' => return Some(j + 1),
            b'\\' => match chunk.get(j + 1) {
                Some(b'\n') | None => return None,
                Some(_) => i = j + 2,
            },
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(data: &str, wrappers: &[&str]) -> Vec<(u64, String)> {
        // A tiny buffer makes every chunk boundary case happen.
        let mut input = io::BufReader::with_capacity(3, data.as_bytes());
        let mut out = Vec::new();
        read_records(&mut input, wrappers, Layout::Any, &mut |rec| {
            out.push((
                rec.pos.line,
                match rec.bytes {
                    Ok(b) => String::from_utf8(b.to_vec()).unwrap(),
                    Err(e) => format!("ERR {e}"),
                },
            ));
            Flow::Continue(())
        })
        .unwrap();
        out
    }

    /// Every record's position and bytes (or error), read through a buffer of `cap` bytes, or
    /// from one slice (where nearly every string is copied whole) when `cap` is `None`.
    fn split_through(data: &str, wrappers: &[&str], cap: Option<usize>) -> Vec<String> {
        let mut whole = data.as_bytes();
        let mut small = io::BufReader::with_capacity(cap.unwrap_or(1), data.as_bytes());
        let input: &mut dyn BufRead = if cap.is_some() {
            &mut small
        } else {
            &mut whole
        };
        let mut out = Vec::new();
        read_records(input, wrappers, Layout::Any, &mut |rec| {
            out.push(format!(
                "{} {}-{} {}",
                rec.pos.line,
                rec.pos.start,
                rec.pos.end,
                match rec.bytes {
                    Ok(b) => String::from_utf8_lossy(b).into_owned(),
                    Err(e) => format!("ERR {e}"),
                }
            ));
            Flow::Continue(())
        })
        .unwrap();
        out
    }

    #[test]
    fn whole_buffer_and_byte_by_byte_paths_agree() {
        let docs = [
            "{\"a\": \"x\\\"y\\\\\", \"b\": [1, -2.5e+3, true, null, {\"c\": \"\\u00e5\"}]}\n{\"d\":\"\"}\n",
            "{\"a\":\"cut\n{\"b\":\"esc at end\\\n{\"c\":[\"x\\\ny\"]}\n{\"d\":12}\n",
            "[\n {\"k\": \"v w\",\n  \"n\": [ 1 , 2 ]},\n {\"s\": \"}]\"}\n]\n",
            "{\"value\": [{\"id\": \"1\"}, {\"id\": \"2\\\"\"}], \"next\": \"z\"}\n",
            "{\"a\": [1, 2}\n{\"b\": tru\n{\"c\": \"unterminated",
            "{\"a\": \"\\",
            "{\"a\": 1}",
        ];
        for doc in docs {
            let want = split_through(doc, &["value"], None);
            for cap in 1..=doc.len() + 1 {
                assert_eq!(
                    split_through(doc, &["value"], Some(cap)),
                    want,
                    "{doc:?}, buffer of {cap}"
                );
            }
        }
    }

    /// A mapping that says what it was given: the record's keys, or why it was not read.
    struct Keys;

    impl JsonRecords for Keys {
        fn wrappers(&self) -> &'static [&'static str] {
            &["value"]
        }

        fn map_record(&self, raw: RawRecord<'_>, emit: &mut dyn FnMut(Record<'_>) -> Flow) -> Flow {
            map_object(raw, "test", emit, |obj, out| {
                let keys: Vec<&str> = obj.keys_where(|_| true).collect();
                out.push(Item::Unmapped(keys.join(",")));
                Ok(None)
            })
        }
    }

    /// Each record as `emit` sees it: position, key and items.
    fn shown(record: Record<'_>) -> String {
        format!("{:?} {:?} {:?}", record.pos, record.key(), record.items)
    }

    proptest::proptest! {
        /// The records of a file split into runs (cut after every `every` records) and mapped
        /// run by run, as a scan on several threads maps them, are those of the file read
        /// at once: the same positions, keys, items and reasons.
        #[test]
        fn runs_map_to_what_reading_at_once_gives(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "{\"a\":1}", "{\"s\":\"x]{\\\"é\"}", "[", "]", ",", "\n", " ",
                    "{\"value\":[", "}", "oops", "{\"b\":[}", "\"", "{\"c\": \"cut\n", "∑",
                ]),
                0..40,
            ),
            every in 1usize..5,
        ) {
            let doc = parts.concat();
            let mut want = Vec::new();
            read_json(&Keys, &mut doc.as_bytes(), Layout::Any, &mut |r| {
                want.push(shown(r));
                Flow::Continue(())
            })
            .unwrap();
            let mut runs = vec![Run::default()];
            read_records(&mut doc.as_bytes(), Keys.wrappers(), Layout::Any, &mut |raw| {
                let run = runs.last_mut().unwrap();
                run.push(raw);
                if run.len() >= every {
                    runs.push(Run::default());
                }
                Flow::Continue(())
            })
            .unwrap();
            let mut got = Vec::new();
            for run in &runs {
                let _ = map_run(&Keys, run, &mut |r| {
                    got.push(shown(r));
                    Flow::Continue(())
                });
            }
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn ndjson_lines() {
        let got = split("{\"a\": 1}\n\n{\"b\": [1, {\"c\": \"x}\\\"\"}]}\r\n", &[]);
        assert_eq!(
            got,
            vec![
                (1, "{\"a\":1}".to_string()),
                (3, "{\"b\":[1,{\"c\":\"x}\\\"\"}]}".to_string())
            ]
        );
    }

    #[test]
    fn arrays_and_wrappers_stream_elements() {
        let got = split("\u{feff}[\n {\"a\":1},\n {\"b\":2}\n]\n", &[]);
        assert_eq!(got, vec![(2, "{\"a\":1}".into()), (3, "{\"b\":2}".into())]);
        let doc = "{\n \"@odata.context\": \"x\",\n \"value\": [\n  {\"id\": \"1\"},\n  {\"id\": \"2\"}\n ],\n \"@odata.nextLink\": \"y\"\n}\n";
        let got = split(doc, &["value"]);
        assert_eq!(
            got,
            vec![(4, "{\"id\":\"1\"}".into()), (5, "{\"id\":\"2\"}".into())]
        );
        // Without the wrapper key the whole object is one record.
        let got = split(doc, &["objects"]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0, 1);
    }

    #[test]
    fn pretty_objects_one_after_another() {
        let got = split("{\n  \"a\": 1\n}\n{\n  \"b\": 2\n}\n", &[]);
        assert_eq!(got, vec![(1, "{\"a\":1}".into()), (4, "{\"b\":2}".into())]);
    }

    #[test]
    fn truncated_ndjson_line_does_not_swallow_the_next() {
        let got = split(
            "{\"a\":1}\n{\"b\":\"cut\n{\"c\":3}\n{\"d\":[1,\n{\"e\":5}\n",
            &[],
        );
        assert_eq!(got[0], (1, "{\"a\":1}".into()));
        assert_eq!(got[1].0, 2);
        assert!(
            got[1]
                .1
                .starts_with("ERR malformed JSON (line break inside a string)")
        );
        assert_eq!(got[2], (3, "{\"c\":3}".into()));
        assert_eq!(got[3].0, 4);
        assert!(
            got[3].1.contains("record does not end on its line"),
            "{:?}",
            got[3]
        );
        assert_eq!(got[4], (5, "{\"e\":5}".into()));
    }

    #[test]
    fn garbage_and_mismatched_brackets() {
        let got = split("oops\n{\"a\":1}\n{\"b\":[}\n{\"c\":1}\n", &[]);
        assert!(got[0].1.starts_with("ERR"), "{got:?}");
        assert_eq!(got[1], (2, "{\"a\":1}".into()));
        assert!(got[2].1.contains("brackets do not match"));
        assert_eq!(got[3], (4, "{\"c\":1}".into()));
        let got = split("[{\"a\":1},\n{\"b\":", &[]);
        assert_eq!(got[0], (1, "{\"a\":1}".into()));
        assert_eq!(got[1].0, 2);
        assert!(got[1].1.contains("unexpected end of file"));
    }

    #[test]
    fn balanced_but_invalid_record_is_passed_on_for_the_parser_to_reject() {
        let got = split("{\"a\" 1}\n{\"b\":2}\n", &[]);
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], (2, "{\"b\":2}".into()));
    }

    #[test]
    fn positions_cover_each_record_and_stop_is_honoured() {
        let data = "{\"a\":1}\n[ {\"b\":2} , {\"c\":3} ]\n";
        let mut input = io::BufReader::with_capacity(3, data.as_bytes());
        let mut got = Vec::new();
        read_records(&mut input, &[], Layout::Any, &mut |rec| {
            got.push((rec.pos.line, rec.pos.start, rec.pos.end));
            Flow::Continue(())
        })
        .unwrap();
        assert_eq!(got, [(1, 0, 7), (2, 10, 17), (2, 20, 27)]);
        let (a, b) = (got[1].1 as usize, got[1].2 as usize);
        assert_eq!(&data[a..b], "{\"b\":2}");
        let mut n = 0;
        let mut input = io::BufReader::new(data.as_bytes());
        read_records(&mut input, &[], Layout::Any, &mut |_| {
            n += 1;
            Flow::Break(())
        })
        .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn oversized_record_is_skipped() {
        let big = "x".repeat(MAX_RECORD + 10);
        let data = format!("{{\"a\":\"{big}\"}}\n{{\"b\":2}}\n");
        let mut input = io::BufReader::new(data.as_bytes());
        let mut out = Vec::new();
        read_records(&mut input, &[], Layout::Any, &mut |rec| {
            out.push((
                rec.pos.line,
                rec.bytes.map(|b| b.len()).map_err(|e| e.to_string()),
            ));
            Flow::Continue(())
        })
        .unwrap();
        assert_eq!(out.len(), 2);
        assert!(out[0].1.as_ref().unwrap_err().contains("longer than"));
        assert_eq!(out[1], (2, Ok(7)));
    }
}
