//! CSV rows with a bound on their size, for the Teams audit CSV export.
//!
//! The `csv` crate's reader buffers a whole record whatever its size, so one cell of 100 MB
//! (an unclosed quote in a large file, or a hostile export) would be held in memory. This reader
//! drives `csv_core`'s parser (the one `csv` uses, with the same settings: `,`, `"` doubled
//! inside quotes, `\n`, `\r\n` or `\r` ending a row, blank lines skipped, a leading UTF-8 BOM
//! dropped) into buffers it grows only up to [`MAX_ROW`] bytes and [`MAX_FIELDS`] fields: a
//! larger row is read to its end, dropped as it goes, and reported as [`Row::TooLong`], like an
//! overlong NDJSON line ([`super::lines::MAX_LINE`]). Memory stays bounded by the largest
//! accepted row plus the input's buffer, whatever the file holds. A plain row whole in the
//! buffer is read without `csv_core`, by bulk searches and copies (`RowReader::quick_row`):
//! the same rows and positions, faster on the doubled quotes of an `AuditData` cell.

use std::io::{self, BufRead};

use csv_core::ReadRecordResult;

use super::Position;
use super::lines::MAX_LINE;

/// The largest row accepted, in bytes of its fields (quotes removed): as long as the longest
/// NDJSON line.
pub const MAX_ROW: usize = MAX_LINE;

/// The most fields a row may have. A Purview export has about a dozen columns; a row of
/// millions of empty fields (`,,,,`) is rejected instead of costing 8 bytes a field.
pub const MAX_FIELDS: usize = 4096;

/// One row read by [`RowReader`].
pub enum Row<'a> {
    /// The row's fields.
    Fields(Fields<'a>),
    /// The row had more than [`MAX_ROW`] bytes or [`MAX_FIELDS`] fields; it was read to its end
    /// and dropped.
    TooLong,
}

/// The fields of one row.
#[derive(Clone, Copy)]
pub struct Fields<'a> {
    data: &'a [u8],
    ends: &'a [usize],
}

impl<'a> Fields<'a> {
    /// The number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the row has no fields.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i`, or `None` past the last.
    pub fn get(&self, i: usize) -> Option<&'a [u8]> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.data.get(start..end)
    }

    /// Every field in order.
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }
}

/// Reads CSV rows from a `BufRead` into reused, bounded buffers.
pub struct RowReader {
    core: csv_core::Reader,
    fields: Vec<u8>,
    ends: Vec<usize>,
    /// Where an overlong row's bytes go while it is read to its end.
    scratch: Vec<u8>,
    scratch_ends: Vec<usize>,
    /// Bytes consumed so far.
    offset: u64,
    /// `\n` consumed so far.
    newlines: u64,
    /// Whether the start of the input was checked for a UTF-8 BOM.
    bom_checked: bool,
    /// Whether `core` has been given input.
    core_started: bool,
    /// The first bytes of the input when they began like a BOM but were not one: still to be
    /// parsed.
    pending: Vec<u8>,
    /// The separator between fields (what `core` was built with).
    delimiter: u8,
    /// Whether `core` is inside a row (an I/O error cut one): then only `core` may go on.
    mid_row: bool,
}

impl Default for RowReader {
    fn default() -> Self {
        Self::new()
    }
}

impl RowReader {
    pub fn new() -> RowReader {
        RowReader {
            core: csv_core::Reader::new(),
            fields: vec![0; 1024],
            ends: vec![0; 16],
            scratch: Vec::new(),
            scratch_ends: Vec::new(),
            offset: 0,
            newlines: 0,
            bom_checked: false,
            core_started: false,
            pending: Vec::new(),
            delimiter: b',',
            mid_row: false,
        }
    }

    /// Reads the rows after the one just read with `delimiter` between fields (`;` in a CSV
    /// saved by Excel with a Swedish locale, a tab in Excel's "Unicode text"). Called between
    /// rows, where the parser holds no state but the BOM it has dropped.
    pub fn set_delimiter(&mut self, delimiter: u8) {
        self.core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        self.delimiter = delimiter;
        // Fed one byte first again, so that a BOM starting the next row is data.
        self.core_started = false;
    }

    /// Reads the next row. Returns its position and fields, or `None` at the end. The
    /// position's `start` is where the previous row ended (blank lines before a row belong to
    /// it), its `line` the line (counting `\n`, from 1) of the row's first byte, and its `end`
    /// the byte after the row's terminator as far as the parser took it.
    pub fn next<'a>(
        &'a mut self,
        input: &mut dyn BufRead,
    ) -> io::Result<Option<(Position, Row<'a>)>> {
        if !self.bom_checked {
            self.skip_bom(input)?;
        }
        let start = self.offset;
        if self.core_started && self.pending.is_empty() && !self.mid_row {
            let chunk = input.fill_buf()?;
            if let Some(q) = self.quick_row(chunk) {
                let line = self.newlines + count_newlines(&chunk[..q.blank]) + 1;
                self.newlines += count_newlines(&chunk[..q.used]);
                input.consume(q.used);
                self.offset += q.used as u64;
                let pos = Position {
                    line,
                    start,
                    end: self.offset,
                };
                let fields = Fields {
                    data: &self.fields[..q.nout],
                    ends: &self.ends[..q.nend],
                };
                return Ok(Some((pos, Row::Fields(fields))));
            }
        }
        self.mid_row = true;
        let mut line = None;
        let mut too_long = false;
        let (mut nout, mut nend) = (0, 0);
        loop {
            let pending = std::mem::take(&mut self.pending);
            let from_pending = !pending.is_empty();
            let mut chunk: &[u8] = if from_pending {
                &pending
            } else {
                input.fill_buf()?
            };
            if !self.core_started && !chunk.is_empty() {
                // csv_core drops a BOM at the start of its first input of three bytes or more:
                // one byte first, so that a second BOM (after the one dropped above) is data,
                // however the input's buffer cuts it.
                chunk = &chunk[..1];
                self.core_started = true;
            }
            if line.is_none() {
                let blank = chunk
                    .iter()
                    .take_while(|&&b| b == b'\r' || b == b'\n')
                    .count();
                if blank < chunk.len() || chunk.is_empty() {
                    let before = memchr::memchr_iter(b'\n', &chunk[..blank]).count() as u64;
                    line = Some(self.newlines + before + 1);
                }
            }
            let (res, nin, o, e) = if too_long {
                self.core
                    .read_record(chunk, &mut self.scratch, &mut self.scratch_ends)
            } else {
                self.core
                    .read_record(chunk, &mut self.fields[nout..], &mut self.ends[nend..])
            };
            self.newlines += memchr::memchr_iter(b'\n', &chunk[..nin]).count() as u64;
            if from_pending {
                self.pending = pending[nin..].to_vec();
            } else {
                input.consume(nin);
            }
            self.offset += nin as u64;
            if !too_long {
                nout += o;
                nend += e;
            }
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull if too_long => {}
                ReadRecordResult::OutputFull => {
                    if self.fields.len() >= MAX_ROW {
                        too_long = true;
                        self.use_scratch();
                    } else {
                        let len = (self.fields.len() * 2).min(MAX_ROW);
                        self.fields.resize(len, 0);
                    }
                }
                ReadRecordResult::OutputEndsFull => {
                    if self.ends.len() >= MAX_FIELDS {
                        too_long = true;
                        self.use_scratch();
                    } else {
                        let len = (self.ends.len() * 2).min(MAX_FIELDS);
                        self.ends.resize(len, 0);
                    }
                }
                ReadRecordResult::Record => break,
                ReadRecordResult::End => {
                    self.mid_row = false;
                    return Ok(None);
                }
            }
        }
        self.mid_row = false;
        let pos = Position {
            line: line.unwrap_or(self.newlines + 1),
            start,
            end: self.offset,
        };
        if too_long {
            // Shrink back, so that one overlong row does not keep its buffers.
            self.fields.truncate(1024);
            self.fields.shrink_to_fit();
            self.ends.truncate(16);
            self.ends.shrink_to_fit();
            return Ok(Some((pos, Row::TooLong)));
        }
        Ok(Some((
            pos,
            Row::Fields(Fields {
                data: &self.fields[..nout],
                ends: &self.ends[..nend],
            }),
        )))
    }

    /// Drops a UTF-8 BOM at the start of the input, however the input's buffer cuts it
    /// (`csv_core` drops it only when its first input holds all three bytes).
    fn skip_bom(&mut self, input: &mut dyn BufRead) -> io::Result<()> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        self.bom_checked = true;
        let mut matched = 0;
        while matched < BOM.len() {
            match input.fill_buf()?.first() {
                Some(&b) if b == BOM[matched] => {
                    input.consume(1);
                    matched += 1;
                }
                _ => {
                    self.pending = BOM[..matched].to_vec();
                    return Ok(());
                }
            }
        }
        self.offset = BOM.len() as u64;
        Ok(())
    }

    /// The next row read without `csv_core`, when it is whole in `chunk` and plain: fields
    /// unquoted without a quote in them, or quoted with only doubled quotes inside and a
    /// separator or line end right after the closing quote; blank lines before it skipped, and
    /// its fields within the buffers as they are. `None` for anything else (a row cut by the
    /// buffer's end, the end of the input, a stray quote, a row larger than the buffers), which
    /// `csv_core` then reads from the same byte. The same rows, fields and positions as
    /// `csv_core` gives (`tests::the_quick_path_reads_what_csv_core_reads`): between rows
    /// `csv_core` drops line ends whatever its state, and it ends a row after the first byte of
    /// its line end, as this does. An `AuditData` cell has a doubled quote every few bytes,
    /// which cost `csv_core`'s byte-by-byte automaton 14 % of a Teams CSV scan's instructions.
    fn quick_row(&mut self, chunk: &[u8]) -> Option<Quick> {
        let blank = chunk
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        let (mut i, mut nout, mut nend) = (blank, 0, 0);
        loop {
            if *chunk.get(i)? == b'"' {
                i += 1;
                loop {
                    let q = i + memchr::memchr(b'"', &chunk[i..])?;
                    // Through the quote when it is doubled.
                    let doubled = *chunk.get(q + 1)? == b'"';
                    let end = if doubled { q + 1 } else { q };
                    let piece = &chunk[i..end];
                    self.fields
                        .get_mut(nout..nout + piece.len())?
                        .copy_from_slice(piece);
                    nout += piece.len();
                    if doubled {
                        i = q + 2;
                    } else {
                        i = q + 1;
                        break;
                    }
                }
            } else {
                let end = i + memchr::memchr3(self.delimiter, b'\r', b'\n', &chunk[i..])?;
                let field = &chunk[i..end];
                if memchr::memchr(b'"', field).is_some() {
                    return None;
                }
                self.fields
                    .get_mut(nout..nout + field.len())?
                    .copy_from_slice(field);
                nout += field.len();
                i = end;
            }
            *self.ends.get_mut(nend)? = nout;
            nend += 1;
            let after = *chunk.get(i)?;
            i += 1;
            if after == b'\r' || after == b'\n' {
                return Some(Quick {
                    used: i,
                    blank,
                    nout,
                    nend,
                });
            }
            if after != self.delimiter {
                return None;
            }
        }
    }

    fn use_scratch(&mut self) {
        if self.scratch.is_empty() {
            self.scratch = vec![0; 64 * 1024];
            self.scratch_ends = vec![0; 1024];
        }
    }
}

/// A row read by [`RowReader::quick_row`]: the bytes it took, the blank lines before it, and
/// the sizes of its fields' bytes and ends.
struct Quick {
    used: usize,
    blank: usize,
    nout: usize,
    nend: usize,
}

fn count_newlines(bytes: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', bytes).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row as the tests see it: line, start, end, fields (`None`: too long).
    type Seen = (u64, u64, u64, Option<Vec<Vec<u8>>>);

    /// Every row of `data` read with a buffer of `cap` bytes.
    fn rows(data: &[u8], cap: usize) -> Vec<Seen> {
        rows_then(data, cap, None)
    }

    /// The same, with the rows after the first read with `delimiter` when given (as after a
    /// header separated by `;`).
    fn rows_then(data: &[u8], cap: usize, delimiter: Option<u8>) -> Vec<Seen> {
        let mut r = RowReader::new();
        let mut input = io::BufReader::with_capacity(cap, data);
        let mut out = Vec::new();
        while let Some((pos, row)) = r.next(&mut input).unwrap() {
            out.push((
                pos.line,
                pos.start,
                pos.end,
                match row {
                    Row::Fields(f) => Some(f.iter().map(<[u8]>::to_vec).collect()),
                    Row::TooLong => None,
                },
            ));
            if let (1, Some(d)) = (out.len(), delimiter) {
                r.set_delimiter(d);
            }
        }
        out
    }

    /// What the `csv` crate reads from the same bytes, with the settings the adapter used.
    fn csv_crate(data: &[u8]) -> Vec<Vec<Vec<u8>>> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(data);
        reader
            .byte_records()
            .map(|r| r.unwrap().iter().map(<[u8]>::to_vec).collect())
            .collect()
    }

    #[test]
    fn reads_what_the_csv_crate_reads_at_every_buffer_size() {
        let data: &[u8] = b"\xEF\xBB\xBFa,b,\"c\"\"d\"\r\n\r\n\"x\ny\",,z\rlast,\"open";
        let want = csv_crate(data);
        for cap in 1..=data.len() + 1 {
            let got: Vec<_> = rows(data, cap).into_iter().map(|r| r.3.unwrap()).collect();
            assert_eq!(got, want, "capacity {cap}");
        }
        let got = rows(data, 7);
        let lines: Vec<u64> = got.iter().map(|r| r.0).collect();
        assert_eq!(lines, [1, 3, 4]);
        // Each row starts where the one before ended (the first after the BOM), and the last
        // ends at the end.
        let mut end = 3;
        for r in &got {
            assert_eq!(r.1, end);
            end = r.2;
        }
        assert_eq!(end, data.len() as u64);
    }

    proptest::proptest! {
        /// Rows of quotes, separators, line ends and text, read with a buffer large enough
        /// for the quick path and with buffers so small that `csv_core` reads nearly every
        /// row: the same rows and positions, and the `csv` crate's fields.
        #[test]
        fn the_quick_path_reads_what_csv_core_reads(
            picks in proptest::collection::vec(0u8..9, 0..200),
            semicolon in proptest::bool::ANY,
        ) {
            let data: Vec<u8> = picks
                .iter()
                .flat_map(|&p| match p {
                    0 => &b"\""[..],
                    1 => b"\"\"",
                    2 => b",",
                    3 => b"\n",
                    4 => b"\r\n",
                    5 => b"\r",
                    6 => b";",
                    7 => b"\"{\"\"a\"\":1}\"",
                    _ => b"ab",
                })
                .copied()
                .collect();
            let read = |cap| rows_then(&data, cap, semicolon.then_some(b';'));
            let big = read(8192);
            for cap in [1, 2, 3, 7] {
                proptest::prop_assert_eq!(&read(cap), &big, "capacity {}", cap);
            }
            if !semicolon {
                let fields: Vec<_> = big.into_iter().map(|r| r.3.unwrap()).collect();
                proptest::prop_assert_eq!(fields, csv_crate(&data));
            }
        }
    }

    #[test]
    fn only_the_first_bom_is_dropped_at_every_buffer_size() {
        // Found by the csv_reader fuzz target: csv_core dropped a second BOM when its first
        // input held three bytes.
        let data: &[u8] = b"\xEF\xBB\xBF\xEF\xBB\xBFa,b\n";
        for cap in 1..=data.len() + 1 {
            let got = rows(data, cap);
            assert_eq!(
                got[0].3,
                Some(vec![b"\xEF\xBB\xBFa".to_vec(), b"b".to_vec()]),
                "capacity {cap}"
            );
        }
    }

    #[test]
    fn an_overlong_cell_is_dropped_and_the_next_row_read() {
        let mut data = b"h1,h2\n1,\"".to_vec();
        data.extend(std::iter::repeat_n(b'x', MAX_ROW + 10));
        data.extend_from_slice(b"\"\n2,ok\n");
        let got = rows(&data, 8192);
        assert_eq!(got.len(), 3);
        assert_eq!(got[1].0, 2);
        assert!(got[1].3.is_none(), "the overlong row is dropped");
        assert_eq!(got[2].0, 3);
        assert_eq!(got[2].3, Some(vec![b"2".to_vec(), b"ok".to_vec()]));
    }

    #[test]
    fn too_many_fields_is_too_long() {
        let mut data = vec![b','; MAX_FIELDS + 1];
        data.extend_from_slice(b"\na,b\n");
        let got = rows(&data, 8192);
        assert!(got[0].3.is_none());
        assert_eq!(got[1].3, Some(vec![b"a".to_vec(), b"b".to_vec()]));
    }
}
