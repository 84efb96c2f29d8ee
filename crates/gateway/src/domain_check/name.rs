//! Which domains and DKIM selectors can be looked up at all.

/// The longest domain name in presentation form, without the trailing dot (RFC 1035 §2.3.4).
const MAX_NAME: usize = 253;

/// `input` in lower case without surrounding spaces or a trailing dot, or why it is not a
/// host name that can send mail (letters, digits and hyphens; at least two labels).
pub(super) fn domain(input: &str) -> Result<String, String> {
    let domain = input.trim();
    let domain = domain
        .strip_suffix('.')
        .unwrap_or(domain)
        .to_ascii_lowercase();
    labels(&domain).map_err(|why| format!("{input:?} is not a valid domain name: {why}"))?;
    if !domain.contains('.') {
        return Err(format!(
            "{input:?} is not a valid sending domain: it needs at least two labels, \
             as in clinic.example"
        ));
    }
    Ok(domain)
}

/// `selector` in lower case, or why `<selector>._domainkey.<domain>` cannot be queried
/// (RFC 6376 §3.1: a selector is one or more labels).
pub(super) fn selector(selector: &str, domain: &str) -> Result<String, String> {
    let selector = selector.trim().to_ascii_lowercase();
    labels(&selector)
        .map_err(|why| format!("the DKIM selector {selector:?} is not valid: {why}"))?;
    let length = selector.len() + "._domainkey.".len() + domain.len();
    if length > MAX_NAME {
        return Err(format!(
            "the DKIM selector {selector:?} makes the name longer than {MAX_NAME} characters"
        ));
    }
    Ok(selector)
}

/// Checks the letter-digit-hyphen syntax of RFC 1123 §2.1 on every label.
fn labels(name: &str) -> Result<(), &'static str> {
    if name.is_empty() {
        return Err("it is empty");
    }
    if name.len() > MAX_NAME {
        return Err("it is longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("it has an empty label");
        }
        if label.len() > 63 {
            return Err("a label is longer than 63 characters");
        }
        if !label.is_ascii() {
            return Err("write internationalized names in their xn-- form");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err("only letters, digits, hyphens and dots are allowed");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("a label starts or ends with a hyphen");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_is_lower_cased_and_loses_its_trailing_dot() {
        assert_eq!(domain(" Clinic.Example. ").unwrap(), "clinic.example");
        assert_eq!(
            domain("xn--klinik-mnchen-2ob.de").unwrap(),
            "xn--klinik-mnchen-2ob.de"
        );
    }

    #[test]
    fn names_that_cannot_be_queried_are_refused_with_a_reason() {
        for (input, reason) in [
            ("", "empty"),
            ("clinic..example", "empty label"),
            ("clinic example", "only letters"),
            ("_dmarc.clinic.example", "only letters"),
            ("-clinic.example", "hyphen"),
            ("klinik-münchen.de", "xn--"),
            ("localhost", "two labels"),
        ] {
            let error = domain(input).unwrap_err();
            assert!(error.contains(reason), "{input:?}: {error}");
        }
        let long_label = format!("{}.example", "a".repeat(64));
        assert!(domain(&long_label).unwrap_err().contains("63"));
        let long_name = format!("{}example", "abcdefghi.".repeat(25));
        assert!(domain(&long_name).unwrap_err().contains("253"));
    }

    #[test]
    fn selectors_may_have_several_labels_but_must_fit_the_name() {
        assert_eq!(selector("CP2026", "clinic.example").unwrap(), "cp2026");
        assert_eq!(selector("s1.eu", "clinic.example").unwrap(), "s1.eu");
        assert!(selector("bad selector", "clinic.example").is_err());
        assert!(selector("s\"; p=", "clinic.example").is_err());
        let domain = format!("{}example", "abcdefghi.".repeat(24));
        assert!(selector("s1234", &domain).unwrap_err().contains("longer"));
    }
}
