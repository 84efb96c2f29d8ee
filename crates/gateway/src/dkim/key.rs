use std::fmt;

use base64::Engine;
use zeroize::Zeroizing;

/// A DKIM private key in PKCS#8 DER, wiped from memory when dropped and never printed.
#[derive(Clone)]
pub struct PrivateKey {
    pkcs8_der: Zeroizing<Vec<u8>>,
}

impl PrivateKey {
    /// Wraps PKCS#8 DER bytes (as stored, after decryption).
    pub fn from_pkcs8_der(der: Vec<u8>) -> PrivateKey {
        PrivateKey {
            pkcs8_der: Zeroizing::new(der),
        }
    }

    /// Parses a `-----BEGIN PRIVATE KEY-----` PEM block.
    pub fn from_pem(pem: &str) -> Option<PrivateKey> {
        let body: String = pem
            .lines()
            .map(str::trim)
            .skip_while(|line| *line != "-----BEGIN PRIVATE KEY-----")
            .skip(1)
            .take_while(|line| *line != "-----END PRIVATE KEY-----")
            .collect();
        let body = Zeroizing::new(body);
        let der = base64::engine::general_purpose::STANDARD
            .decode(body.as_bytes())
            .ok()?;
        Some(PrivateKey::from_pkcs8_der(der))
    }

    /// The PKCS#8 DER bytes (to encrypt and store).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8_der
    }

    /// The key as a PKCS#8 PEM block.
    pub fn to_pem(&self) -> Zeroizing<String> {
        let encoded = Zeroizing::new(
            base64::engine::general_purpose::STANDARD.encode(self.pkcs8_der.as_slice()),
        );
        let mut pem = Zeroizing::new(String::from("-----BEGIN PRIVATE KEY-----\n"));
        for chunk in encoded.as_bytes().chunks(64) {
            pem.push_str(&String::from_utf8_lossy(chunk));
            pem.push('\n');
        }
        pem.push_str("-----END PRIVATE KEY-----\n");
        pem
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PrivateKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_keys_round_trip_through_pem_and_never_debug_print() {
        let key = PrivateKey::from_pkcs8_der(vec![1, 2, 3, 250]);
        let again = PrivateKey::from_pem(&key.to_pem()).unwrap();
        assert_eq!(again.pkcs8_der(), key.pkcs8_der());
        assert_eq!(format!("{key:?}"), "PrivateKey(<redacted>)");
    }
}
