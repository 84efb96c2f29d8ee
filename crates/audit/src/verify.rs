//! Walking a chain to find the first record that is not what it was.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use carepost_core::OrgId;
use serde::Serialize;

use crate::{AuditRecord, Checkpoint, genesis_hash, record_hash};

/// The first thing found wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Problem {
    /// A record's content no longer matches its hash: it was edited, or moved to another
    /// position (the position is part of the hash).
    Edited {
        /// The record.
        seq: i64,
    },
    /// A record does not follow the one before it: a record was inserted or replaced
    /// before it.
    BrokenLink {
        /// The record whose `prev_hash` does not match.
        seq: i64,
    },
    /// Records are missing: the walk expected `expected` and found `found`.
    Missing {
        /// The first missing sequence number.
        expected: i64,
        /// The next sequence number present.
        found: i64,
    },
    /// A record appears where an earlier sequence number was expected.
    OutOfOrder {
        /// The record.
        seq: i64,
    },
    /// A record belongs to another organization's chain.
    WrongOrganization {
        /// The record.
        seq: i64,
    },
    /// The chain ends before a point it is known to have reached (head or checkpoint):
    /// its last records were deleted.
    Truncated {
        /// The last record present.
        last_seq: i64,
        /// The sequence number known to exist.
        known_seq: i64,
    },
    /// Records exist past the recorded head of the chain: they were inserted.
    BeyondHead {
        /// The first record past the head.
        seq: i64,
    },
    /// A signed checkpoint disagrees with the record at its position: the chain was
    /// rewritten from there or earlier.
    CheckpointMismatch {
        /// The checkpoint's sequence number.
        seq: i64,
    },
    /// The chain has records but its recorded head is gone.
    HeadMissing,
    /// A checkpoint's signature is invalid, or it was signed by a key that is not trusted.
    BadCheckpointSignature {
        /// The checkpoint's sequence number.
        seq: i64,
        /// The key id the checkpoint names.
        key_id: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Edited { seq } => write!(
                f,
                "record {seq} was altered: its content does not match its hash"
            ),
            Self::BrokenLink { seq } => write!(
                f,
                "record {seq} does not follow record {}: a record was inserted or replaced before it",
                seq - 1
            ),
            Self::Missing { expected, found } => write!(
                f,
                "record {expected} is missing (the next record is {found}): records were deleted"
            ),
            Self::OutOfOrder { seq } => write!(
                f,
                "record {seq} is out of order: records were reordered or duplicated"
            ),
            Self::WrongOrganization { seq } => {
                write!(f, "record {seq} belongs to another organization's chain")
            }
            Self::Truncated {
                last_seq,
                known_seq,
            } => write!(
                f,
                "the chain ends at record {last_seq} but record {known_seq} is known to exist: records were deleted from the end"
            ),
            Self::BeyondHead { seq } => write!(
                f,
                "record {seq} lies past the recorded head of the chain: records were inserted"
            ),
            Self::CheckpointMismatch { seq } => write!(
                f,
                "record {seq} differs from the signed checkpoint at {seq}: the chain was rewritten"
            ),
            Self::HeadMissing => write!(
                f,
                "the chain has records but its recorded head is missing: the head was deleted"
            ),
            Self::BadCheckpointSignature { seq, key_id } => write!(
                f,
                "the checkpoint at record {seq} has an invalid signature or an untrusted key ({key_id})"
            ),
        }
    }
}

/// The result of verifying one organization's chain.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The organization.
    pub org: OrgId,
    /// Records walked.
    pub records: u64,
    /// The last sequence number seen (0 for an empty chain).
    pub last_seq: i64,
    /// Checkpoints whose signature and position were checked.
    pub checkpoints: u64,
    /// The last checkpoint's sequence number, if any.
    pub last_checkpoint_seq: Option<i64>,
    /// The first problem, if any.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// Whether the chain is intact.
    pub fn is_intact(&self) -> bool {
        self.problem.is_none()
    }
}

/// Verifies a chain fed to it in sequence order, one record at a time, so that a chain
/// of any length is checked in constant memory (plus its checkpoints).
pub struct ChainVerifier {
    org: OrgId,
    expected: i64,
    prev_hash: [u8; 32],
    records: u64,
    checkpoints: BTreeMap<i64, Checkpoint>,
    problem: Option<Problem>,
}

impl ChainVerifier {
    /// A verifier for `org`'s chain. Each checkpoint is checked against `trusted_keys`
    /// (key id → public key); pass the keys exported earlier and kept apart from the
    /// database to detect a rewrite by someone who could also replace the stored key.
    pub fn new(
        org: OrgId,
        checkpoints: Vec<Checkpoint>,
        trusted_keys: &HashMap<String, Vec<u8>>,
    ) -> Self {
        let mut problem = None;
        let mut by_seq = BTreeMap::new();
        for cp in checkpoints {
            let valid =
                trusted_keys.get(&cp.key_id).is_some_and(|pk| cp.verify(pk)) && cp.org == org;
            if !valid && problem.is_none() {
                problem = Some(Problem::BadCheckpointSignature {
                    seq: cp.seq,
                    key_id: cp.key_id.clone(),
                });
            }
            by_seq.insert(cp.seq, cp);
        }
        Self {
            org,
            expected: 1,
            prev_hash: genesis_hash(org),
            records: 0,
            checkpoints: by_seq,
            problem,
        }
    }

    /// A verifier that starts after record `seq` whose hash is `hash` (a point already
    /// proven, such as a signed checkpoint) instead of at the start of the chain.
    pub fn resume(org: OrgId, seq: i64, hash: [u8; 32]) -> Self {
        let mut v = Self::new(org, Vec::new(), &HashMap::new());
        if seq > 0 {
            v.expected = seq.saturating_add(1);
            v.prev_hash = hash;
        }
        v
    }

    /// Checks the next record. Returns `false` once a problem was found (walking further
    /// tells nothing more).
    pub fn push(&mut self, record: &AuditRecord) -> bool {
        if self.problem.is_some() {
            return false;
        }
        self.records += 1;
        let seq = record.seq;
        self.problem = if record.org != self.org {
            Some(Problem::WrongOrganization { seq })
        } else if seq > self.expected {
            Some(Problem::Missing {
                expected: self.expected,
                found: seq,
            })
        } else if seq < self.expected {
            Some(Problem::OutOfOrder { seq })
        } else if record_hash(record) != record.hash {
            Some(Problem::Edited { seq })
        } else if record.prev_hash != self.prev_hash {
            Some(Problem::BrokenLink { seq })
        } else if self
            .checkpoints
            .get(&seq)
            .is_some_and(|cp| cp.hash != record.hash)
        {
            Some(Problem::CheckpointMismatch { seq })
        } else {
            None
        };
        self.expected = seq.saturating_add(1);
        self.prev_hash = record.hash;
        self.problem.is_none()
    }

    /// Ends the walk. `head` is the chain head as the store recorded it (sequence number
    /// and hash), which catches records deleted from the end or appended past it.
    pub fn finish(mut self, head: Option<(i64, [u8; 32])>) -> VerifyReport {
        let last_seq = self.expected - 1;
        if self.problem.is_none() {
            let known = self.checkpoints.keys().next_back().copied().unwrap_or(0);
            let head_seq = head.map_or(0, |(s, _)| s);
            self.problem = if known > last_seq || head_seq > last_seq {
                Some(Problem::Truncated {
                    last_seq,
                    known_seq: known.max(head_seq),
                })
            } else if head.is_some() && head_seq < last_seq {
                Some(Problem::BeyondHead { seq: head_seq + 1 })
            } else if head.is_none() && self.records > 0 {
                Some(Problem::HeadMissing)
            } else if head.is_some_and(|(_, h)| last_seq > 0 && h != self.prev_hash) {
                Some(Problem::Edited { seq: last_seq })
            } else {
                None
            };
        }
        VerifyReport {
            org: self.org,
            records: self.records,
            last_seq,
            checkpoints: self.checkpoints.len() as u64,
            last_checkpoint_seq: self.checkpoints.keys().next_back().copied(),
            problem: self.problem,
        }
    }
}

#[cfg(test)]
mod tests {
    use carepost_core::Actor;
    use carepost_crypto::SigningKey;

    use super::*;
    use crate::{AuditEvent, ObjectRef, checkpoint_message, key_id};

    fn chain(org: OrgId, n: i64) -> Vec<AuditRecord> {
        let mut prev = genesis_hash(org);
        (1..=n)
            .map(|seq| {
                let e = AuditEvent::new(
                    Actor::system("t"),
                    "contact.read",
                    ObjectRef::new("contact", seq),
                );
                let r = AuditRecord::seal(org, seq, seq * 1000, e, prev);
                prev = r.hash;
                r
            })
            .collect()
    }

    fn verify(
        org: OrgId,
        recs: &[AuditRecord],
        cps: Vec<Checkpoint>,
        keys: &HashMap<String, Vec<u8>>,
    ) -> VerifyReport {
        let head = recs.last().map(|r| (r.seq, r.hash));
        verify_with_head(org, recs, cps, keys, head)
    }

    fn verify_with_head(
        org: OrgId,
        recs: &[AuditRecord],
        cps: Vec<Checkpoint>,
        keys: &HashMap<String, Vec<u8>>,
        head: Option<(i64, [u8; 32])>,
    ) -> VerifyReport {
        let mut v = ChainVerifier::new(org, cps, keys);
        for r in recs {
            v.push(r);
        }
        v.finish(head)
    }

    fn signed(org: OrgId, r: &AuditRecord, key: &SigningKey) -> Checkpoint {
        let sig = key.sign(&checkpoint_message(org, r.seq, &r.hash, 5));
        Checkpoint {
            org,
            seq: r.seq,
            hash: r.hash,
            time_us: 5,
            key_id: key_id(&key.public_key()),
            signature: sig,
        }
    }

    #[test]
    fn an_untouched_chain_is_intact() {
        let org = OrgId::new();
        let recs = chain(org, 10);
        let report = verify(org, &recs, vec![], &HashMap::new());
        assert!(report.is_intact(), "{:?}", report.problem);
        assert_eq!(report.last_seq, 10);
    }

    #[test]
    fn names_an_edited_record() {
        let org = OrgId::new();
        let mut recs = chain(org, 10);
        recs[4].action = "contact.delete".into();
        assert_eq!(
            verify(org, &recs, vec![], &HashMap::new()).problem,
            Some(Problem::Edited { seq: 5 })
        );
    }

    #[test]
    fn names_a_deleted_record() {
        let org = OrgId::new();
        let mut recs = chain(org, 10);
        recs.remove(4);
        let p = verify(org, &recs, vec![], &HashMap::new()).problem;
        assert_eq!(
            p,
            Some(Problem::Missing {
                expected: 5,
                found: 6
            })
        );
    }

    #[test]
    fn names_the_record_after_a_consistent_looking_insertion() {
        let org = OrgId::new();
        let mut recs = chain(org, 10);
        let forged_event = AuditEvent::new(
            Actor::system("x"),
            "contact.read",
            ObjectRef::new("contact", "f"),
        );
        let forged = AuditRecord::seal(org, 5, 4500, forged_event, recs[3].hash);
        for r in recs.iter_mut().skip(4) {
            r.seq += 1;
        }
        recs.insert(4, forged);
        let p = verify(org, &recs, vec![], &HashMap::new()).problem;
        assert_eq!(p, Some(Problem::Edited { seq: 6 }));
    }

    #[test]
    fn names_a_reordered_record() {
        let org = OrgId::new();
        let mut recs = chain(org, 10);
        recs.swap(4, 5);
        let (a, b) = (recs[4].seq, recs[5].seq);
        recs[4].seq = b;
        recs[5].seq = a;
        let p = verify(org, &recs, vec![], &HashMap::new()).problem;
        assert_eq!(p, Some(Problem::Edited { seq: 5 }));
    }

    #[test]
    fn detects_records_deleted_from_the_end() {
        let org = OrgId::new();
        let recs = chain(org, 10);
        let head = Some((10, recs[9].hash));
        let p = verify_with_head(org, &recs[..8], vec![], &HashMap::new(), head).problem;
        assert_eq!(
            p,
            Some(Problem::Truncated {
                last_seq: 8,
                known_seq: 10
            })
        );
    }

    #[test]
    fn detects_a_rewrite_that_recomputed_every_hash_through_the_checkpoint() {
        let org = OrgId::new();
        let (key, _) = SigningKey::generate().unwrap();
        let keys = HashMap::from([(key_id(&key.public_key()), key.public_key())]);
        let recs = chain(org, 10);
        let cp = signed(org, &recs[7], &key);
        assert!(verify(org, &recs, vec![cp.clone()], &keys).is_intact());

        let mut rewritten = recs.clone();
        rewritten[2].outcome = crate::Outcome::Denied;
        let mut prev = rewritten[1].hash;
        for r in rewritten.iter_mut().skip(2) {
            r.prev_hash = prev;
            r.hash = record_hash(r);
            prev = r.hash;
        }
        let p = verify(org, &rewritten, vec![cp], &keys).problem;
        assert_eq!(p, Some(Problem::CheckpointMismatch { seq: 8 }));
    }

    #[test]
    fn refuses_checkpoints_signed_by_an_untrusted_key() {
        let org = OrgId::new();
        let (key, _) = SigningKey::generate().unwrap();
        let (other, _) = SigningKey::generate().unwrap();
        let keys = HashMap::from([(key_id(&key.public_key()), key.public_key())]);
        let recs = chain(org, 3);
        let cp = signed(org, &recs[2], &other);
        let p = verify(org, &recs, vec![cp], &keys).problem;
        assert!(matches!(
            p,
            Some(Problem::BadCheckpointSignature { seq: 3, .. })
        ));
    }

    #[test]
    fn a_missing_head_is_a_problem_and_huge_sequence_numbers_do_not_overflow() {
        let org = OrgId::new();
        let recs = chain(org, 3);
        let p = verify_with_head(org, &recs, vec![], &HashMap::new(), None).problem;
        assert_eq!(p, Some(Problem::HeadMissing));
        let mut forged = recs[0].clone();
        forged.seq = i64::MAX;
        let mut v = ChainVerifier::new(org, vec![], &HashMap::new());
        v.push(&forged);
        assert!(matches!(
            v.finish(None).problem,
            Some(Problem::Missing { expected: 1, .. })
        ));
    }

    #[test]
    fn problems_read_as_sentences_naming_the_record() {
        let text = Problem::Missing {
            expected: 5,
            found: 6,
        }
        .to_string();
        assert!(text.contains("record 5 is missing"), "{text}");
    }
}
