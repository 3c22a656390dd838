//! Validation of Swedish personal identity numbers: personnummer and samordningsnummer.
//!
//! Both are `YYMMDD-NNNC` (or `YYYYMMDDNNNC`): a birth date, a three-digit serial (001-999) and a check
//! digit computed with the Luhn (modulus 10, weights 2-1) method over the ten-digit form. A
//! samordningsnummer has the day of birth plus 60. Sources: Skatteverket, Rättslig vägledning
//! "Personnummer"; folkbokföringslagen 18 §; see `../shared/research/pii.md` §4.1-4.2.

/// Which kind of identity number a valid candidate is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Personnummer,
    Samordningsnummer,
}

/// Luhn check over digit values (0-9), weights 2,1,2,1,... from the left, as Skatteverket
/// defines it for the ten-digit form.
pub fn luhn_ok(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().enumerate() {
        let mut v = u32::from(d) * if i % 2 == 0 { 2 } else { 1 };
        if v > 9 {
            v -= 9;
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

/// True when `year-month-day` is a real calendar date (leap years included).
pub fn date_exists(year: u32, month: u32, day: u32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Validates a twelve-digit number `YYYYMMDDNNNC` (digit values, not ASCII). The century must
/// be 18, 19 or 20.
pub fn validate_12(d: &[u8; 12]) -> Option<IdKind> {
    validate_12_until(d, u32::MAX)
}

/// Like [`validate_12`], and the year of birth must not be after `max_year` (nobody is born in
/// the future, so an order number starting with `2099` is no personnummer).
pub fn validate_12_until(d: &[u8; 12], max_year: u32) -> Option<IdKind> {
    let century = u32::from(d[0]) * 10 + u32::from(d[1]);
    if !(18..=20).contains(&century) {
        return None;
    }
    let year = century * 100 + u32::from(d[2]) * 10 + u32::from(d[3]);
    if year > max_year {
        return None;
    }
    let ten: [u8; 10] = d[2..].try_into().ok()?;
    validate_with_years(&ten, &[year])
}

/// Validates a ten-digit number `YYMMDDNNNC` (digit values). The century is not written, so the
/// date must exist in one of the centuries the separator allows: `-` (or none) means the person
/// is under 100, so 19YY or 20YY; `plus` (written `YYMMDD+NNNC`, the person is 100 or older)
/// means 18YY or 19YY.
pub fn validate_10(d: &[u8; 10], plus: bool) -> Option<IdKind> {
    validate_10_until(d, plus, u32::MAX)
}

/// Like [`validate_10`], leaving out centuries that would put the birth after `max_year`.
pub fn validate_10_until(d: &[u8; 10], plus: bool, max_year: u32) -> Option<IdKind> {
    let yy = u32::from(d[0]) * 10 + u32::from(d[1]);
    let centuries: [u32; 2] = if plus { [1800, 1900] } else { [1900, 2000] };
    let mut years = [0u32; 2];
    let mut n = 0;
    for c in centuries {
        if c + yy <= max_year {
            years[n] = c + yy;
            n += 1;
        }
    }
    validate_with_years(d, &years[..n])
}

fn validate_with_years(d: &[u8; 10], years: &[u32]) -> Option<IdKind> {
    // The födelsenummer (serial) runs 001-999.
    if years.is_empty() || d[6..9] == [0, 0, 0] || !luhn_ok(d) {
        return None;
    }
    let month = u32::from(d[2]) * 10 + u32::from(d[3]);
    let day = u32::from(d[4]) * 10 + u32::from(d[5]);
    let (day, kind) = if day > 60 {
        (day - 60, IdKind::Samordningsnummer)
    } else {
        (day, IdKind::Personnummer)
    };
    years
        .iter()
        .any(|&y| date_exists(y, month, day))
        .then_some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits<const N: usize>(s: &str) -> [u8; N] {
        let v: Vec<u8> = s.bytes().map(|b| b - b'0').collect();
        v.try_into().unwrap()
    }

    #[test]
    fn luhn_known_values() {
        // Skatteverket's test number 861208-2399 and the samordningsnummer 701063-2391.
        assert!(luhn_ok(&digits::<10>("8612082399")));
        assert!(luhn_ok(&digits::<10>("7010632391")));
        assert!(!luhn_ok(&digits::<10>("8612082398")));
    }

    #[test]
    fn ten_and_twelve_digit_forms() {
        assert_eq!(
            validate_10(&digits("8612082399"), false),
            Some(IdKind::Personnummer)
        );
        assert_eq!(
            validate_12(&digits("198612082399")),
            Some(IdKind::Personnummer)
        );
        assert_eq!(
            validate_10(&digits("7010632391"), false),
            Some(IdKind::Samordningsnummer)
        );
        // Wrong century.
        assert_eq!(validate_12(&digits("218612082399")), None);
    }

    #[test]
    fn impossible_dates_are_rejected() {
        // 1981-02-30 does not exist; find the check digit that makes Luhn pass and still reject.
        for c in 0..10u8 {
            let mut d = digits::<10>("8102301230");
            d[9] = c;
            assert_eq!(validate_10(&d, false), None);
        }
        assert!(date_exists(2000, 2, 29));
        assert!(!date_exists(1900, 2, 29));
        assert!(date_exists(2024, 2, 29));
        assert!(!date_exists(2023, 2, 29));
        assert!(!date_exists(2023, 13, 1));
        assert!(!date_exists(2023, 4, 31));
        assert!(!date_exists(2023, 1, 0));
    }

    #[test]
    fn leap_day_depends_on_century() {
        // 000229: 2000-02-29 exists. With the right check digit it is valid.
        let valid = (0..10u8)
            .map(|c| {
                let mut d = digits::<10>("0002291230");
                d[9] = c;
                d
            })
            .find(|d| luhn_ok(d))
            .unwrap();
        assert_eq!(validate_10(&valid, false), Some(IdKind::Personnummer));
        let mut twelve = [0u8; 12];
        twelve[0] = 1;
        twelve[1] = 9;
        twelve[2..].copy_from_slice(&valid);
        // 1900-02-29 does not exist.
        assert_eq!(validate_12(&twelve), None);
    }
}
