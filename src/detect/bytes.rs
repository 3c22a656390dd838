//! Byte scans eight bytes at a time (SWAR: plain `u64` arithmetic, no `unsafe`, no SIMD
//! intrinsics), for the two questions every text is asked first: where is the next ASCII digit
//! (most texts have none: the scan ends there), and where may a word start (the clinical-term
//! prefilter in [`super::keywords`]).
//!
//! Every mask below is exact per byte: the 7-bit value of a byte plus a constant below 0x80
//! never carries into the next byte, so no byte's answer depends on its neighbours.

/// `0x01` in every byte.
const LO: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte.
const HI: u64 = 0x8080_8080_8080_8080;

/// The eight bytes of `b` at `i` (which must have eight), little-endian: byte `i` is the low byte.
#[inline]
pub fn load8(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(w)
}

/// `0x80` in each byte of `x` (seven-bit values only, high bits clear) that lies in `lo..=hi`.
#[inline]
fn in_range7(x: u64, lo: u8, hi: u8) -> u64 {
    let ge_lo = x + LO * u64::from(0x80 - lo);
    let gt_hi = x + LO * u64::from(0x7F - hi);
    ge_lo & !gt_hi & HI
}

/// `0x80` in each byte of `x` that is an ASCII digit.
#[inline]
pub fn digits(x: u64) -> u64 {
    in_range7(x & !HI, b'0', b'9') & !x
}

/// `0x80` in each byte of `x` that is an ASCII letter or digit.
#[inline]
pub fn ascii_alnum(x: u64) -> u64 {
    let t = x & !HI;
    let letter = in_range7(t | (LO * 0x20), b'a', b'z');
    (letter | in_range7(t, b'0', b'9')) & !x
}

/// `0x80` in each byte of `x` that starts a multi-byte UTF-8 character (`0xC0` and above).
#[inline]
pub fn utf8_lead(x: u64) -> u64 {
    x & (x << 1) & HI
}

/// The position of the first ASCII digit in `b` at or after `from`.
#[inline]
pub fn next_digit(b: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 8 <= b.len() {
        let m = digits(load8(b, i));
        if m != 0 {
            return Some(i + (m.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?
        .iter()
        .position(u8::is_ascii_digit)
        .map(|k| i + k)
}

/// True when `b` holds an ASCII digit.
#[inline]
pub fn has_digit(b: &[u8]) -> bool {
    next_digit(b, 0).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_agree_with_the_byte_predicates() {
        // Every byte value in every lane, with neighbours that would carry if a lane leaked.
        for v in 0..=255u8 {
            for lane in 0..8 {
                for fill in [0x00u8, 0x2F, 0x39, 0x7F, 0x80, 0xFF] {
                    let mut w = [fill; 8];
                    w[lane] = v;
                    let x = u64::from_le_bytes(w);
                    let (d, a, l) = (digits(x), ascii_alnum(x), utf8_lead(x));
                    for (k, &c) in w.iter().enumerate() {
                        let bit = 0x80u64 << (8 * k);
                        assert_eq!(l & bit != 0, c >= 0xC0, "lead {c:#x}");
                        assert_eq!(d & bit != 0, c.is_ascii_digit(), "digit {c:#x}");
                        assert_eq!(a & bit != 0, c.is_ascii_alphanumeric(), "alnum {c:#x}");
                    }
                }
            }
        }
    }

    #[test]
    fn next_digit_everywhere() {
        for len in 0..40 {
            for at in 0..=len {
                let mut b = vec![b'x'; len];
                b.iter_mut().skip(3).step_by(5).for_each(|c| *c = 0xC3);
                if at < len {
                    b[at] = b'7';
                }
                for from in 0..=len {
                    let want = b[from..]
                        .iter()
                        .position(u8::is_ascii_digit)
                        .map(|k| from + k);
                    assert_eq!(next_digit(&b, from), want, "len {len} at {at} from {from}");
                }
                assert_eq!(has_digit(&b), at < len);
            }
        }
    }
}
