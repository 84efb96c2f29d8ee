//! URLs that carry an identifier of a person.
//!
//! A link is PHI only when it names someone: a query parameter or path segment keyed by a
//! patient, member, record or account word with a value, or an e-mail address in the
//! link. Plain links to the organization's pages are not reported.

/// Keys that name a person or their records when they appear in a path or query.
const IDENTIFYING_KEYS: &[&str] = &[
    "patient",
    "patientid",
    "patient_id",
    "pid",
    "mrn",
    "member",
    "memberid",
    "member_id",
    "subscriber",
    "ssn",
    "dob",
    "record",
    "chart",
    "account",
    "acct",
    "email",
    "name",
    "user",
    "userid",
    "user_id",
    "claim",
    "encounter",
    "person",
    "uid",
];

/// Where a URL ends once trailing sentence punctuation is removed.
pub(crate) fn trim_url(candidate: &[u8]) -> usize {
    let mut end = candidate.len();
    while let Some(&b) = candidate.get(end.wrapping_sub(1)) {
        if matches!(
            b,
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']' | b'\'' | b'"' | b'>'
        ) {
            end -= 1;
        } else {
            break;
        }
    }
    end
}

/// Whether the URL carries an identifier (see the module documentation).
pub fn url_carries_identifier(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    if lower.contains('@') && !lower.starts_with("mailto") {
        let at = lower.find('@').unwrap_or(0);
        let scheme_end = lower.find("://").map_or(0, |i| i + 3);
        if at > scheme_end && lower.get(scheme_end..at).is_some_and(|s| s.contains('/')) {
            return true;
        }
    }
    let after_host = lower
        .find("://")
        .map_or(lower.as_str(), |i| lower.get(i + 3..).unwrap_or(""));
    let path = after_host
        .find(['/', '?'])
        .map_or("", |i| after_host.get(i..).unwrap_or(""));
    let mut previous = "";
    for part in path.split(['/', '?', '&', '#', ';']) {
        let (key, value) = part.split_once('=').unwrap_or((previous, part));
        let value_has_digits = value.bytes().filter(u8::is_ascii_digit).count() >= 4;
        let key_names_person = IDENTIFYING_KEYS
            .iter()
            .any(|k| key.trim_end_matches('s') == *k);
        if key_names_person && (value_has_digits || (part.contains('=') && value.len() >= 3)) {
            return true;
        }
        previous = part;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_urls_with_patient_or_member_ids() {
        assert!(url_carries_identifier(
            "https://portal.example.org/patients/4482913/results"
        ));
        assert!(url_carries_identifier(
            "https://x.example/view?mrn=00482913&tab=labs"
        ));
        assert!(url_carries_identifier(
            "https://x.example/r?email=jo@example.com"
        ));
    }

    #[test]
    fn ignores_plain_links_and_tracking_ids() {
        assert!(!url_carries_identifier("https://www.example.org/flu-shots"));
        assert!(!url_carries_identifier(
            "https://example.org/news/2024/05/article?utm=spring"
        ));
        assert!(!url_carries_identifier(
            "https://example.org/patients/portal-help"
        ));
    }

    #[test]
    fn trims_sentence_punctuation() {
        assert_eq!(trim_url(b"https://a.example/x)."), 19);
    }
}
