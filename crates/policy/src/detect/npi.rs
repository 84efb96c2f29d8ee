//! National Provider Identifiers.
//!
//! Ten digits starting with 1 or 2 whose last digit is the Luhn check digit computed over
//! the nine others prefixed with the ISO issuer code 80840.

use super::digits::{digits_of, luhn_valid};

/// Whether `text` (ten digits) is a valid NPI.
pub fn is_valid_npi(text: &[u8]) -> bool {
    let Some(d) = digits_of(text, 10) else {
        return false;
    };
    if d.len() != 10 || !matches!(d.first(), Some(1 | 2)) {
        return false;
    }
    let mut prefixed = vec![8, 0, 8, 4, 0];
    prefixed.extend_from_slice(&d);
    luhn_valid(&prefixed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_npis_with_a_valid_check_digit() {
        assert!(is_valid_npi(b"1234567893"));
        assert!(is_valid_npi(b"1245319599"));
    }

    #[test]
    fn refuses_npis_with_a_wrong_check_digit_or_prefix() {
        assert!(!is_valid_npi(b"1234567890"));
        assert!(!is_valid_npi(b"3234567893"));
        assert!(!is_valid_npi(b"123456789"));
    }
}
