//! The header `From:` check at the end of a message.
//!
//! The header `From:` is what recipients see and what DMARC aligns with, so every address in
//! it must be in one of the credential's domains, not only the envelope sender.
//!
//! Parsed with mail-parser rather than a hand-written scan: a `From:` field may hold display
//! names with `@` in quotes, comments, groups, folding and encoded words, and a naive scan
//! picks the wrong address out of `"a@allowed.test" <b@other.test>`. Only the header section
//! is parsed. Differences between parsers are narrowed before this point: content with NUL,
//! bare CR or bare LF never gets here, and exactly one `From:` field is required (with two,
//! readers disagree on which one they show).

use mail_parser::{HeaderName, HeaderValue, MessageParser};

use super::address;
use super::reply::Reply;

/// Checks that `message` has exactly one `From:` field and that every address in it is in
/// one of the `allowed` domains.
pub(super) fn check_from(message: &[u8], allowed: &[String]) -> Result<(), Reply> {
    let one_from = Reply::new(550, "5.6.0", "Message must have exactly one From header");
    let not_allowed = Reply::new(
        550,
        "5.7.1",
        "From header domain not allowed for this credential",
    );

    let parsed = MessageParser::new()
        .parse_headers(message)
        .ok_or(one_from.clone())?;
    let mut fields = parsed.header_values(HeaderName::From);
    let (Some(from), None) = (fields.next(), fields.next()) else {
        return Err(one_from);
    };
    let HeaderValue::Address(addresses) = from else {
        return Err(not_allowed);
    };

    let mut count = 0;
    for addr in addresses.iter() {
        count += 1;
        let Some(address) = addr.address.as_deref() else {
            return Err(not_allowed);
        };
        let domain = address.rsplit_once('@').map_or("", |(_, domain)| domain);
        if !address::domain_allowed(domain, allowed) {
            return Err(not_allowed);
        }
    }
    if count == 0 {
        return Err(not_allowed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(headers: &str) -> Result<(), u16> {
        let message = format!("{headers}\r\n\r\nbody\r\n");
        check_from(message.as_bytes(), &["clinic.test".to_owned()]).map_err(|r| r.code)
    }

    #[test]
    fn accepts_addresses_in_the_allowed_domains() {
        assert_eq!(check("From: Front Desk <desk@clinic.test>"), Ok(()));
        assert_eq!(check("FROM: a@CLINIC.test, b@clinic.test"), Ok(()));
        assert_eq!(check("From:\r\n desk@clinic.test (the desk)"), Ok(()));
    }

    #[test]
    fn refuses_other_domains_wherever_they_hide() {
        for headers in [
            "From: \"desk@clinic.test\" <x@other.test>",
            "From: desk@clinic.test, x@other.test",
            "From: team: desk@clinic.test, x@other.test;",
            "From: <desk@clinic.test> x@other.test",
            "From: desk@clinic.test>",
            "From: desk@sub.clinic.test",
            "From: nobody",
            "From: desk@clinic.test\r\nFrom : x@other.test",
            "Subject: no sender",
        ] {
            assert_eq!(check(headers), Err(550), "{headers:?}");
        }
    }

    #[test]
    fn refuses_a_message_without_a_header_section() {
        let refused = check_from(b"\r\nFrom: desk@clinic.test\r\n", &["clinic.test".into()]);
        assert_eq!(refused.map_err(|r| r.status), Err("5.6.0"));
    }
}
