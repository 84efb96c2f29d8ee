//! The `_mta-sts.<domain>` TXT record (RFC 8461 §3.1).

use thiserror::Error;

/// A parsed `v=STSv1; id=...` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StsRecord {
    /// The policy id: changes whenever the policy file changes.
    pub id: String,
}

/// Why the TXT records did not yield exactly one valid MTA-STS record.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StsRecordError {
    /// No record starts with `v=STSv1`: the domain has no MTA-STS policy.
    #[error("no MTA-STS TXT record")]
    Missing,
    /// More than one record starts with `v=STSv1` (RFC 8461 §3.1: treat as no policy).
    #[error("several MTA-STS TXT records were published; the domain must publish one")]
    Multiple,
    /// The record is malformed.
    #[error("malformed MTA-STS TXT record: {0}")]
    Malformed(&'static str),
}

/// Picks and parses the MTA-STS record among all TXT records at `_mta-sts.<domain>`.
pub fn parse_records<'a>(
    records: impl IntoIterator<Item = &'a [u8]>,
) -> Result<StsRecord, StsRecordError> {
    let mut candidates = records.into_iter().filter(|r| starts_with_version(r));
    let first = candidates.next().ok_or(StsRecordError::Missing)?;
    if candidates.next().is_some() {
        return Err(StsRecordError::Multiple);
    }
    parse_record(first)
}

/// Parses one record already known to start with `v=STSv1`.
pub fn parse_record(record: &[u8]) -> Result<StsRecord, StsRecordError> {
    let text = std::str::from_utf8(record).map_err(|_| StsRecordError::Malformed("not UTF-8"))?;
    let mut fields = text.split(';').map(str::trim).filter(|f| !f.is_empty());
    if fields.next() != Some("v=STSv1") {
        return Err(StsRecordError::Malformed("the first field must be v=STSv1"));
    }

    let mut id = None;
    for field in fields {
        let (key, value) = field
            .split_once('=')
            .ok_or(StsRecordError::Malformed("field without '='"))?;
        if key.trim() == "id" && id.is_none() {
            id = Some(value.trim());
        }
    }

    let id = id.ok_or(StsRecordError::Malformed("missing id"))?;
    let valid = (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
    if !valid {
        return Err(StsRecordError::Malformed(
            "id must be 1 to 32 letters or digits",
        ));
    }
    Ok(StsRecord { id: id.to_owned() })
}

fn starts_with_version(record: &[u8]) -> bool {
    let trimmed = record
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .copied();
    let prefix: Vec<u8> = trimmed.take(7).collect();
    prefix == b"v=STSv1"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_record_parses() {
        let record = parse_records([b"v=STSv1; id=20160831085700Z;".as_slice()]).unwrap();
        assert_eq!(record.id, "20160831085700Z");
    }

    #[test]
    fn unrelated_txt_records_are_ignored_and_duplicates_refused() {
        let spf = b"v=spf1 -all".as_slice();
        let sts = b"v=STSv1;id=abc".as_slice();
        assert_eq!(parse_records([spf, sts]).unwrap().id, "abc");
        assert_eq!(parse_records([spf]), Err(StsRecordError::Missing));
        assert_eq!(parse_records([sts, sts]), Err(StsRecordError::Multiple));
    }

    #[test]
    fn malformed_ids_are_refused() {
        assert!(parse_record(b"v=STSv1; id=").is_err());
        assert!(parse_record(b"v=STSv1; id=has-dash").is_err());
        assert!(parse_record(b"v=STSv1").is_err());
        assert!(parse_record(&[b'v', b'=', 0xff]).is_err());
    }
}
