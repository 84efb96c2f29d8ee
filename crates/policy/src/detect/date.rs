//! Calendar dates in the numeric and written forms used in US mail.

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Whether `text` is a real calendar date: `M/D/YYYY`, `M-D-YY`, `YYYY-MM-DD`,
/// `Month D, YYYY` or `D Month YYYY` (month names in any case, abbreviated or not).
pub fn is_plausible_date(text: &str) -> bool {
    parse(text).is_some_and(|(y, m, d)| {
        let days = match m {
            2 => 29,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        (1..=12).contains(&m) && (1..=days).contains(&d) && (1900..=2100).contains(&y)
    })
}

fn parse(text: &str) -> Option<(u32, u32, u32)> {
    let parts: Vec<&str> = text
        .split(['/', '-', ' ', ',', '.'])
        .filter(|p| !p.is_empty())
        .collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let year = |s: &str| {
        let y: u32 = s.parse().ok()?;
        Some(if s.len() == 2 {
            if y > 30 { 1900 + y } else { 2000 + y }
        } else {
            y
        })
    };
    if let Some(m) = month(a) {
        return Some((year(c)?, m, day(b)?));
    }
    if let Some(m) = month(b) {
        return Some((year(c)?, m, day(a)?));
    }
    if a.len() == 4 {
        return Some((year(a)?, b.parse().ok()?, c.parse().ok()?));
    }
    Some((year(c)?, a.parse().ok()?, b.parse().ok()?))
}

fn day(s: &str) -> Option<u32> {
    s.trim_end_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .ok()
}

fn month(word: &str) -> Option<u32> {
    let lower = word.to_ascii_lowercase();
    let prefix = lower.get(..3)?;
    let index = MONTHS.iter().position(|m| *m == prefix)?;
    u32::try_from(index + 1).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_numeric_and_written_dates() {
        assert!(is_plausible_date("03/14/1962"));
        assert!(is_plausible_date("3-4-62"));
        assert!(is_plausible_date("1962-03-14"));
        assert!(is_plausible_date("March 14, 1962"));
        assert!(is_plausible_date("14 Mar 1962"));
        assert!(is_plausible_date("Sept. 3rd, 2024"));
    }

    #[test]
    fn refuses_impossible_dates() {
        assert!(!is_plausible_date("13/14/1962"));
        assert!(!is_plausible_date("02/30/1962"));
        assert!(!is_plausible_date("Smarch 14, 1962"));
        assert!(!is_plausible_date("03/14/1762"));
    }
}
