//! US (NANP) telephone numbers.

use super::digits::digits_of;

/// Whether `text` is a plausible 10-digit NANP number, optionally prefixed by 1 or +1.
///
/// Area codes start with 2–9 and are not N11 service codes; the exchange may start with
/// any digit except 0 (fictional 555 numbers are accepted: they are what people write).
pub fn is_valid_us_phone(text: &[u8]) -> bool {
    let Some(mut d) = digits_of(text, 11) else {
        return false;
    };
    if d.len() == 11 {
        if d.first() != Some(&1) {
            return false;
        }
        d.remove(0);
    }
    let [a, b, c, e, ..] = d.as_slice() else {
        return false;
    };
    d.len() == 10 && *a >= 2 && !(*b == 1 && *c == 1) && *e != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_common_us_formats() {
        assert!(is_valid_us_phone(b"(617) 555-0142"));
        assert!(is_valid_us_phone(b"617-555-0142"));
        assert!(is_valid_us_phone(b"+1 617.555.0142"));
    }

    #[test]
    fn refuses_invalid_area_codes_and_lengths() {
        assert!(!is_valid_us_phone(b"117-555-0142"));
        assert!(!is_valid_us_phone(b"411-555-0142"));
        assert!(!is_valid_us_phone(b"617-555-014"));
        assert!(!is_valid_us_phone(b"2-617-555-0142"));
    }
}
