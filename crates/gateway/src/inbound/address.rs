//! Envelope address checks beyond what smtp-proto parses.
//!
//! smtp-proto removes the quotes of a quoted local part (`"a b"@x` becomes `a b@x`), which
//! would make the stored address ambiguous. Only dot-atom local parts are accepted therefore,
//! and only host-name domains (no address literals, at least two labels): anything else could
//! not be delivered onwards over verified TLS anyway.

/// Why an envelope address is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AddressFault {
    /// Not `local@domain` with a dot-atom local part and a host-name domain.
    Syntax,
    /// Non-ASCII without the SMTPUTF8 parameter on MAIL (RFC 6531).
    NeedsSmtpUtf8,
}

/// Checks `address` (as smtp-proto returned it, without angle brackets).
pub(super) fn check(address: &str, smtputf8: bool) -> Result<(), AddressFault> {
    let Some((local, domain)) = address.rsplit_once('@') else {
        return Err(AddressFault::Syntax);
    };
    if !is_dot_atom(local) || !is_domain(domain) {
        return Err(AddressFault::Syntax);
    }
    if !smtputf8 && !address.is_ascii() {
        return Err(AddressFault::NeedsSmtpUtf8);
    }
    Ok(())
}

/// The domain of a checked address.
pub(super) fn domain(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, domain)| domain)
}

/// Whether `domain` is one of `allowed` (ASCII case-insensitive, a trailing dot ignored).
pub(super) fn domain_allowed(domain: &str, allowed: &[String]) -> bool {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    !domain.is_empty()
        && allowed.iter().any(|a| {
            let a = a.strip_suffix('.').unwrap_or(a);
            a.eq_ignore_ascii_case(domain)
        })
}

fn is_dot_atom(local: &str) -> bool {
    let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
    let atom_ok = |atom: &str| !atom.is_empty() && atom.chars().all(|c| atext(c) || !c.is_ascii());
    local.len() <= 64 && local.split('.').all(atom_ok)
}

fn is_domain(domain: &str) -> bool {
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || !c.is_ascii())
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    domain.len() <= 253 && domain.split('.').count() >= 2 && domain.split('.').all(label_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_addresses_and_refuses_ambiguous_ones() {
        assert_eq!(check("front.desk+x@clinic.test", false), Ok(()));
        for bad in [
            "a b@clinic.test",
            "a@b@clinic.test",
            "a@[127.0.0.1]",
            "a@localhost",
            "@clinic.test",
            "a@-x.test",
            "a..b@clinic.test",
            "a@clinic.test\0",
            "",
        ] {
            assert_eq!(check(bad, true), Err(AddressFault::Syntax), "{bad:?}");
        }
        assert_eq!(
            check("anaïs@clinic.test", false),
            Err(AddressFault::NeedsSmtpUtf8)
        );
        assert_eq!(check("anaïs@clinic.test", true), Ok(()));
    }

    #[test]
    fn matches_domains_exactly_and_case_insensitively() {
        let allowed = vec!["Clinic.Test".to_owned()];
        assert!(domain_allowed("clinic.test", &allowed));
        assert!(domain_allowed("CLINIC.TEST.", &allowed));
        assert!(!domain_allowed("mail.clinic.test", &allowed));
        assert!(!domain_allowed("clinic.test.evil", &allowed));
        assert!(!domain_allowed("", &allowed));
    }
}
