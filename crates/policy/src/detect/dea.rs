//! DEA registration numbers.
//!
//! Two letters then seven digits. The first letter is a registrant type, the second the
//! initial of the registrant's last name (or 9 for some businesses). The last digit is
//! the last digit of (d1 + d3 + d5) + 2 × (d2 + d4 + d6).

const REGISTRANT_TYPES: &[u8] = b"ABCDEFGHJKLMPRSTUX";

/// Whether `text` is a DEA number with a valid registrant type and check digit.
pub fn is_valid_dea(text: &[u8]) -> bool {
    let [kind, initial, digits @ ..] = text else {
        return false;
    };
    if !REGISTRANT_TYPES.contains(&kind.to_ascii_uppercase())
        || !(initial.is_ascii_alphabetic() || *initial == b'9')
        || digits.len() != 7
        || !digits.iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let d: Vec<u32> = digits.iter().map(|b| u32::from(b - b'0')).collect();
    let (Some(&check), Some(body)) = (d.last(), d.get(..6)) else {
        return false;
    };
    let odd: u32 = body.iter().step_by(2).sum();
    let even: u32 = body.iter().skip(1).step_by(2).sum();
    (odd + 2 * even) % 10 == check
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_dea_numbers_with_a_valid_checksum() {
        assert!(is_valid_dea(b"AB1234563"));
        assert!(is_valid_dea(b"BJ6125341"));
    }

    #[test]
    fn refuses_dea_numbers_with_a_bad_checksum_or_type() {
        assert!(!is_valid_dea(b"AB1234564"));
        assert!(!is_valid_dea(b"QB1234563"));
        assert!(!is_valid_dea(b"AB123456"));
        assert!(!is_valid_dea(b"A1234563"));
    }
}
