use std::time::Duration;

use carepost_store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Longest time a request may take.
    pub request_timeout: Duration,
}

impl AppState {
    /// State over `store` with default limits (25 MiB bodies, 30 s requests).
    pub fn new(store: Store) -> Self {
        Self {
            store,
            max_body_bytes: 25 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}
