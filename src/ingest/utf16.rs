//! Streaming UTF-16 to UTF-8, for exports saved as UTF-16 with a BOM: Excel's "Unicode text"
//! (tab separated), and Windows PowerShell 5.1's `>` / `Out-File`, whose default encoding is
//! UTF-16 LE. The BOM is dropped; an unpaired surrogate or an odd last byte becomes U+FFFD, as
//! `String::from_utf16_lossy` does. Memory is two fixed buffers, whatever the file's size.

use std::io::{self, BufRead, Read};

/// The byte-order mark of UTF-16 little-endian (`FF FE`) or big-endian (`FE FF`) at the start
/// of `head`: `Some(big_endian)`. A UTF-32 LE BOM (`FF FE 00 00`) is not taken for one.
pub fn bom(head: &[u8]) -> Option<bool> {
    match head {
        [0xFF, 0xFE, 0, 0, ..] => None,
        [0xFF, 0xFE, ..] => Some(false),
        [0xFE, 0xFF, ..] => Some(true),
        _ => None,
    }
}

/// Reads UTF-16 from `inner` (positioned after the BOM) and gives UTF-8.
pub struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    /// The odd byte left over from the last read.
    carry: Option<u8>,
    /// A high surrogate waiting for its low half.
    high: Option<u16>,
    out: Vec<u8>,
    at: usize,
    eof: bool,
}

const RAW: usize = 32 * 1024;

impl<R: Read> Utf16Reader<R> {
    pub fn new(inner: R, big_endian: bool) -> Utf16Reader<R> {
        Utf16Reader {
            inner,
            big_endian,
            raw: vec![0; RAW],
            carry: None,
            high: None,
            out: Vec::with_capacity(RAW * 3 / 2 + 8),
            at: 0,
            eof: false,
        }
    }

    fn push(&mut self, c: char) {
        let mut b = [0u8; 4];
        self.out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
    }

    fn unit(&mut self, u: u16) {
        if let Some(high) = self.high.take() {
            if (0xDC00..0xE000).contains(&u) {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(u) - 0xDC00);
                self.push(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
                return;
            }
            self.push(char::REPLACEMENT_CHARACTER);
        }
        match u {
            0xD800..0xDC00 => self.high = Some(u),
            0xDC00..0xE000 => self.push(char::REPLACEMENT_CHARACTER),
            _ => self.push(char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER)),
        }
    }

    /// Decodes the next piece of input into `out`; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        self.out.clear();
        self.at = 0;
        while self.out.is_empty() {
            if self.eof {
                return Ok(false);
            }
            let start = usize::from(self.carry.is_some());
            if let Some(b) = self.carry.take() {
                self.raw[0] = b;
            }
            let n = loop {
                match self.inner.read(&mut self.raw[start..]) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            };
            let len = start + n;
            if n == 0 {
                self.eof = true;
                if self.high.take().is_some() || len == 1 {
                    self.push(char::REPLACEMENT_CHARACTER);
                }
                continue;
            }
            let pairs = len / 2;
            for i in 0..pairs {
                let pair = [self.raw[2 * i], self.raw[2 * i + 1]];
                let u = if self.big_endian {
                    u16::from_be_bytes(pair)
                } else {
                    u16::from_le_bytes(pair)
                };
                self.unit(u);
            }
            if len % 2 == 1 {
                self.carry = Some(self.raw[len - 1]);
            }
        }
        Ok(true)
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let avail = self.fill_buf()?;
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: Read> BufRead for Utf16Reader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at >= self.out.len() && !self.refill()? {
            return Ok(&[]);
        }
        Ok(&self.out[self.at..])
    }

    fn consume(&mut self, amt: usize) {
        self.at = (self.at + amt).min(self.out.len());
    }
}

/// The UTF-8 of the first bytes of a UTF-16 file (BOM included), for recognising its format.
pub fn decode_head(head: &[u8]) -> Option<Vec<u8>> {
    let big_endian = bom(head)?;
    let mut out = Vec::new();
    Utf16Reader::new(&head[2..], big_endian)
        .read_to_end(&mut out)
        .ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(text: &str, big_endian: bool) -> Vec<u8> {
        let mut out = if big_endian {
            vec![0xFE, 0xFF]
        } else {
            vec![0xFF, 0xFE]
        };
        for u in text.encode_utf16() {
            out.extend_from_slice(&if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            });
        }
        out
    }

    #[test]
    fn decodes_both_byte_orders_at_every_read_size() {
        let text = "RecordId\tAuditData\r\nå ä ö 😀 \"x\"\n";
        for be in [false, true] {
            let bytes = encode(text, be);
            assert_eq!(bom(&bytes), Some(be));
            for cap in [1, 2, 3, 7, 64] {
                let r = Utf16Reader::new(io::BufReader::with_capacity(cap, &bytes[2..]), be);
                let mut out = String::new();
                io::BufReader::with_capacity(cap, r)
                    .read_to_string(&mut out)
                    .unwrap();
                assert_eq!(out, text, "capacity {cap}");
            }
        }
        assert_eq!(decode_head(&encode("ab", false)).unwrap(), b"ab");
        assert_eq!(bom(b"\xFF\xFE\0\0"), None, "UTF-32");
        assert_eq!(bom(b"ab"), None);
    }

    #[test]
    fn broken_input_gives_replacement_characters_not_errors() {
        // A lone high surrogate, a lone low one, an odd last byte.
        let bytes = [0x00, 0xD8, 0x41, 0x00, 0x00, 0xDC, 0x42];
        let mut out = String::new();
        Utf16Reader::new(&bytes[..], false)
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, "\u{FFFD}A\u{FFFD}\u{FFFD}");
    }
}
