use mail_auth::common::crypto::{Ed25519Key, RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::{Canonicalization, DkimSigner, Done};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use super::generate::check_name;
use super::{DkimAlgorithm, DkimError, PrivateKey};

/// Headers signed when present (From is required by RFC 6376 §5.4).
const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "In-Reply-To",
    "References",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
];

enum AnySigner {
    Rsa(DkimSigner<RsaKey<Sha256>, Done>),
    Ed25519(DkimSigner<Ed25519Key, Done>),
}

/// Signs messages with one or more DKIM keys (relaxed/relaxed canonicalization).
pub struct Signer {
    signers: Vec<AnySigner>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("signatures", &self.signers.len())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer with one key.
    pub fn new(
        domain: &str,
        selector: &str,
        algorithm: DkimAlgorithm,
        key: &PrivateKey,
    ) -> Result<Signer, DkimError> {
        let mut signer = Signer {
            signers: Vec::new(),
        };
        signer.add(domain, selector, algorithm, key)?;
        Ok(signer)
    }

    /// Adds another signature (e.g. Ed25519 next to RSA).
    pub fn add(
        &mut self,
        domain: &str,
        selector: &str,
        algorithm: DkimAlgorithm,
        key: &PrivateKey,
    ) -> Result<(), DkimError> {
        check_name("domain", domain)?;
        check_name("selector", selector)?;
        let bad_key = |_| DkimError::BadKey { algorithm };
        let signer = match algorithm {
            DkimAlgorithm::Rsa2048 => {
                let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8_der()));
                let key = RsaKey::<Sha256>::from_key_der(der).map_err(bad_key)?;
                AnySigner::Rsa(configure(DkimSigner::from_key(key), domain, selector))
            }
            DkimAlgorithm::Ed25519 => {
                let key = Ed25519Key::from_pkcs8_der(key.pkcs8_der()).map_err(bad_key)?;
                AnySigner::Ed25519(configure(DkimSigner::from_key(key), domain, selector))
            }
        };
        self.signers.push(signer);
        Ok(())
    }

    /// Returns the message to send: the `DKIM-Signature` headers followed by `message`
    /// with whitespace-only lines removed from the end of its body.
    ///
    /// mail-auth 0.13.3 computes the relaxed body hash wrongly for bodies ending in
    /// whitespace-only lines; such lines carry no meaning (relaxed canonicalization
    /// drops them anyway), so they are removed before signing and sending.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, DkimError> {
        let message = strip_trailing_blank_lines(message);
        let mut headers = String::new();
        for signer in &self.signers {
            let signature = match signer {
                AnySigner::Rsa(s) => s.sign(&message),
                AnySigner::Ed25519(s) => s.sign(&message),
            };
            let signature = signature.map_err(|e| DkimError::Sign(e.to_string()))?;
            headers.push_str(&signature.to_header());
        }
        let mut signed = Vec::with_capacity(headers.len() + message.len());
        signed.extend_from_slice(headers.as_bytes());
        signed.extend_from_slice(&message);
        Ok(signed)
    }
}

fn configure<T: mail_auth::common::crypto::SigningKey>(
    signer: DkimSigner<T, mail_auth::dkim::NeedDomain>,
    domain: &str,
    selector: &str,
) -> DkimSigner<T, Done> {
    signer
        .domain(domain)
        .selector(selector)
        .headers(SIGNED_HEADERS)
        .header_canonicalization(Canonicalization::Relaxed)
        .body_canonicalization(Canonicalization::Relaxed)
}

/// Removes lines made only of spaces and tabs (and empty lines) from the end of the body,
/// keeping one final CRLF. The header section is untouched; a message without a body
/// separator is returned unchanged.
pub fn strip_trailing_blank_lines(message: &[u8]) -> Vec<u8> {
    let Some(body_start) = body_start(message) else {
        return message.to_vec();
    };
    let body = &message[body_start..];
    let mut end = body.len();
    loop {
        let trimmed = trim_line_end(&body[..end]);
        let line_start = trimmed
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |p| p + 1);
        let last_line = &trimmed[line_start..];
        if trimmed.is_empty() || !last_line.iter().all(|b| *b == b' ' || *b == b'\t') {
            end = trimmed.len();
            break;
        }
        end = line_start;
    }
    let mut out = message[..body_start + end].to_vec();
    if end > 0 {
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn body_start(message: &[u8]) -> Option<usize> {
    let crlf = message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4);
    let lf = message.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn trim_line_end(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b'\r' | b'\n') {
        end -= 1;
        if end > 0 && bytes[end - 1] != b'\r' && bytes[end - 1] != b'\n' {
            break;
        }
    }
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dkim::generate;

    #[test]
    fn whitespace_only_trailing_lines_are_removed() {
        let message = b"Subject: x\r\n\r\nHello\r\n  \r\n\t\r\n\r\n";
        assert_eq!(
            strip_trailing_blank_lines(message),
            b"Subject: x\r\n\r\nHello\r\n"
        );
        assert_eq!(
            strip_trailing_blank_lines(b"Subject: x\r\n\r\n \r\n"),
            b"Subject: x\r\n\r\n"
        );
        assert_eq!(
            strip_trailing_blank_lines(b"Subject: x\r\n\r\nA\r\n B"),
            b"Subject: x\r\n\r\nA\r\n B\r\n"
        );
        assert_eq!(strip_trailing_blank_lines(b"no body"), b"no body");
    }

    #[test]
    fn rsa_and_ed25519_signatures_are_both_added() {
        let rsa = generate(DkimAlgorithm::Rsa2048, "clinic.example", "rsa").unwrap();
        let ed = generate(DkimAlgorithm::Ed25519, "clinic.example", "ed").unwrap();
        let mut signer = Signer::new(
            "clinic.example",
            "rsa",
            DkimAlgorithm::Rsa2048,
            &rsa.private_key,
        )
        .unwrap();
        signer
            .add(
                "clinic.example",
                "ed",
                DkimAlgorithm::Ed25519,
                &ed.private_key,
            )
            .unwrap();

        let signed = signer
            .sign(b"From: a@clinic.example\r\nSubject: t\r\n\r\nbody\r\n")
            .unwrap();
        let text = String::from_utf8(signed).unwrap();
        assert_eq!(text.matches("DKIM-Signature:").count(), 2);
        assert!(text.contains("a=rsa-sha256") && text.contains("a=ed25519-sha256"));
    }

    #[test]
    fn a_key_of_the_wrong_algorithm_is_refused() {
        let ed = generate(DkimAlgorithm::Ed25519, "clinic.example", "ed").unwrap();
        assert!(
            Signer::new(
                "clinic.example",
                "s",
                DkimAlgorithm::Rsa2048,
                &ed.private_key
            )
            .is_err()
        );
    }
}
