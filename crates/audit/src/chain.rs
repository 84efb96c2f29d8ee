//! The hash chain. A record's hash is SHA-256 over a length-prefixed encoding of every
//! field and the previous hash, so that no two different records encode alike.

use carepost_core::OrgId;

use crate::AuditRecord;

/// The `prev_hash` of an organization's first record.
pub fn genesis_hash(org: OrgId) -> [u8; 32] {
    let mut buf = b"carepost/audit/genesis/v1\0".to_vec();
    buf.extend_from_slice(org.as_uuid().as_bytes());
    carepost_crypto::sha256(&buf)
}

/// The hash of `record`, computed from its fields and `prev_hash` (its own `hash` field
/// is ignored).
pub fn record_hash(record: &AuditRecord) -> [u8; 32] {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"carepost/audit/record/v1\0");
    buf.extend_from_slice(record.org.as_uuid().as_bytes());
    buf.extend_from_slice(&record.seq.to_be_bytes());
    buf.extend_from_slice(&record.time_us.to_be_bytes());
    for field in [
        Some(record.actor.kind()),
        Some(record.actor.id()),
        Some(record.action.as_str()),
        Some(record.object.kind.as_str()),
        Some(record.object.id.as_str()),
        Some(record.outcome.as_str()),
        record.source.as_deref(),
        record.detail.as_deref(),
    ] {
        match field {
            None => buf.push(0),
            Some(text) => {
                buf.push(1);
                buf.extend_from_slice(&(text.len() as u64).to_be_bytes());
                buf.extend_from_slice(text.as_bytes());
            }
        }
    }
    buf.extend_from_slice(&record.prev_hash);
    carepost_crypto::sha256(&buf)
}

#[cfg(test)]
mod tests {
    use carepost_core::Actor;

    use super::*;
    use crate::{AuditEvent, ObjectRef};

    fn record(detail: Option<&str>, source: Option<&str>) -> AuditRecord {
        let org = OrgId::new();
        let mut e = AuditEvent::new(
            Actor::system("t"),
            "contact.read",
            ObjectRef::new("contact", "1"),
        );
        e.detail = detail.map(str::to_owned);
        e.source = source.map(str::to_owned);
        AuditRecord::seal(org, 1, 0, e, genesis_hash(org))
    }

    #[test]
    fn absent_and_empty_fields_hash_differently() {
        assert_ne!(record(None, Some("")).hash, record(Some(""), None).hash);
        assert_ne!(record(None, None).hash, record(Some(""), None).hash);
    }
}
