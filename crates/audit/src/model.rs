use carepost_core::{Actor, OrgId};
use serde::Serialize;

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// It was carried out.
    Success,
    /// It was refused by an access rule.
    Denied,
    /// It was attempted and failed.
    Failure,
}

impl Outcome {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Denied => "denied",
            Self::Failure => "failure",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "success" => Some(Self::Success),
            "denied" => Some(Self::Denied),
            "failure" => Some(Self::Failure),
            _ => None,
        }
    }
}

/// What an audit record is about: a kind and an id. Never a PHI value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectRef {
    /// The kind of object (`contact`, `message`, `data_key`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: String,
}

impl ObjectRef {
    /// An object of `kind` with `id`.
    pub fn new(kind: &str, id: impl ToString) -> Self {
        Self {
            kind: kind.to_owned(),
            id: id.to_string(),
        }
    }
}

/// An event to append: what happened, before the log gives it a place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Who acted.
    pub actor: Actor,
    /// What was done (see [`crate::actions`]).
    pub action: String,
    /// What it was done to.
    pub object: ObjectRef,
    /// How it ended.
    pub outcome: Outcome,
    /// Where the request came from (an IP address), if anywhere.
    pub source: Option<String>,
    /// Extra facts as a JSON object (counts, types, rule names), never PHI values.
    pub detail: Option<String>,
}

impl AuditEvent {
    /// A successful `action` on `object` by `actor`.
    pub fn new(actor: Actor, action: &str, object: ObjectRef) -> Self {
        Self {
            actor,
            action: action.to_owned(),
            object,
            outcome: Outcome::Success,
            source: None,
            detail: None,
        }
    }

    /// Sets the outcome.
    pub fn outcome(mut self, outcome: Outcome) -> Self {
        self.outcome = outcome;
        self
    }

    /// Sets the source address.
    pub fn source(mut self, source: Option<std::net::IpAddr>) -> Self {
        self.source = source.map(|s| s.to_string());
        self
    }

    /// Sets the detail from a JSON value (keys sorted, so the text is canonical).
    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail.to_string());
        self
    }
}

/// A record in the chain: an event with its sequence number, time and hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditRecord {
    /// The organization whose chain holds it.
    pub org: OrgId,
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// UTC time in microseconds since the Unix epoch.
    pub time_us: i64,
    /// Who acted.
    pub actor: Actor,
    /// What was done.
    pub action: String,
    /// What it was done to.
    pub object: ObjectRef,
    /// How it ended.
    pub outcome: Outcome,
    /// Source address, if any.
    pub source: Option<String>,
    /// Extra facts (JSON text), never PHI.
    pub detail: Option<String>,
    /// Hash of the previous record (or the chain's genesis hash).
    #[serde(with = "hex_bytes")]
    pub prev_hash: [u8; 32],
    /// This record's hash.
    #[serde(with = "hex_bytes")]
    pub hash: [u8; 32],
}

impl AuditRecord {
    /// Seals `event` at position `seq` after `prev_hash`.
    pub fn seal(
        org: OrgId,
        seq: i64,
        time_us: i64,
        event: AuditEvent,
        prev_hash: [u8; 32],
    ) -> Self {
        let mut rec = Self {
            org,
            seq,
            time_us,
            actor: event.actor,
            action: event.action,
            object: event.object,
            outcome: event.outcome,
            source: event.source,
            detail: event.detail,
            prev_hash,
            hash: [0; 32],
        };
        rec.hash = crate::record_hash(&rec);
        rec
    }

    /// The record's time as a UTC timestamp.
    pub fn time(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_micros(self.time_us).unwrap_or_default()
    }
}

mod hex_bytes {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(bytes: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(bytes))
    }
}
