//! The delivery queue: acceptance, idempotency, claims, attempts, the sandbox mailbox,
//! SMTP credentials, and re-encryption of queued messages.

use std::time::Duration;

use carepost_core::{Actor, DeliveryState, MessageSource, Phi, Protection};
use carepost_store::{Accepted, AttemptRecord, Envelope, NewMessage, StoreError, both_backends};

use super::*;

pub(crate) fn message(recipients: &[&str], body: &str) -> NewMessage {
    NewMessage {
        source: MessageSource::Api,
        submitter: Actor::ApiKey("0123456789abcdef".into()),
        protection: Protection::TlsVerified,
        requiretls: false,
        idempotency_key: None,
        tags: vec!["reminder".into()],
        envelope: Envelope {
            mail_from: Phi::new("clinic@sender.test".into()),
            recipients: recipients
                .iter()
                .map(|r| Phi::new((*r).to_owned()))
                .collect(),
        },
        content: Phi::new(
            format!("From: clinic@sender.test\r\nSubject: Hello\r\n\r\n{body}\r\n").into_bytes(),
        ),
        max_age: Duration::from_secs(5 * 24 * 3600),
        policy: None,
        hold: None,
    }
}

fn attempt(idx: u32, state: DeliveryState, retry_in: Option<Duration>) -> AttemptRecord {
    AttemptRecord {
        idx,
        state,
        retry_at: retry_in.map(|d| chrono::Utc::now() + chrono::Duration::from_std(d).unwrap()),
        evidence: Phi::new(
            r#"{"mx":"mx.dest.test","tls_version":"TLSv1_3","reply":"250 2.0.0 ok"}"#.into(),
        ),
        audit_detail: serde_json::json!({ "mx": "mx.dest.test" }),
    }
}

both_backends!(
    an_accepted_message_is_queued_for_each_recipient,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        let accepted = org
            .accept_message(
                &staff(),
                message(&["a@dest.test", "b@dest.test"], "Your results are ready"),
            )
            .await
            .unwrap();
        let Accepted::New(id) = accepted else {
            panic!("expected a new message")
        };
        let status = org.message_status(&staff(), id).await.unwrap().unwrap();
        assert_eq!(status.recipients.len(), 2);
        assert_eq!(status.recipients[1].address.expose(), "b@dest.test");
        assert!(
            status
                .recipients
                .iter()
                .all(|r| r.state == DeliveryState::Queued && r.attempts == 0)
        );
        assert_eq!(status.mail_from.expose(), "clinic@sender.test");
        assert_eq!(status.protection, Protection::TlsVerified);
        assert_eq!(status.submitter, "api_key:0123456789abcdef");
        assert_eq!(status.tags, vec!["reminder".to_owned()]);
        let queued = org.queued_message(id).await.unwrap().unwrap();
        assert!(
            String::from_utf8_lossy(queued.content.expose()).contains("Your results are ready")
        );
        // Acceptance and the status read are both audited, by id only.
        let records = org.audit_records(0, 100).await.unwrap();
        let actions: Vec<_> = records.iter().map(|r| r.action.as_str()).collect();
        assert!(
            actions.contains(&"message.accept") && actions.contains(&"message.read"),
            "{actions:?}"
        );
        assert!(
            records
                .iter()
                .all(|r| !r.detail.clone().unwrap_or_default().contains("dest.test"))
        );
    }
);

both_backends!(
    an_idempotency_key_returns_the_first_message,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        let mut m = message(&["a@dest.test"], "one");
        m.idempotency_key = Some("order-42".into());
        let first = org.accept_message(&staff(), m.clone()).await.unwrap();
        let second = org.accept_message(&staff(), m.clone()).await.unwrap();
        assert!(matches!(first, Accepted::New(_)));
        assert_eq!(second, Accepted::Duplicate(first.id()));
        // The same key from another submitter is a different message.
        m.submitter = Actor::ApiKey("fedcba9876543210".into());
        let third = org.accept_message(&staff(), m).await.unwrap();
        assert!(matches!(third, Accepted::New(id) if id != first.id()));
    }
);

both_backends!(
    messages_without_recipients_are_refused_and_nothing_is_stored,
    |db| async move {
        let (store, org) = store_with_org(&db, "clinic").await;
        let err = org
            .accept_message(&staff(), message(&[], "x"))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        assert!(store.next_due_at().await.unwrap().is_none());
    }
);

both_backends!(
    a_claimed_recipient_is_not_claimed_again_until_its_attempt_ends,
    |db| async move {
        let (store, org) = store_with_org(&db, "clinic").await;
        let id = org
            .accept_message(&staff(), message(&["a@dest.test", "b@dest.test"], "x"))
            .await
            .unwrap()
            .id();
        assert_eq!(
            store.orgs_with_due_recipients().await.unwrap(),
            vec![org.org_id()]
        );
        let lease = Duration::from_secs(300);
        let claimed = org.claim_due("node-a", lease, 10).await.unwrap();
        assert_eq!(claimed.len(), 2);
        assert!(
            claimed
                .iter()
                .all(|c| c.message_id == id && c.attempts == 0)
        );
        assert!(org.claim_due("node-b", lease, 10).await.unwrap().is_empty());

        org.record_attempts(
            &system(),
            id,
            vec![
                attempt(0, DeliveryState::Delivered, None),
                attempt(1, DeliveryState::Deferred, Some(Duration::from_secs(600))),
            ],
        )
        .await
        .unwrap();
        let status = org.message_status(&staff(), id).await.unwrap().unwrap();
        assert_eq!(status.recipients[0].state, DeliveryState::Delivered);
        assert_eq!(status.recipients[0].next_attempt_at, None);
        assert_eq!(status.recipients[0].events.len(), 1);
        assert!(
            status.recipients[0].events[0]
                .evidence
                .expose()
                .contains("TLSv1_3")
        );
        assert_eq!(status.recipients[1].state, DeliveryState::Deferred);
        assert_eq!(status.recipients[1].attempts, 1);
        assert!(status.recipients[1].next_attempt_at.unwrap() > chrono::Utc::now());
        // Deferred into the future: nothing is due now.
        assert!(org.claim_due("node-a", lease, 10).await.unwrap().is_empty());
        // A final state is never overwritten by a late attempt.
        org.record_attempts(
            &system(),
            id,
            vec![attempt(0, DeliveryState::Bounced, None)],
        )
        .await
        .unwrap();
        let status = org.message_status(&staff(), id).await.unwrap().unwrap();
        assert_eq!(status.recipients[0].state, DeliveryState::Delivered);
        let deliveries = org
            .audit_records(0, 100)
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.action == "message.delivery")
            .count();
        assert_eq!(deliveries, 3, "every attempt is audited");
    }
);

both_backends!(a_restarted_node_releases_its_claims, |db| async move {
    let (store, org) = store_with_org(&db, "clinic").await;
    org.accept_message(&staff(), message(&["a@dest.test"], "x"))
        .await
        .unwrap();
    let claimed = org
        .claim_due("node-a", Duration::from_secs(3600), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(store.release_claims("node-b").await.unwrap(), 0);
    assert!(
        org.claim_due("node-a", Duration::from_secs(3600), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.release_claims("node-a").await.unwrap(), 1);
    assert_eq!(
        org.claim_due("node-a", Duration::from_secs(3600), 10)
            .await
            .unwrap()
            .len(),
        1
    );
});

both_backends!(
    the_sandbox_keeps_messages_as_delivered_newest_first,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        let id = org
            .accept_message(&staff(), message(&["a@dest.test"], "x"))
            .await
            .unwrap()
            .id();
        let first = org
            .capture_sandbox(id, Phi::new(b"Subject: one\r\n\r\nbody 1\r\n".to_vec()))
            .await
            .unwrap();
        let second = org
            .capture_sandbox(id, Phi::new(b"Subject: two\r\n\r\nbody 2\r\n".to_vec()))
            .await
            .unwrap();
        let all = org.sandbox_messages(&staff(), 10, None).await.unwrap();
        assert_eq!(
            all.iter().map(|m| m.id).collect::<Vec<_>>(),
            vec![second, first]
        );
        let page = org
            .sandbox_messages(&staff(), 10, Some(second))
            .await
            .unwrap();
        assert_eq!(page.len(), 1);
        assert_eq!(page[0].raw.expose(), b"Subject: one\r\n\r\nbody 1\r\n");
        let one = org.sandbox_message(&staff(), first).await.unwrap().unwrap();
        assert_eq!(one.message_id, id);
        assert!(
            org.sandbox_message(&staff(), carepost_core::SandboxId::new())
                .await
                .unwrap()
                .is_none()
        );
    }
);

both_backends!(
    another_organization_sees_neither_messages_nor_captures,
    |db| async move {
        let (store, org) = store_with_org(&db, "clinic").await;
        let id = org
            .accept_message(&staff(), message(&["a@dest.test"], "x"))
            .await
            .unwrap()
            .id();
        let capture = org
            .capture_sandbox(id, Phi::new(b"x".to_vec()))
            .await
            .unwrap();
        let other = store.create_organization("other", &system()).await.unwrap();
        let other = store.org(other.id).await.unwrap();
        assert!(other.message_status(&staff(), id).await.unwrap().is_none());
        assert!(other.queued_message(id).await.unwrap().is_none());
        assert!(
            other
                .sandbox_message(&staff(), capture)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            other
                .sandbox_messages(&staff(), 10, None)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            other
                .claim_due("n", Duration::from_secs(60), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }
);

both_backends!(
    smtp_credentials_authenticate_only_with_their_password,
    |db| async move {
        let (store, org) = store_with_org(&db, "clinic").await;
        let created = org
            .create_smtp_user(&system(), "ehr-notify", &["Clinic.Example".into()])
            .await
            .unwrap();
        let who = store
            .authenticate_smtp_user("ehr-notify", &created.password)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(who.org, org.org_id());
        assert_eq!(who.from_domains, vec!["clinic.example".to_owned()]);
        assert!(
            store
                .authenticate_smtp_user("ehr-notify", "wrong")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            store
                .authenticate_smtp_user("nobody", &created.password)
                .await
                .unwrap()
                .is_none()
        );
        let dup = org
            .create_smtp_user(&system(), "ehr-notify", &["x.example".into()])
            .await
            .unwrap_err();
        assert!(dup.to_string().contains("already exists"), "{dup}");
        let bad = org
            .create_smtp_user(&system(), "x", &["not a domain".into()])
            .await
            .unwrap_err();
        assert!(matches!(bad, StoreError::Invalid(_)));
        assert!(org.revoke_smtp_user(&system(), "ehr-notify").await.unwrap());
        assert!(
            store
                .authenticate_smtp_user("ehr-notify", &created.password)
                .await
                .unwrap()
                .is_none()
        );
    }
);

both_backends!(
    rotation_reencrypts_queued_messages_evidence_and_captures,
    |db| async move {
        let (store, org) = store_with_org(&db, "clinic").await;
        let id = org
            .accept_message(&staff(), message(&["a@dest.test"], "sealed body"))
            .await
            .unwrap()
            .id();
        org.record_attempts(
            &system(),
            id,
            vec![attempt(0, DeliveryState::Delivered, None)],
        )
        .await
        .unwrap();
        let capture = org
            .capture_sandbox(id, Phi::new(b"captured".to_vec()))
            .await
            .unwrap();
        store
            .rotate_data_key(org.org_id(), &system())
            .await
            .unwrap();
        let org = store.org(org.org_id()).await.unwrap();
        // Signing key, message, evidence, capture.
        assert_eq!(org.rows_to_reencrypt().await.unwrap(), 4);
        let err = store
            .retire_data_keys(org.org_id(), &system())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::KeyState(_)), "{err}");
        while org.reencrypt_step(&system(), 100).await.unwrap().remaining > 0 {}
        store
            .retire_data_keys(org.org_id(), &system())
            .await
            .unwrap();
        let org = store.org(org.org_id()).await.unwrap();
        let status = org.message_status(&staff(), id).await.unwrap().unwrap();
        assert_eq!(status.recipients[0].events.len(), 1);
        let queued = org.queued_message(id).await.unwrap().unwrap();
        assert!(String::from_utf8_lossy(queued.content.expose()).contains("sealed body"));
        assert_eq!(
            org.sandbox_message(&staff(), capture)
                .await
                .unwrap()
                .unwrap()
                .raw
                .expose(),
            b"captured"
        );
    }
);

both_backends!(
    a_message_body_moved_to_another_row_does_not_open,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        let a = org
            .accept_message(&staff(), message(&["a@dest.test"], "first"))
            .await
            .unwrap()
            .id();
        let b = org
            .accept_message(&staff(), message(&["b@dest.test"], "second"))
            .await
            .unwrap()
            .id();
        db.raw(&format!(
        "UPDATE messages SET content = (SELECT content FROM messages WHERE id = {}) WHERE id = {}",
        db.uuid_literal(a),
        db.uuid_literal(b)
    ))
    .await;
        let err = org.queued_message(b).await.unwrap_err();
        assert!(matches!(err, StoreError::Crypto(_)), "{err}");
    }
);

both_backends!(
    suppressed_addresses_are_found_after_a_key_rotation_and_retirement,
    |db| async move {
        let (store, org) = store_with_org(&db, "clinic").await;
        assert!(
            org.suppress(&system(), "Gone@Dest.Test", "5.1.1", None)
                .await
                .unwrap()
        );
        assert!(
            !org.suppress(&system(), "gone@dest.test", "5.1.1", None)
                .await
                .unwrap()
        );
        store
            .rotate_data_key(org.org_id(), &system())
            .await
            .unwrap();
        let org = store.org(org.org_id()).await.unwrap();
        while org.reencrypt_step(&system(), 10).await.unwrap().remaining > 0 {}
        store
            .retire_data_keys(org.org_id(), &system())
            .await
            .unwrap();
        let org = store.org_fresh(org.org_id()).await.unwrap();
        let found = org
            .suppressed(&["GONE@dest.test".into(), "other@dest.test".into()])
            .await
            .unwrap();
        assert_eq!(found, vec![Some("5.1.1".to_owned()), None]);
        assert!(org.unsuppress(&system(), "gone@dest.test").await.unwrap());
        assert_eq!(
            org.suppressed(&["gone@dest.test".into()]).await.unwrap(),
            vec![None]
        );
    }
);
