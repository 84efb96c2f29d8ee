//! Medicare Beneficiary Identifiers.
//!
//! CMS format: 11 characters, optionally printed with dashes after the 4th and 7th.
//! Position 1 is a digit 1–9; positions 4, 7, 10 and 11 are digits; positions 2, 5, 8 and
//! 9 are letters; positions 3 and 6 are letters or digits. The letters S, L, O, I, B and
//! Z are never used.

/// What each of the 11 positions may hold.
#[derive(Clone, Copy)]
enum Slot {
    NonZeroDigit,
    Digit,
    Letter,
    LetterOrDigit,
}

const LAYOUT: [Slot; 11] = [
    Slot::NonZeroDigit,
    Slot::Letter,
    Slot::LetterOrDigit,
    Slot::Digit,
    Slot::Letter,
    Slot::LetterOrDigit,
    Slot::Digit,
    Slot::Letter,
    Slot::Letter,
    Slot::Digit,
    Slot::Digit,
];

fn allowed_letter(b: u8) -> bool {
    b.is_ascii_uppercase() && !matches!(b, b'S' | b'L' | b'O' | b'I' | b'B' | b'Z')
}

/// Whether `text` is a well-formed MBI (upper case, with or without its two dashes).
pub fn is_valid_mbi(text: &[u8]) -> bool {
    let chars: Vec<u8> = text.iter().copied().filter(|b| *b != b'-').collect();
    if chars.len() != 11 || text.len() - chars.len() > 2 {
        return false;
    }
    chars.iter().zip(LAYOUT).all(|(&b, slot)| match slot {
        Slot::NonZeroDigit => (b'1'..=b'9').contains(&b),
        Slot::Digit => b.is_ascii_digit(),
        Slot::Letter => allowed_letter(b),
        Slot::LetterOrDigit => allowed_letter(b) || b.is_ascii_digit(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_cms_format_mbis() {
        assert!(is_valid_mbi(b"1EG4TE5MK73"));
        assert!(is_valid_mbi(b"1EG4-TE5-MK73"));
        assert!(is_valid_mbi(b"9AA0AA0AA00"));
    }

    #[test]
    fn refuses_excluded_letters_and_wrong_layouts() {
        assert!(!is_valid_mbi(b"1SG4TE5MK73"), "S is never used");
        assert!(!is_valid_mbi(b"0EG4TE5MK73"), "first digit is 1-9");
        assert!(!is_valid_mbi(b"1EG4TE5MK7"), "too short");
        assert!(!is_valid_mbi(b"1eg4te5mk73"), "lower case");
        assert!(!is_valid_mbi(b"1EGATE5MK73"), "position 4 is a digit");
    }
}
