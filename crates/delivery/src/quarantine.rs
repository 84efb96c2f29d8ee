//! Ending holds: release puts a held message's recipients back in the queue; reject (by
//! a reviewer, or when the hold expires) bounces them and tells the sender why, in the
//! rule's words.

use std::time::Duration;

use carepost_core::{AccessContext, MessageId};
use carepost_store::{OrgScope, Resolution, StoreError};

use crate::dsn;

/// Ends `id`'s hold as `resolution` (rejected or expired) and queues a notice to the
/// sender naming `reason` for every recipient. `false` when the message was not held.
pub async fn reject(
    scope: &OrgScope,
    by: &AccessContext,
    id: MessageId,
    resolution: Resolution,
    reason: &str,
    reporting_host: &str,
    notice_max_age: Duration,
) -> Result<bool, StoreError> {
    if resolution == Resolution::Released {
        return Err(StoreError::Invalid("a rejection cannot release".into()));
    }
    if !scope.resolve_hold(by, id, resolution).await? {
        return Ok(false);
    }
    let Some(message) = scope.queued_message(id).await? else {
        return Ok(true);
    };
    let failed: Vec<dsn::Failed> = message
        .envelope
        .recipients
        .iter()
        .map(|r| dsn::Failed {
            recipient: r.expose().clone(),
            action: "failed",
            status: "5.7.1".into(),
            explanation: format!("the message was not sent: {reason}"),
            diagnostic: None,
        })
        .collect();
    if let Some(notice) = dsn::notice(reporting_host, &message, &failed, notice_max_age) {
        scope.accept_message(by, notice).await?;
    }
    Ok(true)
}
