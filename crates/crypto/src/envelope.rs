//! Field ciphertexts and blind indexes for one organization.
//!
//! Ciphertext layout: `0x01 | data key version (u32, big-endian) | nonce (12) | AES-256-GCM
//! ciphertext and tag`. The associated data names the organization, table, column and row,
//! so a ciphertext moved to any other place fails to open. Nonces are random: with
//! 96-bit nonces a data key stays far below the 2^32-message bound as long as it is
//! rotated (`carepost keys rotate`) before it seals a few hundred million fields.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use carepost_core::OrgId;
use zeroize::Zeroizing;

use crate::{CryptoError, DataKey, KeyVersion, random_bytes};

const FORMAT_V1: u8 = 1;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// Where a field value lives: its associated data.
#[derive(Debug, Clone, Copy)]
pub struct FieldContext<'a> {
    /// Table name.
    pub table: &'a str,
    /// Column name.
    pub column: &'a str,
    /// The row's id, as text.
    pub row: &'a str,
}

struct VersionKeys {
    aead: LessSafeKey,
    index: hmac::Key,
}

/// The data keys of one organization, unwrapped: seals and opens its fields and
/// computes its blind indexes.
pub struct OrgKeyring {
    org: OrgId,
    active: KeyVersion,
    keys: BTreeMap<KeyVersion, VersionKeys>,
}

impl OrgKeyring {
    /// A keyring over `keys`; `active` must be one of them.
    pub fn new(org: OrgId, active: KeyVersion, keys: &[DataKey]) -> Result<Self, CryptoError> {
        let mut map = BTreeMap::new();
        for dk in keys {
            let enc = dk.derive(b"carepost/field-encryption/v1");
            let idx = dk.derive(b"carepost/blind-index/v1");
            let unbound = UnboundKey::new(&AES_256_GCM, enc.as_ref())
                .map_err(|_| CryptoError::InvalidKey("field key"))?;
            map.insert(
                dk.version(),
                VersionKeys {
                    aead: LessSafeKey::new(unbound),
                    index: hmac::Key::new(hmac::HMAC_SHA256, idx.as_ref()),
                },
            );
        }
        if !map.contains_key(&active) {
            return Err(CryptoError::UnknownKeyVersion(active));
        }
        Ok(Self {
            org,
            active,
            keys: map,
        })
    }

    /// The organization these keys belong to.
    pub fn org(&self) -> OrgId {
        self.org
    }

    /// The version that seals new values.
    pub fn active_version(&self) -> KeyVersion {
        self.active
    }

    /// Every version loaded, oldest first.
    pub fn versions(&self) -> Vec<KeyVersion> {
        self.keys.keys().copied().collect()
    }

    /// Seals `plaintext` with the active key.
    pub fn seal(&self, at: &FieldContext<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.seal_with(self.active, at, plaintext)
    }

    /// Seals `plaintext` with key `version`.
    pub fn seal_with(
        &self,
        version: KeyVersion,
        at: &FieldContext<'_>,
        plaintext: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let keys = self
            .keys
            .get(&version)
            .ok_or(CryptoError::UnknownKeyVersion(version))?;
        let nonce = random_bytes::<NONCE_LEN>()?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + 16);
        out.push(FORMAT_V1);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let mut body = out.split_off(HEADER_LEN);
        keys.aead
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad(at)),
                &mut body,
            )
            .map_err(|_| CryptoError::Malformed("value too large to seal"))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    /// Opens a ciphertext sealed for exactly this place.
    pub fn open(
        &self,
        at: &FieldContext<'_>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let version = ciphertext_key_version(ciphertext)?;
        let keys = self
            .keys
            .get(&version)
            .ok_or(CryptoError::UnknownKeyVersion(version))?;
        let (header, body) = ciphertext.split_at(HEADER_LEN);
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&header[5..]);
        let mut buf = Zeroizing::new(body.to_vec());
        let plain = keys
            .aead
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(self.aad(at)),
                &mut buf,
            )
            .map_err(|_| CryptoError::Tampered)?;
        Ok(Zeroizing::new(plain.to_vec()))
    }

    /// The blind index of `value` under the active key: a keyed hash that supports
    /// equality lookups without storing the value. Normalize `value` first (for
    /// example lower-case an email address) so that equal values index equally.
    pub fn blind_index(&self, table: &str, column: &str, value: &[u8]) -> Vec<u8> {
        self.blind_index_with(self.active, table, column, value)
            .unwrap_or_default()
    }

    /// The blind index of `value` under key `version`.
    pub fn blind_index_with(
        &self,
        version: KeyVersion,
        table: &str,
        column: &str,
        value: &[u8],
    ) -> Result<Vec<u8>, CryptoError> {
        let keys = self
            .keys
            .get(&version)
            .ok_or(CryptoError::UnknownKeyVersion(version))?;
        let mut ctx = hmac::Context::with_key(&keys.index);
        ctx.update(table.as_bytes());
        ctx.update(b"\0");
        ctx.update(column.as_bytes());
        ctx.update(b"\0");
        ctx.update(value);
        Ok(ctx.sign().as_ref().to_vec())
    }

    /// The blind indexes of `value` under every loaded version: a lookup matches rows
    /// indexed before and after a rotation.
    pub fn blind_indexes(&self, table: &str, column: &str, value: &[u8]) -> Vec<Vec<u8>> {
        self.keys
            .keys()
            .filter_map(|v| self.blind_index_with(*v, table, column, value).ok())
            .collect()
    }

    fn aad(&self, at: &FieldContext<'_>) -> Vec<u8> {
        let mut aad = Vec::with_capacity(64 + at.table.len() + at.column.len() + at.row.len());
        aad.extend_from_slice(b"carepost/field/v1\0");
        aad.extend_from_slice(self.org.as_uuid().as_bytes());
        for part in [at.table, at.column, at.row] {
            aad.extend_from_slice(part.as_bytes());
            aad.push(0);
        }
        aad
    }
}

impl fmt::Debug for OrgKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrgKeyring")
            .field("org", &self.org)
            .field("active", &self.active)
            .field("versions", &self.versions())
            .finish_non_exhaustive()
    }
}

/// The data key version a ciphertext was sealed with, read from its header.
pub fn ciphertext_key_version(ciphertext: &[u8]) -> Result<KeyVersion, CryptoError> {
    if ciphertext.len() < HEADER_LEN + 16 {
        return Err(CryptoError::Malformed("shorter than header and tag"));
    }
    if ciphertext[0] != FORMAT_V1 {
        return Err(CryptoError::Malformed("unknown ciphertext format"));
    }
    let mut v = [0u8; 4];
    v.copy_from_slice(&ciphertext[1..5]);
    Ok(u32::from_be_bytes(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(active: u32, versions: &[u32]) -> OrgKeyring {
        let keys: Vec<DataKey> = versions
            .iter()
            .map(|v| DataKey::generate(*v).unwrap())
            .collect();
        OrgKeyring::new(OrgId::new(), active, &keys).unwrap()
    }

    const AT: FieldContext<'static> = FieldContext {
        table: "contacts",
        column: "email",
        row: "r1",
    };

    #[test]
    fn sealed_fields_open_in_their_own_place_only() {
        let r = ring(1, &[1]);
        let ct = r.seal(&AT, b"maria@example.org").unwrap();
        assert_eq!(&r.open(&AT, &ct).unwrap()[..], b"maria@example.org");
        for other in [
            FieldContext { row: "r2", ..AT },
            FieldContext {
                column: "name",
                ..AT
            },
            FieldContext {
                table: "messages",
                ..AT
            },
        ] {
            assert!(matches!(r.open(&other, &ct), Err(CryptoError::Tampered)));
        }
    }

    #[test]
    fn a_ciphertext_never_opens_for_another_organization() {
        let keys = vec![DataKey::generate(1).unwrap()];
        let a = OrgKeyring::new(OrgId::new(), 1, &keys).unwrap();
        let b = OrgKeyring::new(OrgId::new(), 1, &keys).unwrap();
        let ct = a.seal(&AT, b"x").unwrap();
        assert!(matches!(b.open(&AT, &ct), Err(CryptoError::Tampered)));
    }

    #[test]
    fn a_flipped_bit_is_detected() {
        let r = ring(1, &[1]);
        let mut ct = r.seal(&AT, b"hello").unwrap();
        let last = ct.len() - 1;
        ct[last] ^= 1;
        assert!(matches!(r.open(&AT, &ct), Err(CryptoError::Tampered)));
    }

    #[test]
    fn old_versions_stay_readable_after_rotation() {
        let keys = vec![DataKey::generate(1).unwrap(), DataKey::generate(2).unwrap()];
        let org = OrgId::new();
        let r = OrgKeyring::new(org, 2, &keys).unwrap();
        let old = r.seal_with(1, &AT, b"old").unwrap();
        let new = r.seal(&AT, b"new").unwrap();
        assert_eq!(ciphertext_key_version(&old).unwrap(), 1);
        assert_eq!(ciphertext_key_version(&new).unwrap(), 2);
        assert_eq!(&r.open(&AT, &old).unwrap()[..], b"old");
        let only_new = OrgKeyring::new(org, 2, &keys[1..]).unwrap();
        assert!(matches!(
            only_new.open(&AT, &old),
            Err(CryptoError::UnknownKeyVersion(1))
        ));
    }

    #[test]
    fn blind_indexes_match_equal_values_and_differ_by_column_and_version() {
        let r = ring(2, &[1, 2]);
        let a = r.blind_index("contacts", "email", b"a@x.org");
        assert_eq!(a, r.blind_index("contacts", "email", b"a@x.org"));
        assert_ne!(a, r.blind_index("contacts", "phone", b"a@x.org"));
        let all = r.blind_indexes("contacts", "email", b"a@x.org");
        assert_eq!(all.len(), 2);
        assert!(all.contains(&a));
    }

    #[test]
    fn refuses_malformed_ciphertexts() {
        let r = ring(1, &[1]);
        assert!(matches!(r.open(&AT, b""), Err(CryptoError::Malformed(_))));
        assert!(matches!(
            r.open(&AT, &[9u8; 64]),
            Err(CryptoError::Malformed(_))
        ));
    }
}
