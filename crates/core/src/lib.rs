//! Domain types shared by every carepost crate.
//!
//! The vocabulary here is the one used from the store to the API and the docs: an
//! [`Organization`] is the tenant that owns every row, an [`Actor`] is whoever acts
//! (a user, an API key or carepost itself), and [`Phi`] wraps protected health
//! information so that it can never reach a log, an error message or a metric by accident.
#![forbid(unsafe_code)]

mod actor;
mod delivery;
mod ids;
mod phi;

pub use actor::{AccessContext, Actor};
pub use delivery::{DeliveryState, MessageSource, Protection};
pub use ids::{ContactId, IdParseError, MessageId, OrgId, SandboxId};
pub use phi::Phi;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A tenant: every stored row belongs to exactly one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// Stable identifier.
    pub id: OrgId,
    /// Unique, human-chosen name (`default` for the one created on first start).
    pub name: String,
    /// When the organization was created.
    pub created_at: DateTime<Utc>,
}

/// The name of the organization that a first start creates.
pub const DEFAULT_ORGANIZATION: &str = "default";
