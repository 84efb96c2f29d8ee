//! The store conformance suite: every test runs on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod bad_input;
mod canary;
mod contacts;
mod dkim;
mod keys;
mod orgs;
mod queue;

use std::sync::Arc;

use carepost_core::{AccessContext, Actor};
use carepost_store::testing::{TestDb, key_provider};
use carepost_store::{OrgScope, Store};

pub(crate) fn staff() -> AccessContext {
    AccessContext {
        actor: Actor::User("nurse-1".into()),
        source: "10.0.0.7".parse().ok(),
    }
}

pub(crate) fn system() -> AccessContext {
    AccessContext::system("test")
}

/// Opens the store with the standard test key and creates organization `name`.
pub(crate) async fn store_with_org(db: &TestDb, name: &str) -> (Store, OrgScope) {
    let store = db.open(key_provider(1, &[1])).await;
    let org = store.create_organization(name, &system()).await.unwrap();
    let scope = store.org(org.id).await.unwrap();
    (store, scope)
}

#[allow(dead_code)]
pub(crate) fn arc<T>(t: T) -> Arc<T> {
    Arc::new(t)
}
