//! Mail addresses as carepost accepts them from the API and SMTP: `local@domain`, with a
//! domain DNS can name (or an address literal), no whitespace or control characters, and
//! RFC 5321 length limits. Stricter than RFC 5322 on purpose: quoted local parts and
//! comments are refused rather than passed on to servers that may misread them.

/// Why an address was refused. Never quotes the address (it is PHI).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// No `@`, or nothing before or after it.
    #[error("must look like name@example.org")]
    Shape,
    /// Longer than RFC 5321 allows (64 octets local part, 254 in all).
    #[error("is longer than SMTP allows (64 characters before the @, 254 in all)")]
    Length,
    /// Whitespace, control characters or characters that break headers.
    #[error("contains spaces, control characters or one of < > ( ) , ; : \\ \" [ ]")]
    Characters,
    /// The domain is not a host name.
    #[error("has a domain that is not a valid host name")]
    Domain,
}

/// Checks `address` and returns it with the domain lower-cased.
pub fn normalize(address: &str) -> Result<String, AddressError> {
    let address = address.trim();
    let (local, domain) = address.rsplit_once('@').ok_or(AddressError::Shape)?;
    if local.is_empty() || domain.is_empty() {
        return Err(AddressError::Shape);
    }
    if local.len() > 64 || address.len() > 254 {
        return Err(AddressError::Length);
    }
    let bad = |c: char| {
        c.is_whitespace()
            || c.is_control()
            || matches!(
                c,
                '<' | '>' | '(' | ')' | ',' | ';' | ':' | '\\' | '"' | '[' | ']' | '@'
            )
    };
    if local.chars().any(bad)
        || local.starts_with('.')
        || local.ends_with('.')
        || local.contains("..")
    {
        return Err(AddressError::Characters);
    }
    let domain = domain.trim_end_matches('.').to_lowercase();
    let labels_ok = domain.split('.').count() >= 1
        && domain.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !labels_ok {
        return Err(AddressError::Domain);
    }
    Ok(format!("{local}@{domain}"))
}

/// The domain of a normalized address.
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_pass_with_the_domain_lower_cased() {
        assert_eq!(
            normalize(" Maria.Lopez+a1c@Clinic.Example ").unwrap(),
            "Maria.Lopez+a1c@clinic.example"
        );
        assert_eq!(
            normalize("josé@bücher.example").unwrap(),
            "josé@bücher.example"
        );
        assert_eq!(domain_of("a@b.example"), "b.example");
    }

    #[test]
    fn header_breaking_and_malformed_addresses_are_refused() {
        for (bad, why) in [
            ("no-at-sign", AddressError::Shape),
            ("@example.org", AddressError::Shape),
            ("a@", AddressError::Shape),
            ("a\r\nBcc: x@evil.example@x.org", AddressError::Characters),
            ("a b@x.org", AddressError::Characters),
            ("<a>@x.org", AddressError::Characters),
            ("a@-x.org", AddressError::Domain),
            ("a@x..org", AddressError::Domain),
            ("a@x_y.org", AddressError::Domain),
        ] {
            assert_eq!(normalize(bad), Err(why), "{bad:?}");
        }
        assert_eq!(
            normalize(&format!("{}@x.org", "a".repeat(65))),
            Err(AddressError::Length)
        );
    }
}
