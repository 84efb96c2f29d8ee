//! Payment card numbers: a known issuer prefix, a length that issuer uses, and Luhn.

use super::digits::{digits_of, luhn_valid, value};

/// Whether `text` (13–19 digits, optionally grouped by spaces or dashes) is a card number.
pub fn is_valid_card(text: &[u8]) -> bool {
    let Some(d) = digits_of(text, 19) else {
        return false;
    };
    (13..=19).contains(&d.len()) && issuer_accepts(&d) && luhn_valid(&d)
}

/// Issuer identification ranges and the lengths each network issues.
fn issuer_accepts(d: &[u8]) -> bool {
    let prefix = |n: usize| d.get(..n).map(value).unwrap_or(0);
    let len = d.len();
    let visa = prefix(1) == 4 && matches!(len, 13 | 16 | 19);
    let mastercard =
        ((51..=55).contains(&prefix(2)) || (2221..=2720).contains(&prefix(4))) && len == 16;
    let amex = matches!(prefix(2), 34 | 37) && len == 15;
    let discover = (prefix(4) == 6011 || (644..=649).contains(&prefix(3)) || prefix(2) == 65)
        && (16..=19).contains(&len);
    let jcb = (3528..=3589).contains(&prefix(4)) && (16..=19).contains(&len);
    let diners = ((300..=305).contains(&prefix(3)) || matches!(prefix(2), 36 | 38 | 39))
        && (14..=19).contains(&len);
    let unionpay = prefix(2) == 62 && (16..=19).contains(&len);
    visa || mastercard || amex || discover || jcb || diners || unionpay
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_test_numbers_of_the_main_networks() {
        assert!(is_valid_card(b"4111 1111 1111 1111"));
        assert!(is_valid_card(b"5555-5555-5555-4444"));
        assert!(is_valid_card(b"378282246310005"));
        assert!(is_valid_card(b"6011111111111117"));
        assert!(is_valid_card(b"2221000000000009"));
    }

    #[test]
    fn refuses_luhn_failures_and_unknown_issuers() {
        assert!(!is_valid_card(b"4111 1111 1111 1112"));
        assert!(
            !is_valid_card(b"1234567812345670"),
            "no issuer starts with 1"
        );
        assert!(!is_valid_card(b"37828224631000"), "amex is 15 digits");
    }
}
