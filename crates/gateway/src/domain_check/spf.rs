//! SPF (RFC 7208): the `v=spf1` TXT record at the domain itself.
//!
//! The grammar is small enough to parse by hand (RFC 7208 §12). Macros inside domain
//! specs are accepted as written, not expanded or checked.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use super::record::TxtRecord;

/// Receivers stop with a permanent error after this many DNS-querying terms (RFC 7208
/// §4.6.4).
pub const MAX_DNS_LOOKUPS: usize = 10;

/// The result SPF gives a server the record does not list: the qualifier of `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AllQualifier {
    /// `-all`: fail.
    #[serde(rename = "-all")]
    Fail,
    /// `~all`: soft fail.
    #[serde(rename = "~all")]
    SoftFail,
    /// `?all`: neutral, no verdict.
    #[serde(rename = "?all")]
    Neutral,
    /// `+all` (or a bare `all`): every server on the internet passes.
    #[serde(rename = "+all")]
    Pass,
}

impl AllQualifier {
    /// The term as written in a record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fail => "-all",
            Self::SoftFail => "~all",
            Self::Neutral => "?all",
            Self::Pass => "+all",
        }
    }
}

/// A parsed SPF record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpfRecord {
    /// The qualifier of the `all` mechanism; `None` when the record has none.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub all: Option<AllQualifier>,
    /// The target of a `redirect=` modifier (RFC 7208 §6.1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub redirect: Option<String>,
    /// DNS-querying terms this record evaluates (include, a, mx, ptr, exists, redirect;
    /// RFC 7208 §4.6.4). Terms of included records count against the same limit but are
    /// not fetched here, so the real total can be higher.
    pub dns_lookups: usize,
    /// Whether the record uses `ptr`, which RFC 7208 §5.5 says not to use.
    pub uses_ptr: bool,
    /// Mechanisms after `all`, which are never evaluated (RFC 7208 §5.1).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub ignored_terms: Vec<String>,
}

impl TxtRecord for SpfRecord {
    /// RFC 7208 §4.5: `v=spf1` (case-insensitive) followed by a space or the end. A record
    /// with leading spaces is a candidate here so that it can be reported, not skipped.
    fn is_candidate(record: &[u8]) -> bool {
        let record = record.trim_ascii_start();
        let version = record
            .get(..6)
            .is_some_and(|v| v.eq_ignore_ascii_case(b"v=spf1"));
        version && record.get(6).is_none_or(|&b| b == b' ')
    }

    fn parse(text: &str) -> Result<SpfRecord, String> {
        if text.starts_with(|c: char| c.is_ascii_whitespace()) {
            return Err(
                "the record starts with a space; receivers only use records that \
                        begin with v=spf1 (RFC 7208 §4.5)"
                    .into(),
            );
        }

        let mut record = SpfRecord::default();
        let mut exp = false;
        for term in text.split_ascii_whitespace().skip(1) {
            match split_modifier(term) {
                Some(("redirect", target)) => record.set_redirect(target)?,
                // RFC 7208 §6: exp= at most once; unknown modifiers are ignored.
                Some(("exp", _)) if exp => return Err("exp= appears more than once".into()),
                Some(("exp", _)) => exp = true,
                Some(_) => {}
                None => record.add_mechanism(term)?,
            }
        }

        // RFC 7208 §6.1: redirect= only applies, and only costs a lookup, without `all`.
        if record.all.is_none() && record.redirect.is_some() {
            record.dns_lookups += 1;
        }
        Ok(record)
    }

    fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        match (self.all, &self.redirect) {
            (Some(AllQualifier::Pass), _) => warnings.push(
                "+all lets every server on the internet pass SPF for this domain; \
                 end the record with -all or ~all"
                    .to_owned(),
            ),
            (Some(AllQualifier::Neutral), _) => warnings.push(
                "?all gives no verdict on servers the record does not list; \
                 prefer -all or ~all"
                    .to_owned(),
            ),
            (None, None) => warnings.push(
                "the record has no all mechanism, so unlisted servers get a neutral result \
                 (RFC 7208 §4.7); end it with -all or ~all"
                    .to_owned(),
            ),
            (Some(_), Some(target)) => warnings.push(format!(
                "redirect={target} is ignored because the record has an all mechanism \
                 (RFC 7208 §6.1)"
            )),
            _ => {}
        }
        if self.dns_lookups > MAX_DNS_LOOKUPS {
            warnings.push(format!(
                "the record needs {} DNS lookups, more than the {MAX_DNS_LOOKUPS} receivers \
                 allow: SPF then ends in a permanent error (RFC 7208 §4.6.4)",
                self.dns_lookups
            ));
        }
        if self.uses_ptr {
            warnings.push(
                "the ptr mechanism is slow and unreliable and should not be used \
                 (RFC 7208 §5.5)"
                    .to_owned(),
            );
        }
        if !self.ignored_terms.is_empty() {
            warnings.push(format!(
                "terms after all are never evaluated: {} (RFC 7208 §5.1)",
                self.ignored_terms.join(" ")
            ));
        }
        warnings
    }
}

impl SpfRecord {
    fn set_redirect(&mut self, target: &str) -> Result<(), String> {
        if self.redirect.is_some() {
            return Err("redirect= appears more than once (RFC 7208 §6)".into());
        }
        if target.is_empty() {
            return Err("redirect= has no domain".into());
        }
        self.redirect = Some(target.to_owned());
        Ok(())
    }

    fn add_mechanism(&mut self, term: &str) -> Result<(), String> {
        let (qualifier, rest) = match term.as_bytes().first() {
            Some(b'+') => (AllQualifier::Pass, &term[1..]),
            Some(b'-') => (AllQualifier::Fail, &term[1..]),
            Some(b'~') => (AllQualifier::SoftFail, &term[1..]),
            Some(b'?') => (AllQualifier::Neutral, &term[1..]),
            _ => (AllQualifier::Pass, term),
        };
        let name_end = rest.find([':', '/']).unwrap_or(rest.len());
        let (name, argument) = rest.split_at(name_end);
        let name = name.to_ascii_lowercase();
        let queries_dns =
            check_mechanism(&name, argument).map_err(|problem| format!("\"{term}\": {problem}"))?;

        // RFC 7208 §5.1: evaluation stops at `all`, so what follows costs nothing.
        if self.all.is_some() {
            self.ignored_terms.push(term.to_owned());
            return Ok(());
        }
        if name == "all" {
            self.all = Some(qualifier);
        }
        self.uses_ptr |= name == "ptr";
        self.dns_lookups += usize::from(queries_dns);
        Ok(())
    }
}

/// Checks a mechanism's argument (what follows its name) and says whether evaluating it
/// queries DNS (RFC 7208 §4.6.4).
fn check_mechanism(name: &str, argument: &str) -> Result<bool, String> {
    match name {
        "all" if argument.is_empty() => Ok(false),
        "all" => Err("all takes no argument".into()),
        "include" | "exists" => match argument.strip_prefix(':') {
            Some(domain) if !domain.is_empty() => Ok(true),
            _ => Err(format!("{name} needs a domain, as in {name}:example.com")),
        },
        "ptr" => domain_then_cidr(argument, false).map(|()| true),
        "a" | "mx" => domain_then_cidr(argument, true).map(|()| true),
        "ip4" => address(argument, |a| a.parse::<Ipv4Addr>().is_ok(), 32).map(|()| false),
        "ip6" => address(argument, |a| a.parse::<Ipv6Addr>().is_ok(), 128).map(|()| false),
        "" => Err("empty mechanism".into()),
        _ => Err("unknown mechanism (RFC 7208 §5)".into()),
    }
}

/// `[":" domain-spec] [dual-cidr-length]` for a and mx; ptr allows no CIDR.
fn domain_then_cidr(argument: &str, cidr_allowed: bool) -> Result<(), String> {
    let (domain, cidr) = argument.split_at(argument.find('/').unwrap_or(argument.len()));
    if domain == ":" {
        return Err("empty domain after ':'".into());
    }
    if cidr.is_empty() {
        return Ok(());
    }
    if !cidr_allowed {
        return Err("ptr takes no prefix length".into());
    }
    let (v4, v6) = match cidr.split_once("//") {
        Some((v4, v6)) => (v4, Some(v6)),
        None => (cidr, None),
    };
    let v4_ok = v4.is_empty() || v4.strip_prefix('/').is_some_and(|n| prefix(n, 32));
    if v4_ok && v6.is_none_or(|n| prefix(n, 128)) {
        return Ok(());
    }
    Err("bad prefix length".into())
}

/// `":" address ["/" prefix]` for ip4 and ip6.
fn address(argument: &str, valid: impl Fn(&str) -> bool, max_prefix: u8) -> Result<(), String> {
    let Some(value) = argument.strip_prefix(':') else {
        return Err("needs an address after ':'".into());
    };
    let (address, length) = match value.split_once('/') {
        Some((address, length)) => (address, Some(length)),
        None => (value, None),
    };
    if !valid(address) {
        return Err(format!("{address:?} is not a valid address"));
    }
    if length.is_some_and(|n| !prefix(n, max_prefix)) {
        return Err(format!("the prefix length must be 0 to {max_prefix}"));
    }
    Ok(())
}

fn prefix(text: &str, max: u8) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse().is_ok_and(|n: u8| n <= max)
}

/// `name=value` when `term` is a modifier (RFC 7208 §6); names are case-insensitive, so
/// the two the parser acts on are matched in lower case.
fn split_modifier(term: &str) -> Option<(&str, &str)> {
    let (name, value) = term.split_once('=')?;
    let mut bytes = name.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !valid {
        return None;
    }
    let known = ["redirect", "exp"]
        .into_iter()
        .find(|known| name.eq_ignore_ascii_case(known));
    Some((known.unwrap_or(name), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> SpfRecord {
        SpfRecord::parse(text).unwrap()
    }

    #[test]
    fn the_final_all_qualifier_is_read_in_any_case() {
        assert_eq!(parse("v=spf1 mx -all").all, Some(AllQualifier::Fail));
        assert_eq!(parse("v=spf1 mx ~all").all, Some(AllQualifier::SoftFail));
        assert_eq!(parse("v=spf1 mx ?all").all, Some(AllQualifier::Neutral));
        assert_eq!(parse("v=spf1 mx +all").all, Some(AllQualifier::Pass));
        assert_eq!(parse("v=spf1 all").all, Some(AllQualifier::Pass));
        assert_eq!(parse("V=SPF1 MX -ALL").all, Some(AllQualifier::Fail));
        assert_eq!(parse("v=spf1 mx").all, None);
    }

    #[test]
    fn every_dns_querying_term_counts_as_one_lookup() {
        let record = parse(
            "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 include:a.test include:b.test \
             a mx/24 ptr exists:%{i}.x.test redirect=c.test",
        );
        assert_eq!(record.dns_lookups, 7);
        assert!(record.uses_ptr);
        assert_eq!(record.redirect.as_deref(), Some("c.test"));
    }

    #[test]
    fn terms_after_all_and_an_overridden_redirect_cost_no_lookups() {
        let record = parse("v=spf1 mx -all include:late.test redirect=c.test");
        assert_eq!(record.dns_lookups, 1);
        assert_eq!(record.ignored_terms, vec!["include:late.test"]);
        let warnings = record.warnings().join("\n");
        assert!(warnings.contains("never evaluated"), "{warnings}");
        assert!(
            warnings.contains("redirect=c.test is ignored"),
            "{warnings}"
        );
    }

    #[test]
    fn more_than_ten_lookups_is_warned_about() {
        let includes: String = (0..11).map(|n| format!(" include:s{n}.test")).collect();
        let record = parse(&format!("v=spf1{includes} -all"));
        assert_eq!(record.dns_lookups, 11);
        assert!(
            record
                .warnings()
                .iter()
                .any(|w| w.contains("11 DNS lookups"))
        );

        let includes: String = (0..10).map(|n| format!(" include:s{n}.test")).collect();
        assert!(
            parse(&format!("v=spf1{includes} -all"))
                .warnings()
                .is_empty()
        );
    }

    #[test]
    fn pass_neutral_and_missing_all_are_warned_about() {
        assert!(parse("v=spf1 +all").warnings()[0].contains("+all"));
        assert!(parse("v=spf1 mx ?all").warnings()[0].contains("?all"));
        assert!(parse("v=spf1 mx").warnings()[0].contains("no all mechanism"));
        assert!(parse("v=spf1 redirect=_spf.test").warnings().is_empty());
        assert!(parse("v=spf1 mx ~all").warnings().is_empty());
    }

    #[test]
    fn unknown_modifiers_are_ignored_and_exp_is_allowed_after_all() {
        let record = parse("v=spf1 foo=bar mx -all exp=explain.test");
        assert_eq!(record.dns_lookups, 1);
        assert!(record.ignored_terms.is_empty());
    }

    #[test]
    fn malformed_terms_make_the_record_invalid() {
        for text in [
            "v=spf1 include -all",
            "v=spf1 include: -all",
            "v=spf1 ip4:300.1.1.1 -all",
            "v=spf1 ip4:192.0.2.1/33 -all",
            "v=spf1 ip6:192.0.2.1 -all",
            "v=spf1 a: -all",
            "v=spf1 mx/abc -all",
            "v=spf1 ptr/24 -all",
            "v=spf1 all:x",
            "v=spf1 mx spf2 -all",
            "v=spf1 - -all",
            "v=spf1 redirect=a.test redirect=b.test",
            "v=spf1 -all exp=a.test exp=b.test",
            " v=spf1 -all",
        ] {
            assert!(SpfRecord::parse(text).is_err(), "{text} should be refused");
        }
    }

    #[test]
    fn only_v_spf1_followed_by_a_space_or_the_end_is_an_spf_record() {
        assert!(SpfRecord::is_candidate(b"v=spf1"));
        assert!(SpfRecord::is_candidate(b"v=SPF1 -all"));
        assert!(SpfRecord::is_candidate(b"  v=spf1 -all"));
        assert!(!SpfRecord::is_candidate(b"v=spf10 -all"));
        assert!(!SpfRecord::is_candidate(b"spf1 -all"));
        assert!(!SpfRecord::is_candidate(b"v=DMARC1; p=none"));
        assert!(!SpfRecord::is_candidate(b"v=spf"));
    }
}
