//! The store-backed side of the SMTP submission server: credentials are checked against
//! `smtp_users`, and a message gets its `250` only after [`Intake`] committed it.

use carepost_core::{AccessContext, Actor, OrgId};
use carepost_gateway::inbound::{HandlerError, SubmissionHandler, SubmittedMessage, Submitter};
use carepost_store::{Store, StoreError};

use std::sync::Arc;

use crate::intake::{Intake, IntakeError, SmtpSubmission};
use crate::pacing::Pacer;

/// Authenticates SMTP credentials and queues submitted messages.
#[derive(Clone)]
pub struct StoreSubmissions {
    store: Store,
    intake: Intake,
    per_credential: Arc<Pacer>,
    per_address: Arc<Pacer>,
}

impl StoreSubmissions {
    /// A handler over `store`, queueing through `intake`, without message rate limits.
    pub fn new(store: Store, intake: Intake) -> Self {
        Self::with_limits(store, intake, 0, 0)
    }

    /// As [`new`](Self::new), accepting at most `per_credential` messages a minute from
    /// one credential and `per_address` from one client address (0: no limit); a message
    /// over a limit gets `451` and may be sent again later.
    pub fn with_limits(
        store: Store,
        intake: Intake,
        per_credential: u32,
        per_address: u32,
    ) -> Self {
        Self {
            store,
            intake,
            per_credential: Arc::new(Pacer::per_minute(per_credential)),
            per_address: Arc::new(Pacer::per_minute(per_address)),
        }
    }
}

/// The submitter id carries the organization, so that `accept` needs no second lookup:
/// `<org uuid>/<user name>`.
fn submitter_id(org: OrgId, name: &str) -> String {
    format!("{org}/{name}")
}

fn parse_submitter_id(id: &str) -> Option<(OrgId, &str)> {
    let (org, name) = id.split_once('/')?;
    Some((org.parse().ok()?, name))
}

/// Store failures carry no PHI (they name tables, keys and counts), but the client sees
/// only the fixed `451` text; the log gets the reason.
fn temporary(error: &StoreError) -> HandlerError {
    HandlerError::Temporary(error.to_string())
}

impl SubmissionHandler for StoreSubmissions {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Submitter>, HandlerError> {
        match self.store.authenticate_smtp_user(username, password).await {
            Ok(Some(principal)) => Ok(Some(Submitter {
                id: submitter_id(principal.org, &principal.name),
                name: principal.name,
                allowed_from_domains: principal.from_domains,
            })),
            Ok(None) => Ok(None),
            Err(error) => Err(temporary(&error)),
        }
    }

    async fn accept(&self, message: SubmittedMessage) -> Result<String, HandlerError> {
        let Some((org, name)) = parse_submitter_id(&message.submitter.id) else {
            return Err(HandlerError::Temporary("malformed submitter id".into()));
        };
        let now = std::time::Instant::now();
        if !self.per_credential.try_take(&message.submitter.id, now)
            || !self
                .per_address
                .try_take(&message.peer.ip().to_string(), now)
        {
            return Err(HandlerError::Temporary(
                "message rate limit of the credential or client address reached".into(),
            ));
        }
        let scope = self.store.org(org).await.map_err(|e| temporary(&e))?;
        let by = AccessContext {
            actor: Actor::SmtpUser(name.to_owned()),
            source: Some(message.peer.ip()),
        };
        let submission = SmtpSubmission {
            user: name.to_owned(),
            mail_from: message.mail_from,
            recipients: message.recipients,
            requiretls: message.requiretls,
            content: message.data,
        };
        match self.intake.submit_smtp(&scope, &by, submission).await {
            Ok(accepted) => Ok(accepted.id().to_string()),
            Err(IntakeError::Store(StoreError::Invalid(reason))) => {
                Err(HandlerError::Permanent(reason))
            }
            Err(IntakeError::Field(field)) => Err(HandlerError::Permanent(field.reason)),
            Err(IntakeError::Blocked { reason, .. }) => Err(HandlerError::Permanent(format!(
                "refused by the protection policy: {reason}"
            ))),
            Err(IntakeError::Store(error)) => Err(temporary(&error)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submitter_ids_round_trip_and_refuse_garbage() {
        let org = OrgId::new();
        let id = submitter_id(org, "ehr-notify");
        assert_eq!(parse_submitter_id(&id), Some((org, "ehr-notify")));
        assert_eq!(parse_submitter_id("ehr-notify"), None);
        assert_eq!(parse_submitter_id("not-a-uuid/ehr"), None);
    }
}
