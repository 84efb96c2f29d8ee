//! The `tag=value; tag=value` list of DKIM key records (RFC 6376 §3.2), which DMARC
//! (RFC 7489 §6.4) and TLS-RPT (RFC 8460 §3) records use as well.

/// The tags of `text` in order, values trimmed. Empty specs (`;;`, a trailing `;`) are
/// skipped; a spec without `=`, a bad tag name or a repeated tag makes the list invalid.
pub(super) fn parse(text: &str) -> Result<Vec<(&str, &str)>, String> {
    let mut tags: Vec<(&str, &str)> = Vec::new();
    for spec in text.split(';').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((name, value)) = spec.split_once('=') else {
            return Err(format!("\"{spec}\" is not a tag=value pair"));
        };
        let name = name.trim();
        if !is_tag_name(name) {
            return Err(format!("\"{name}\" is not a valid tag name"));
        }
        // RFC 6376 §3.2: a repeated tag makes the entire tag-list invalid.
        if tags.iter().any(|(seen, _)| *seen == name) {
            return Err(format!("the tag {name}= appears more than once"));
        }
        tags.push((name, value.trim()));
    }
    Ok(tags)
}

/// The value of tag `name`, if present.
pub(super) fn get<'a>(tags: &[(&str, &'a str)], name: &str) -> Option<&'a str> {
    tags.iter()
        .find(|(tag, _)| *tag == name)
        .map(|(_, value)| *value)
}

/// `tag-name = ALPHA *ALNUMPUNC` (RFC 6376 §3.2).
fn is_tag_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_keep_their_order_and_lose_surrounding_whitespace() {
        let tags = parse(" v = DKIM1 ;k=rsa;  p=ab cd ; ").unwrap();
        assert_eq!(tags, vec![("v", "DKIM1"), ("k", "rsa"), ("p", "ab cd")]);
        assert_eq!(get(&tags, "p"), Some("ab cd"));
        assert_eq!(get(&tags, "t"), None);
    }

    #[test]
    fn empty_values_and_empty_specs_are_allowed() {
        assert_eq!(parse("p=;;").unwrap(), vec![("p", "")]);
        assert_eq!(parse("").unwrap(), vec![]);
    }

    #[test]
    fn a_repeated_tag_invalidates_the_whole_list() {
        assert!(parse("p=a; p=b").unwrap_err().contains("more than once"));
    }

    #[test]
    fn specs_without_equals_or_with_bad_names_are_refused() {
        assert!(parse("v=DKIM1; rsa").is_err());
        assert!(parse("1k=rsa").is_err());
        assert!(parse("k-x=rsa").is_err());
        assert!(parse("=rsa").is_err());
    }
}
