use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;

use super::{DkimAlgorithm, DkimError, PrivateKey};

/// A new DKIM key and the DNS record that publishes its public half.
#[derive(Debug)]
pub struct GeneratedKey {
    /// Algorithm.
    pub algorithm: DkimAlgorithm,
    /// Signing domain (`d=`).
    pub domain: String,
    /// Selector (`s=`).
    pub selector: String,
    /// The private key (PKCS#8): store it encrypted.
    pub private_key: PrivateKey,
    /// Base64 public key as published in `p=` (SubjectPublicKeyInfo for RSA, the raw
    /// 32-byte key for Ed25519 per RFC 8463).
    pub public_key: String,
}

impl GeneratedKey {
    /// The DNS name of the record: `<selector>._domainkey.<domain>`.
    pub fn dns_name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }

    /// The TXT record value: `v=DKIM1; k=rsa; p=...`.
    pub fn dns_txt(&self) -> String {
        format!(
            "v=DKIM1; k={}; p={}",
            self.algorithm.key_type(),
            self.public_key
        )
    }

    /// A zone-file line, with the value split into quoted strings of at most 255 bytes.
    pub fn dns_record(&self) -> String {
        let txt = self.dns_txt();
        let parts: Vec<String> = txt
            .as_bytes()
            .chunks(255)
            .map(|chunk| format!("\"{}\"", String::from_utf8_lossy(chunk)))
            .collect();
        format!("{}. IN TXT {}", self.dns_name(), parts.join(" "))
    }
}

/// Generates a key for `domain` with `selector` (for `carepost dkim generate DOMAIN`).
pub fn generate(
    algorithm: DkimAlgorithm,
    domain: &str,
    selector: &str,
) -> Result<GeneratedKey, DkimError> {
    check_name("domain", domain)?;
    check_name("selector", selector)?;
    let (private_key, public_der) = match algorithm {
        DkimAlgorithm::Rsa2048 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| DkimError::Generate)?;
            let private: Pkcs8V1Der<'static> = pair.as_der().map_err(|_| DkimError::Generate)?;
            let public: PublicKeyX509Der<'static> = pair
                .public_key()
                .as_der()
                .map_err(|_| DkimError::Generate)?;
            (
                PrivateKey::from_pkcs8_der(private.as_ref().to_vec()),
                public.as_ref().to_vec(),
            )
        }
        DkimAlgorithm::Ed25519 => {
            let rng = aws_lc_rs::rand::SystemRandom::new();
            let document = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| DkimError::Generate)?;
            let pair =
                Ed25519KeyPair::from_pkcs8(document.as_ref()).map_err(|_| DkimError::Generate)?;
            let public = pair.public_key().as_ref().to_vec();
            (
                PrivateKey::from_pkcs8_der(document.as_ref().to_vec()),
                public,
            )
        }
    };
    Ok(GeneratedKey {
        algorithm,
        domain: domain.to_ascii_lowercase(),
        selector: selector.to_ascii_lowercase(),
        private_key,
        public_key: base64::engine::general_purpose::STANDARD.encode(public_der),
    })
}

pub(super) fn check_name(what: &'static str, value: &str) -> Result<(), DkimError> {
    let valid = !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if valid {
        return Ok(());
    }
    Err(DkimError::BadName {
        what,
        value: value.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_rsa_key_comes_with_its_dns_record() {
        let key = generate(DkimAlgorithm::Rsa2048, "Clinic.example", "cp2026").unwrap();
        assert_eq!(key.dns_name(), "cp2026._domainkey.clinic.example");
        assert!(key.dns_txt().starts_with("v=DKIM1; k=rsa; p=MIIBIjAN"));
        let record = key.dns_record();
        assert!(record.starts_with("cp2026._domainkey.clinic.example. IN TXT \"v=DKIM1"));
        assert!(
            record.contains("\" \""),
            "long values are split into 255-byte strings"
        );
    }

    #[test]
    fn an_ed25519_key_publishes_the_raw_public_key() {
        let key = generate(DkimAlgorithm::Ed25519, "clinic.example", "ed").unwrap();
        let raw = base64::engine::general_purpose::STANDARD
            .decode(&key.public_key)
            .unwrap();
        assert_eq!(raw.len(), 32);
        assert!(key.dns_txt().starts_with("v=DKIM1; k=ed25519; p="));
    }

    #[test]
    fn names_with_spaces_or_quotes_are_refused() {
        assert!(generate(DkimAlgorithm::Ed25519, "bad domain", "s").is_err());
        assert!(generate(DkimAlgorithm::Ed25519, "ok.example", "s\"; p=").is_err());
    }
}
