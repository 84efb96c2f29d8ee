use std::sync::Arc;
use std::time::Duration;

use carepost_delivery::{Intake, IntakeSettings};
use carepost_policy::rules::RuleSet;
use carepost_policy::{PatientNameIndex, PolicyError, Scanner};
use carepost_store::Store;
use tokio::sync::Notify;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// PHI detection and the protection rules.
    pub dlp: Arc<Dlp>,
    /// Message intake (the send API); it wakes the queue runner.
    pub intake: Intake,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Longest time a request may take.
    pub request_timeout: Duration,
}

/// The DLP engine the API uses: the scanner, the protection rules and the index of
/// patient names.
pub struct Dlp {
    /// The detectors.
    pub scanner: Scanner,
    /// The protection rules.
    pub rules: RuleSet,
    /// Names of the organization's patients (empty until the contact index is wired).
    pub names: PatientNameIndex,
}

impl AppState {
    /// State over `store` with the default DLP rules, intake settings and limits (25 MiB
    /// bodies, 30 s requests). Fails only if the bundled detector data is damaged. Set
    /// `intake` to one that shares the queue runner's notifier.
    pub fn new(store: Store) -> Result<Self, PolicyError> {
        let dlp = Dlp {
            scanner: Scanner::with_defaults()?,
            rules: RuleSet::default(),
            names: PatientNameIndex::empty(),
        };
        Ok(Self {
            store,
            dlp: Arc::new(dlp),
            intake: Intake::new(IntakeSettings::default(), Arc::new(Notify::new())),
            max_body_bytes: 25 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        })
    }
}
