//! Each organization's own protection rules, replacing the configured ones. The store
//! keeps them as JSON text; the delivery engine parses and validates them.

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{AccessContext, OrgId};
use uuid::Uuid;

use crate::backend::{read, write};
use crate::{OrgScope, Result, Store, now_us};

impl OrgScope {
    /// Replaces the organization's rules with `rules` (validated JSON). Audited with the
    /// rule names.
    pub async fn set_protection_rules(
        &self,
        by: &AccessContext,
        rules: &serde_json::Value,
    ) -> Result<()> {
        let names: Vec<&str> = rules["rules"]
            .as_array()
            .map(|a| a.iter().filter_map(|r| r["name"].as_str()).collect())
            .unwrap_or_default();
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::POLICY_UPDATE,
                ObjectRef::new("protection_rules", self.org_id()),
            )
            .source(by.source)
            .detail(serde_json::json!({ "rules": names })),
        )
        .await?;
        let (org, text) = (self.org_id().as_uuid(), rules.to_string());
        let who = format!("{}:{}", by.actor.kind(), by.actor.id());
        write!(self, |conn| {
            sqlx::query(
                "INSERT INTO protection_rules (org_id, rules, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (org_id) DO UPDATE SET rules = $2, \
                 updated_at = $3, updated_by = $4",
            )
            .bind(org)
            .bind(text.clone())
            .bind(now_us())
            .bind(who.clone())
            .execute(&mut *conn)
            .await?;
            Ok(())
        })
    }
}

impl Store {
    /// Every organization's own rules, with when they last changed.
    pub async fn protection_rules(&self) -> Result<Vec<(OrgId, serde_json::Value, i64)>> {
        let rows: Vec<(Uuid, String, i64)> = read!(self, |conn| {
            Ok(
                sqlx::query_as("SELECT org_id, rules, updated_at FROM protection_rules")
                    .fetch_all(&mut *conn)
                    .await?,
            )
        })?;
        Ok(rows
            .into_iter()
            .filter_map(|(org, text, at)| {
                serde_json::from_str(&text)
                    .ok()
                    .map(|rules| (OrgId::from_uuid(org), rules, at))
            })
            .collect())
    }
}
