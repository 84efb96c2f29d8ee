use std::sync::Arc;
use std::time::Duration;

use carepost_delivery::{Intake, IntakeSettings, ProtectionPolicy};
use carepost_policy::PolicyError;
use carepost_store::Store;
use tokio::sync::Notify;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// PHI detection and the protection rules (the same engine intake screens with).
    pub dlp: Arc<ProtectionPolicy>,
    /// Message intake (the send API); it wakes the queue runner.
    pub intake: Intake,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Longest time a request may take.
    pub request_timeout: Duration,
}

impl AppState {
    /// State over `store` with the default DLP rules, intake settings and limits (25 MiB
    /// bodies, 30 s requests). Fails only if the bundled detector data is damaged. Use
    /// [`AppState::with_intake`] to share the queue runner's notifier and settings.
    pub fn new(store: Store) -> Result<Self, PolicyError> {
        let dlp = Arc::new(ProtectionPolicy::with_defaults()?);
        let intake = Intake::new(
            IntakeSettings::default(),
            Arc::new(Notify::new()),
            dlp.clone(),
        );
        Ok(Self::with_intake(store, intake))
    }

    /// State over `store` whose send API and DLP endpoint use `intake` and its policy.
    pub fn with_intake(store: Store, intake: Intake) -> Self {
        Self {
            store,
            dlp: intake.policy().clone(),
            intake,
            max_body_bytes: 25 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}
