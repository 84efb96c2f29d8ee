use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The DNSSEC status of an answer (RFC 4035 §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DnssecStatus {
    /// Validated from a trust anchor.
    Secure,
    /// Provably unsigned.
    Insecure,
    /// Should be signed but did not validate: possibly forged, never to be used.
    Bogus,
    /// The resolver could not tell (no validation, or the validation data was unavailable).
    Indeterminate,
}

impl DnssecStatus {
    /// The status of a set made of records with the given statuses: `Bogus` if any is
    /// bogus, `Secure` only if all are secure, `Indeterminate` for an empty set.
    pub fn combine(statuses: impl IntoIterator<Item = DnssecStatus>) -> DnssecStatus {
        let mut combined = None;
        for status in statuses {
            combined = Some(match (combined, status) {
                (_, Self::Bogus) | (Some(Self::Bogus), _) => Self::Bogus,
                (None, status) => status,
                (Some(Self::Secure), Self::Secure) => Self::Secure,
                (Some(Self::Indeterminate), _) | (_, Self::Indeterminate) => Self::Indeterminate,
                _ => Self::Insecure,
            });
        }
        combined.unwrap_or(Self::Indeterminate)
    }
}

/// One MX record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxRecord {
    /// Lower values are preferred.
    pub preference: u16,
    /// The mail exchanger's host name, without trailing dot ("" for the root, i.e. null MX).
    pub exchange: String,
}

/// The answer to an MX query. An empty `records` list means the domain exists but has no MX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxAnswer {
    /// The records, in the order received.
    pub records: Vec<MxRecord>,
    /// DNSSEC status of the set.
    pub dnssec: DnssecStatus,
    /// How long the answer may be cached.
    pub ttl: Duration,
}

/// One TLSA record (RFC 6698 §2.1), kept as raw numbers so that unknown values survive
/// and can be reported as unusable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsaRecord {
    /// Certificate usage: 0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE.
    pub usage: u8,
    /// Selector: 0 full certificate, 1 SubjectPublicKeyInfo.
    pub selector: u8,
    /// Matching type: 0 exact, 1 SHA-256, 2 SHA-512.
    pub matching: u8,
    /// Certificate association data.
    #[serde(with = "hex_bytes")]
    pub data: Vec<u8>,
}

impl TlsaRecord {
    /// Parses the presentation form `"3 1 1 ab12..."` (hex data may contain spaces).
    pub fn parse(text: &str) -> Option<TlsaRecord> {
        let mut fields = text.split_ascii_whitespace();
        let usage = fields.next()?.parse().ok()?;
        let selector = fields.next()?.parse().ok()?;
        let matching = fields.next()?.parse().ok()?;
        let hex_text: String = fields.collect();
        let data = hex::decode(hex_text).ok()?;
        if data.is_empty() {
            return None;
        }
        Some(TlsaRecord {
            usage,
            selector,
            matching,
            data,
        })
    }
}

impl std::fmt::Display for TlsaRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let data = hex::encode(&self.data);
        write!(
            f,
            "{} {} {} {data}",
            self.usage, self.selector, self.matching
        )
    }
}

/// The answer to a TLSA query. An empty `records` list means no TLSA records exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsaAnswer {
    /// The records.
    pub records: Vec<TlsaRecord>,
    /// DNSSEC status of the set (or of the denial of existence).
    pub dnssec: DnssecStatus,
}

/// The answer to a TXT query: one byte string per record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtAnswer {
    /// Each record's character-strings concatenated (RFC 7208 §3.3 style).
    pub records: Vec<Vec<u8>>,
    /// DNSSEC status of the set.
    pub dnssec: DnssecStatus,
}

mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(bytes))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        hex::decode(text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlsa_presentation_form_parses_with_spaced_hex() {
        let record = TlsaRecord::parse("3 1 1 0a0B 0c").unwrap();
        assert_eq!(record.usage, 3);
        assert_eq!(record.data, vec![0x0a, 0x0b, 0x0c]);
        assert_eq!(record.to_string(), "3 1 1 0a0b0c");
    }

    #[test]
    fn tlsa_parse_refuses_garbage() {
        assert!(TlsaRecord::parse("3 1").is_none());
        assert!(TlsaRecord::parse("3 1 1 zz").is_none());
        assert!(TlsaRecord::parse("300 1 1 00").is_none());
    }

    #[test]
    fn combined_status_is_bogus_if_any_record_is_bogus() {
        use DnssecStatus::*;
        assert_eq!(DnssecStatus::combine([Secure, Secure]), Secure);
        assert_eq!(DnssecStatus::combine([Secure, Insecure]), Insecure);
        assert_eq!(DnssecStatus::combine([Secure, Bogus, Insecure]), Bogus);
        assert_eq!(DnssecStatus::combine([]), Indeterminate);
    }
}
