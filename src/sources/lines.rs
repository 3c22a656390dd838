//! Line-by-line reading with a bound on line length, shared by the line-oriented adapters.

use std::io::{self, BufRead};

use super::Position;

/// The longest line an adapter accepts. A longer line is rejected (and skipped) instead of
/// being held in memory.
pub const MAX_LINE: usize = 4 * 1024 * 1024;

/// The number of line ends in `bytes` as [`LineReader`] counts them: `\n`, `\r\n`, and a
/// `\r` alone (one not followed by `\n` within `bytes`).
pub fn count_line_ends(bytes: &[u8]) -> u64 {
    let mut n = 0;
    for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        if bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n') {
            n += 1;
        }
    }
    n
}

/// One line read by [`LineReader`].
pub enum Line<'a> {
    /// The line's bytes without the line ending (`\n` or `\r\n`); the first line's UTF-8 BOM is
    /// removed too.
    Text(&'a [u8]),
    /// The line was longer than [`MAX_LINE`]; it was read to its end and dropped.
    TooLong,
}

/// Reads lines from a `BufRead` into a reused buffer, so memory stays bounded by the longest
/// accepted line whatever the file's size.
pub struct LineReader {
    buf: Vec<u8>,
    number: u64,
    /// Bytes consumed so far.
    offset: u64,
    /// Whether the input is the start of a file (its first line may begin with a BOM).
    file_start: bool,
}

impl Default for LineReader {
    fn default() -> Self {
        Self::new()
    }
}

impl LineReader {
    pub fn new() -> LineReader {
        LineReader {
            buf: Vec::new(),
            number: 0,
            offset: 0,
            file_start: true,
        }
    }

    /// A reader of lines from the middle of a file: no BOM is stripped.
    pub fn continuing() -> LineReader {
        LineReader {
            file_start: false,
            ..LineReader::new()
        }
    }

    /// Reads the next line. Returns its position (number from 1, first byte, the byte after its
    /// line end) and content, or `None` at the end.
    pub fn next<'a>(
        &'a mut self,
        input: &mut dyn BufRead,
    ) -> io::Result<Option<(Position, Line<'a>)>> {
        self.buf.clear();
        let start = self.offset;
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = input.fill_buf()?;
            if chunk.is_empty() {
                break;
            }
            any = true;
            // A line ends at `\n`, `\r\n`, or a `\r` alone (files from old Mac tools): a lone
            // `\r` must not make a whole file one line.
            let (take, done, cr) = match memchr::memchr2(b'\n', b'\r', chunk) {
                Some(i) if chunk[i] == b'\n' => (i + 1, true, false),
                Some(i) if chunk.get(i + 1) == Some(&b'\n') => (i + 2, true, false),
                Some(i) => (i + 1, true, i + 1 == chunk.len()),
                None => (chunk.len(), false, false),
            };
            if !too_long {
                if self.buf.len() + take > MAX_LINE + 2 {
                    too_long = true;
                    self.buf.clear();
                } else {
                    self.buf.extend_from_slice(&chunk[..take]);
                }
            }
            input.consume(take);
            self.offset += take as u64;
            if cr {
                // The `\r` ended the buffer: its `\n`, if any, is in the next one.
                if input.fill_buf()?.first() == Some(&b'\n') {
                    if !too_long {
                        self.buf.push(b'\n');
                    }
                    input.consume(1);
                    self.offset += 1;
                }
            }
            if done {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        let pos = Position {
            line: self.number,
            start,
            end: self.offset,
        };
        if too_long {
            return Ok(Some((pos, Line::TooLong)));
        }
        let mut line = self.buf.as_slice();
        if let Some(rest) = line.strip_suffix(b"\n") {
            line = rest;
        }
        if let Some(rest) = line.strip_suffix(b"\r") {
            line = rest;
        }
        if self.number == 1
            && self.file_start
            && let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF")
        {
            line = rest;
        }
        Ok(Some((pos, Line::Text(line))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(data: &[u8]) -> Vec<(u64, Option<Vec<u8>>)> {
        let mut r = LineReader::new();
        let mut input = io::BufReader::with_capacity(16, data);
        let mut out = Vec::new();
        while let Some((pos, line)) = r.next(&mut input).unwrap() {
            out.push((
                pos.line,
                match line {
                    Line::Text(t) => Some(t.to_vec()),
                    Line::TooLong => None,
                },
            ));
        }
        out
    }

    #[test]
    fn a_lone_cr_ends_a_line_too_at_every_buffer_boundary() {
        let data = b"one\rtwo\r\nthree\n\rfive\r\r\nseven-is-longer\rlast";
        let want: Vec<&[u8]> = vec![
            b"one",
            b"two",
            b"three",
            b"",
            b"five",
            b"",
            b"seven-is-longer",
            b"last",
        ];
        for cap in 1..=data.len() + 1 {
            let mut r = LineReader::new();
            let mut input = io::BufReader::with_capacity(cap, &data[..]);
            let mut got = Vec::new();
            let mut end = 0;
            while let Some((pos, line)) = r.next(&mut input).unwrap() {
                assert_eq!(pos.start, end, "capacity {cap}");
                end = pos.end;
                match line {
                    Line::Text(t) => got.push(t.to_vec()),
                    Line::TooLong => panic!(),
                }
            }
            assert_eq!(end, data.len() as u64);
            assert_eq!(got, want, "capacity {cap}");
        }
    }

    #[test]
    fn splits_lines_strips_endings_and_bom() {
        let got = all(b"\xEF\xBB\xBFa\r\nbb\n\nlast");
        assert_eq!(
            got,
            vec![
                (1, Some(b"a".to_vec())),
                (2, Some(b"bb".to_vec())),
                (3, Some(vec![])),
                (4, Some(b"last".to_vec()))
            ]
        );
    }

    #[test]
    fn positions_are_byte_offsets_with_the_line_end() {
        let mut r = LineReader::new();
        let mut input = io::BufReader::with_capacity(3, &b"ab\r\n\ncde"[..]);
        let mut got = Vec::new();
        while let Some((pos, _)) = r.next(&mut input).unwrap() {
            got.push((pos.line, pos.start, pos.end));
        }
        assert_eq!(got, [(1, 0, 4), (2, 4, 5), (3, 5, 8)]);
    }

    #[test]
    fn overlong_line_is_dropped_and_numbering_continues() {
        let mut data = vec![b'x'; MAX_LINE + 10];
        data.extend_from_slice(b"\nok\n");
        let got = all(&data);
        assert_eq!(got, vec![(1, None), (2, Some(b"ok".to_vec()))]);
    }
}
