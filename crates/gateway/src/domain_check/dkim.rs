//! DKIM key records (RFC 6376 §3.6.1) at `<selector>._domainkey.<domain>`.

use base64::Engine;
use serde::{Deserialize, Serialize};
use x509_parser::prelude::FromDer;
use x509_parser::public_key::{PublicKey, RSAPublicKey};
use x509_parser::x509::SubjectPublicKeyInfo;

use super::name;
use super::record::{self, RecordFindings, RecordState, TxtRecord};
use super::tags;
use crate::dns::DnsLookup;

/// Verifiers must refuse RSA keys shorter than this (RFC 8301 §3.2).
const MIN_RSA_BITS: usize = 1024;
/// Signers should use RSA keys at least this long (RFC 8301 §3.2).
const RECOMMENDED_RSA_BITS: usize = 2048;

/// What was found for one DKIM selector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimFindings {
    /// The selector, lower case.
    pub selector: String,
    /// Whether the published `p=` is the key carepost signs with; `None` when no key was
    /// expected for this selector or no key is published.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub matches_expected: Option<bool>,
    /// The key record.
    pub record: RecordFindings<DkimKey>,
}

/// A parsed DKIM key record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DkimKey {
    /// `k=`: `rsa` (the default) or `ed25519` (RFC 8463).
    pub key_type: String,
    /// `p=` with its whitespace removed; empty when the key is revoked.
    pub public_key: String,
    /// The RSA modulus length, for an RSA key.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub rsa_bits: Option<usize>,
    /// `t=y`: the domain is testing DKIM, and receivers may treat signed mail as unsigned.
    pub testing: bool,
}

/// Checks every selector, each with the key expected for it (if any).
pub(super) async fn check_all(
    dns: &dyn DnsLookup,
    domain: &str,
    selectors: &[(String, Option<&str>)],
) -> Vec<DkimFindings> {
    let mut findings = Vec::with_capacity(selectors.len());
    for (selector, expected) in selectors {
        findings.push(check(dns, domain, selector, *expected).await);
    }
    findings
}

async fn check(
    dns: &dyn DnsLookup,
    domain: &str,
    selector: &str,
    expected: Option<&str>,
) -> DkimFindings {
    let (selector, record): (String, RecordFindings<DkimKey>) =
        match name::selector(selector, domain) {
            Ok(selector) => {
                let name = format!("{selector}._domainkey.{domain}");
                (selector, record::look_up(dns, name).await)
            }
            Err(reason) => {
                let name = format!("{selector}._domainkey.{domain}");
                (
                    selector.to_owned(),
                    RecordFindings::not_checked(name, reason),
                )
            }
        };

    let published = record.parsed.as_ref().map(|key| key.public_key.as_str());
    let matches_expected = match (expected, published) {
        (Some(expected), Some(published)) if !published.is_empty() => {
            Some(without_whitespace(expected) == published)
        }
        _ => None,
    };
    DkimFindings {
        selector,
        matches_expected,
        record,
    }
}

impl TxtRecord for DkimKey {
    /// Every TXT record at a selector's name is meant as its key (RFC 6376 §3.6.2.2).
    fn is_candidate(_record: &[u8]) -> bool {
        true
    }

    fn parse(text: &str) -> Result<DkimKey, String> {
        let tags = tags::parse(text)?;

        // RFC 6376 §3.6.1: v= is optional, but when present it comes first and is DKIM1.
        let version = tags.iter().position(|(tag, _)| *tag == "v");
        match (version, tags.first()) {
            (None, _) | (Some(0), Some((_, "DKIM1"))) => {}
            (Some(0), Some((_, other))) => return Err(format!("v={other} must be v=DKIM1")),
            _ => return Err("v=DKIM1 must be the first tag".into()),
        }

        let Some(public_key) = tags::get(&tags, "p") else {
            return Err("there is no p= tag with the public key".into());
        };
        let key_type = tags::get(&tags, "k").unwrap_or("rsa").to_ascii_lowercase();
        let testing = tags::get(&tags, "t")
            .is_some_and(|flags| flags.split(':').any(|flag| flag.trim() == "y"));
        let mut key = DkimKey {
            key_type,
            public_key: without_whitespace(public_key),
            rsa_bits: None,
            testing,
        };
        if !key.public_key.is_empty() {
            key.rsa_bits = check_key(&key.key_type, &key.public_key)?;
        }
        Ok(key)
    }

    fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.testing {
            warnings.push(
                "t=y marks the key as a test: receivers may treat signed mail as unsigned"
                    .to_owned(),
            );
        }
        if let Some(bits) = self.rsa_bits.filter(|&bits| bits < RECOMMENDED_RSA_BITS) {
            warnings.push(format!(
                "the RSA key has {bits} bits; use {RECOMMENDED_RSA_BITS} (RFC 8301 §3.2)"
            ));
        }
        warnings
    }

    /// RFC 6376 §3.6.1: an empty `p=` means the key has been revoked.
    fn state(&self) -> RecordState {
        if self.public_key.is_empty() {
            RecordState::Revoked
        } else {
            RecordState::Valid
        }
    }
}

/// Decodes `p=` for its key type; returns the RSA modulus length for an RSA key.
fn check_key(key_type: &str, public_key: &str) -> Result<Option<usize>, String> {
    let der = base64::engine::general_purpose::STANDARD
        .decode(public_key)
        .map_err(|_| "p= is not valid base64".to_owned())?;
    match key_type {
        "rsa" => {
            let bits = rsa_bits(&der).ok_or("p= is not an RSA public key")?;
            if bits < MIN_RSA_BITS {
                return Err(format!(
                    "the RSA key has {bits} bits; receivers refuse keys shorter than \
                     {MIN_RSA_BITS} (RFC 8301 §3.2)"
                ));
            }
            Ok(Some(bits))
        }
        // RFC 8463 §4.2: the bare 32-byte public key.
        "ed25519" if der.len() == 32 => Ok(None),
        "ed25519" => Err(format!(
            "an ed25519 p= holds 32 bytes, this one {} (RFC 8463 §4.2)",
            der.len()
        )),
        other => Err(format!(
            "k={other} is not a key type receivers know (rsa, ed25519)"
        )),
    }
}

/// The modulus length of an RSA key published as a SubjectPublicKeyInfo (what `openssl
/// rsa -pubout` and carepost produce) or as a bare RSAPublicKey (RFC 6376 §3.6.1's wording).
fn rsa_bits(der: &[u8]) -> Option<usize> {
    if let Ok((_, info)) = SubjectPublicKeyInfo::from_der(der) {
        return match info.parsed() {
            Ok(PublicKey::RSA(key)) => Some(modulus_bits(key.modulus)),
            _ => None,
        };
    }
    let (_, key) = RSAPublicKey::from_der(der).ok()?;
    Some(modulus_bits(key.modulus))
}

fn modulus_bits(modulus: &[u8]) -> usize {
    let Some(start) = modulus.iter().position(|&b| b != 0) else {
        return 0;
    };
    let significant = modulus.len() - start;
    let unused = modulus
        .get(start)
        .map_or(0, |first| first.leading_zeros() as usize);
    significant * 8 - unused
}

/// `p=` may be folded with spaces (RFC 6376 §3.6.1: whitespace is ignored).
fn without_whitespace(value: &str) -> String {
    value.chars().filter(|c| !c.is_ascii_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::{DkimAlgorithm, generate};

    /// A bare RSAPublicKey (DER) with a modulus of `bits` bits.
    fn rsa_public_key(bits: usize) -> String {
        let mut modulus = vec![0x00, 0x80];
        modulus.resize(1 + bits / 8, 0x01);
        let mut body = der_integer(&modulus);
        body.extend(der_integer(&[0x01, 0x00, 0x01]));
        let mut der = vec![0x30];
        der.extend(der_length(body.len()));
        der.extend(body);
        base64::engine::general_purpose::STANDARD.encode(der)
    }

    fn der_integer(value: &[u8]) -> Vec<u8> {
        let mut out = vec![0x02];
        out.extend(der_length(value.len()));
        out.extend(value);
        out
    }

    fn der_length(length: usize) -> Vec<u8> {
        match length {
            0..0x80 => vec![length as u8],
            0x80..0x100 => vec![0x81, length as u8],
            _ => vec![0x82, (length >> 8) as u8, length as u8],
        }
    }

    #[test]
    fn a_generated_rsa_record_parses_with_its_key_length() {
        let generated = generate(DkimAlgorithm::Rsa2048, "clinic.example", "cp").unwrap();
        let key = DkimKey::parse(&generated.dns_txt()).unwrap();
        assert_eq!(key.key_type, "rsa");
        assert_eq!(key.public_key, generated.public_key);
        assert_eq!(key.rsa_bits, Some(2048));
        assert_eq!(key.state(), RecordState::Valid);
        assert!(key.warnings().is_empty());
    }

    #[test]
    fn a_generated_ed25519_record_parses() {
        let generated = generate(DkimAlgorithm::Ed25519, "clinic.example", "cp").unwrap();
        let key = DkimKey::parse(&generated.dns_txt()).unwrap();
        assert_eq!(key.key_type, "ed25519");
        assert_eq!(key.rsa_bits, None);
    }

    #[test]
    fn the_version_tag_is_optional_and_k_defaults_to_rsa() {
        let p = rsa_public_key(2048);
        let key = DkimKey::parse(&format!("p={p}")).unwrap();
        assert_eq!(key.key_type, "rsa");
        assert_eq!(key.rsa_bits, Some(2048));
    }

    #[test]
    fn whitespace_inside_p_is_ignored() {
        let p = rsa_public_key(2048);
        let (head, tail) = p.split_at(40);
        let key = DkimKey::parse(&format!("v=DKIM1; k=rsa; p={head} \t {tail}")).unwrap();
        assert_eq!(key.public_key, p);
    }

    #[test]
    fn an_empty_p_is_a_revoked_key() {
        let key = DkimKey::parse("v=DKIM1; k=rsa; p=").unwrap();
        assert_eq!(key.state(), RecordState::Revoked);
    }

    #[test]
    fn short_rsa_keys_are_warned_about_or_refused() {
        let key = DkimKey::parse(&format!("p={}", rsa_public_key(1024))).unwrap();
        assert_eq!(key.rsa_bits, Some(1024));
        assert!(key.warnings()[0].contains("1024 bits"));

        let error = DkimKey::parse(&format!("p={}", rsa_public_key(512))).unwrap_err();
        assert!(error.contains("512 bits"), "{error}");
    }

    #[test]
    fn the_testing_flag_is_warned_about() {
        let key = DkimKey::parse(&format!("t=s:y; p={}", rsa_public_key(2048))).unwrap();
        assert!(key.testing);
        assert!(key.warnings()[0].contains("t=y"));
    }

    #[test]
    fn malformed_and_near_miss_records_are_refused() {
        let p = rsa_public_key(2048);
        for (text, reason) in [
            ("v=DKIM1; k=rsa".to_owned(), "no p="),
            (format!("k=rsa; v=DKIM1; p={p}"), "first tag"),
            (format!("v=DKIM2; p={p}"), "must be v=DKIM1"),
            (format!("v=dkim1; p={p}"), "must be v=DKIM1"),
            ("v=DKIM1; p=not base64!".to_owned(), "base64"),
            ("v=DKIM1; p=AAAA".to_owned(), "not an RSA public key"),
            ("v=DKIM1; k=ed25519; p=AAAA".to_owned(), "32 bytes"),
            (format!("v=DKIM1; k=dsa; p={p}"), "k=dsa"),
            (format!("v=DKIM1; p={p}; p={p}"), "more than once"),
            (format!("v=DKIM1 p={p}"), "must be v=DKIM1"),
        ] {
            let error = DkimKey::parse(&text).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }
}
