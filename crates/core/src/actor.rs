//! Who performs an action, recorded on every audit record.

use std::fmt;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

/// Whoever acts: a person signed in to the console, an API key, or carepost itself
/// (a background job, the CLI run by an operator on the host).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Actor {
    /// A user account, by its id.
    User(String),
    /// An API key, by its public key id (never the secret).
    ApiKey(String),
    /// An SMTP submission credential, by its user name (never the password).
    SmtpUser(String),
    /// carepost itself; the string names the component (`keys-rotate`, `cli`, ...).
    System(String),
}

impl Actor {
    /// carepost acting on its own, from the named component.
    pub fn system(component: &str) -> Self {
        Self::System(component.to_owned())
    }

    /// The stored kind: `user`, `api_key` or `system`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::ApiKey(_) => "api_key",
            Self::SmtpUser(_) => "smtp_user",
            Self::System(_) => "system",
        }
    }

    /// The id within its kind.
    pub fn id(&self) -> &str {
        match self {
            Self::User(id) | Self::ApiKey(id) | Self::SmtpUser(id) | Self::System(id) => id,
        }
    }

    /// Rebuilds an actor from its stored kind and id; `None` for an unknown kind.
    pub fn from_parts(kind: &str, id: String) -> Option<Self> {
        match kind {
            "user" => Some(Self::User(id)),
            "api_key" => Some(Self::ApiKey(id)),
            "smtp_user" => Some(Self::SmtpUser(id)),
            "system" => Some(Self::System(id)),
            _ => None,
        }
    }
}

impl fmt::Debug for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Who is asking and from where: required by every store call that reads or changes
/// PHI, so that the access is audited with its actor and source address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessContext {
    /// Who acts.
    pub actor: Actor,
    /// The network address the request came from, when there is one.
    pub source: Option<IpAddr>,
}

impl AccessContext {
    /// An access by carepost itself, with no network source.
    pub fn system(component: &str) -> Self {
        Self {
            actor: Actor::system(component),
            source: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actors_round_trip_through_their_stored_parts() {
        for a in [
            Actor::User("u1".into()),
            Actor::ApiKey("k1".into()),
            Actor::SmtpUser("ehr-notify".into()),
            Actor::system("cli"),
        ] {
            let back = Actor::from_parts(a.kind(), a.id().to_owned()).unwrap();
            assert_eq!(a, back);
        }
        assert!(Actor::from_parts("robot", "x".into()).is_none());
    }
}
