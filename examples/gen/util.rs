//! Small tools of the generator: a seeded PRNG (splitmix64), hashing for derived ids, and
//! writers that append numbers, times and ids to a byte buffer without allocating.

/// splitmix64: tiny, fast, and good enough for synthetic data. Deterministic for a seed on
/// every platform (integer arithmetic only).
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        finalize(self.0)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `p` (0..=1).
    pub fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64) * (1.0 / (1u64 << 53) as f64) < p
    }

    /// True with probability `per_mille` / 1000.
    pub fn per_mille(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// The splitmix64 output function: a good 64-bit mixer.
pub fn finalize(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A hash of two values, for ids derived from (meeting, event) and the like.
pub fn mix(a: u64, b: u64) -> u64 {
    finalize(a ^ finalize(b.wrapping_add(0x632B_E59B_D9B4_E019)))
}

/// Appends `n` in decimal.
pub fn put_u64(buf: &mut Vec<u8>, mut n: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `n` in decimal, zero-padded to `width` digits.
pub fn put_pad(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    let mut n = n;
    while n > 0 {
        i -= 1;
        tmp[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    let start = tmp.len() - width.max(tmp.len() - i);
    buf.extend_from_slice(&tmp[start..]);
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const LETTERS: &[u8; 6] = b"abcdef";

/// Appends `len` hex characters from `h` (and further hashes of it). Every fourth character is
/// a letter, so an id never holds a run of digits that could read as an identity number.
pub fn put_hex(buf: &mut Vec<u8>, seed: u64, len: usize) {
    let (mut h, mut round) = (seed, 0u64);
    let mut bits = 64;
    for i in 0..len {
        if bits < 4 {
            round += 1;
            h = mix(seed, round);
            bits = 64;
        }
        let nib = (h & 0xF) as usize;
        h >>= 4;
        bits -= 4;
        buf.push(if i % 4 == 3 {
            LETTERS[nib % 6]
        } else {
            HEX[nib]
        });
    }
}

/// Appends a GUID-like id `8-4-4-4-12` derived from `h`.
pub fn put_guid(buf: &mut Vec<u8>, h: u64) {
    let h2 = finalize(h ^ 0x5555);
    put_hex(buf, h, 8);
    buf.push(b'-');
    put_hex(buf, h >> 32, 4);
    buf.extend_from_slice(b"-4");
    put_hex(buf, h2, 3);
    buf.extend_from_slice(b"-8");
    put_hex(buf, h2 >> 16, 3);
    buf.push(b'-');
    put_hex(buf, finalize(h2), 12);
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends `len` base64-alphabet characters from `h`; every fourth is a letter.
pub fn put_b64(buf: &mut Vec<u8>, seed: u64, len: usize, url_safe: bool) {
    let (mut h, mut round) = (seed, 0u64);
    let mut bits = 64;
    for i in 0..len {
        if bits < 6 {
            round += 1;
            h = mix(seed, round);
            bits = 64;
        }
        let v = (h & 63) as usize;
        h >>= 6;
        bits -= 6;
        let c = if i % 4 == 3 { B64[v % 52] } else { B64[v] };
        buf.push(match (url_safe, c) {
            (true, b'+') => b'-',
            (true, b'/') => b'_',
            _ => c,
        });
    }
}

/// Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days since 1970-01-01 of a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// How a time is written.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    /// `2024-05-02T09:00:00Z`
    Z,
    /// `2024-05-02T09:00:00.123Z`
    ZMillis,
    /// `2024-05-02T09:00:00` (Teams audit: UTC without a zone)
    Naive,
    /// `2024-05-02T09:00:00.1230000Z ` (Purview's CreationDate column, trailing blank)
    Purview,
}

/// Appends the UTC time `ms` (milliseconds since the epoch) in `style`.
pub fn put_time(buf: &mut Vec<u8>, ms: i64, style: TimeStyle) {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000) as u64;
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u64;
    put_pad(buf, y as u64, 4);
    buf.push(b'-');
    put_pad(buf, u64::from(mo), 2);
    buf.push(b'-');
    put_pad(buf, u64::from(d), 2);
    buf.push(b'T');
    put_pad(buf, sod / 3600, 2);
    buf.push(b':');
    put_pad(buf, sod / 60 % 60, 2);
    buf.push(b':');
    put_pad(buf, sod % 60, 2);
    match style {
        TimeStyle::Z => buf.push(b'Z'),
        TimeStyle::ZMillis => {
            buf.push(b'.');
            put_pad(buf, milli, 3);
            buf.push(b'Z');
        }
        TimeStyle::Naive => {}
        TimeStyle::Purview => {
            buf.push(b'.');
            put_pad(buf, milli, 3);
            buf.extend_from_slice(b"0000Z ");
        }
    }
}

/// Appends epoch seconds with three decimals (`1714640400.250`), as Pexip writes `time`.
pub fn put_epoch_secs(buf: &mut Vec<u8>, ms: i64) {
    put_u64(buf, ms.div_euclid(1000) as u64);
    buf.push(b'.');
    put_pad(buf, ms.rem_euclid(1000) as u64, 3);
}

/// Appends an ISO 8601 duration of whole seconds (`PT1H2M3S`, `PT10M`).
pub fn put_duration(buf: &mut Vec<u8>, secs: u64) {
    buf.extend_from_slice(b"PT");
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        put_u64(buf, h);
        buf.push(b'H');
    }
    if m > 0 {
        put_u64(buf, m);
        buf.push(b'M');
    }
    if s > 0 || secs == 0 {
        put_u64(buf, s);
        buf.push(b'S');
    }
}

/// Appends `s` with `"` doubled, for a quoted CSV cell.
pub fn put_csv_escaped(buf: &mut Vec<u8>, s: &[u8]) {
    let mut rest = s;
    while let Some(i) = rest.iter().position(|&b| b == b'"') {
        buf.extend_from_slice(&rest[..=i]);
        buf.push(b'"');
        rest = &rest[i + 1..];
    }
    buf.extend_from_slice(rest);
}

/// `Åsa Öberg` → `asa.oberg`-style ASCII for e-mail addresses.
pub fn ascii_fold(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            'å' | 'ä' | 'Å' | 'Ä' | 'á' | 'à' => Some('a'),
            'ö' | 'Ö' | 'ø' => Some('o'),
            'é' | 'è' | 'É' => Some('e'),
            'ü' => Some('u'),
            ' ' => Some('.'),
            '-' => Some('-'),
            c if c.is_ascii_alphabetic() => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}
