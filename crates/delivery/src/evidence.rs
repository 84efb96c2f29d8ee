//! Turning the gateway's delivery reports into stored evidence and audit details.
//!
//! The evidence (sealed, PHI) keeps everything: recipient, MX host and IP, TLS version
//! and cipher, how the certificate was verified and the result, MTA-STS and DANE facts,
//! the server's reply. The audit detail keeps the same facts minus the recipient and the
//! server's reply text (which may quote the address): codes only.

use carepost_gateway::outbound::{AttemptEvidence, FailureReason, RecipientOutcome};
use serde_json::{Value, json};

/// The stored evidence of one attempt.
pub fn evidence_json(attempt: &AttemptEvidence) -> String {
    serde_json::to_string(attempt).unwrap_or_else(|_| "{}".into())
}

/// The audit detail of one attempt: no address, no reply text.
pub fn audit_detail(attempt: &AttemptEvidence) -> Value {
    let mut detail = json!({
        "mx_host": attempt.mx_host,
        "ip": attempt.ip,
        "port": attempt.port,
        "tls": attempt.tls,
        "certificate": attempt.certificate.as_ref().map(|c| json!({
            "method": c.method,
            "verified": c.verified,
        })),
        "mta_sts": attempt.mta_sts.as_ref().map(|p| json!({ "mode": p.mode, "id": p.id })),
        "dane": attempt.dane,
    });
    if let Some(obj) = detail.as_object_mut() {
        obj.insert("outcome".into(), outcome_summary(&attempt.outcome));
        obj.retain(|_, v| !v.is_null());
    }
    detail
}

/// An outcome as codes and kinds only.
pub fn outcome_summary(outcome: &RecipientOutcome) -> Value {
    match outcome {
        RecipientOutcome::Delivered { reply } => json!({
            "status": "delivered", "code": reply.code, "enhanced_code": reply.enhanced_code,
        }),
        RecipientOutcome::TemporaryFailure { reason } => json!({
            "status": "temporary_failure", "reason": reason_summary(reason),
        }),
        RecipientOutcome::PermanentFailure { reason } => json!({
            "status": "permanent_failure", "reason": reason_summary(reason),
        }),
    }
}

fn reason_summary(reason: &FailureReason) -> Value {
    match reason {
        FailureReason::TlsRequirementUnmet { mx_host, failure } => {
            let kind = serde_json::to_value(failure)
                .ok()
                .and_then(|v| v.get("kind").cloned())
                .unwrap_or(Value::Null);
            json!({ "kind": "tls_requirement_unmet", "mx_host": mx_host, "failure": kind })
        }
        FailureReason::Rejected { stage, reply } => json!({
            "kind": "rejected", "stage": stage, "code": reply.code, "enhanced_code": reply.enhanced_code,
        }),
        FailureReason::Network { stage, .. } => json!({ "kind": "network", "stage": stage }),
        FailureReason::Protocol { stage, .. } => json!({ "kind": "protocol", "stage": stage }),
        FailureReason::Dns { .. } => json!({ "kind": "dns" }),
        FailureReason::Unsendable { .. } => json!({ "kind": "unsendable" }),
    }
}
