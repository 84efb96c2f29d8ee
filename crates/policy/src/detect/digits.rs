//! Helpers shared by the numeric validators.

/// The ASCII digits of `text` as values 0–9, skipping the separators `-`, ` `, `.`, `(`
/// and `)`. Returns `None` when any other byte occurs or more than `max` digits are present.
pub(crate) fn digits_of(text: &[u8], max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(max.min(32));
    for &b in text {
        match b {
            b'0'..=b'9' => {
                if out.len() == max {
                    return None;
                }
                out.push(b - b'0');
            }
            b'-' | b' ' | b'.' | b'(' | b')' | b'+' => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Whether the digit sequence passes the Luhn (mod 10) check.
pub(crate) fn luhn_valid(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The number formed by a short digit slice (at most 9 digits).
pub(crate) fn value(digits: &[u8]) -> u32 {
    digits
        .iter()
        .take(9)
        .fold(0, |acc, &d| acc * 10 + u32::from(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_luhn_valid_sequences() {
        assert!(luhn_valid(&digits_of(b"4539 1488 0343 6467", 19).unwrap()));
        assert!(luhn_valid(&[0]));
    }

    #[test]
    fn refuses_luhn_invalid_and_empty_sequences() {
        assert!(!luhn_valid(&digits_of(b"4539 1488 0343 6468", 19).unwrap()));
        assert!(!luhn_valid(&[]));
    }

    #[test]
    fn refuses_letters_and_too_many_digits() {
        assert!(digits_of(b"12a4", 9).is_none());
        assert!(digits_of(b"1234567890", 9).is_none());
    }
}
