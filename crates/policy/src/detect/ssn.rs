//! US Social Security numbers.
//!
//! Rules (SSA): the area (first three digits) is never 000, 666 or 900–999, the group (next
//! two) never 00 and the serial (last four) never 0000. A few numbers printed on sample
//! cards and in advertising are refused as well.

use super::digits::{digits_of, value};

/// Numbers the SSA publishes as invalid because they were used in advertising.
const ADVERTISED: [u32; 2] = [78_051_120, 219_099_999];

/// Whether `text` (nine digits, with or without `-` or space separators) is a possible SSN.
pub fn is_valid_ssn(text: &[u8]) -> bool {
    let Some(d) = digits_of(text, 9) else {
        return false;
    };
    if d.len() != 9 {
        return false;
    }
    let (Some(area), Some(group), Some(serial)) = (d.get(..3), d.get(3..5), d.get(5..)) else {
        return false;
    };
    let (area, group, serial) = (value(area), value(group), value(serial));
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !ADVERTISED.contains(&value(&d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ssns_with_and_without_dashes() {
        assert!(is_valid_ssn(b"123-45-6789"));
        assert!(is_valid_ssn(b"524 71 3302"));
        assert!(is_valid_ssn(b"524713302"));
    }

    #[test]
    fn refuses_impossible_areas_groups_and_serials() {
        assert!(!is_valid_ssn(b"000-12-3456"));
        assert!(!is_valid_ssn(b"666-12-3456"));
        assert!(!is_valid_ssn(b"912-12-3456"));
        assert!(!is_valid_ssn(b"123-00-4567"));
        assert!(!is_valid_ssn(b"123-45-0000"));
        assert!(!is_valid_ssn(b"078-05-1120"));
        assert!(!is_valid_ssn(b"12-345-678"));
    }
}
