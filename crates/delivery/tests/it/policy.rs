//! The protection policy at intake: blocked messages are refused with the rule's reason
//! and leave only an audit record; held messages wait in quarantine until released,
//! rejected (the sender is told) or expired; every decision is kept without PHI values.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use carepost_core::{AccessContext, Actor, DeliveryState};
use carepost_delivery::{
    Intake, IntakeError, IntakeSettings, ProtectionPolicy, QueueRunner, RunnerSettings,
    SendRequest, SmtpSubmission, Transport,
};
use carepost_store::testing::{TestDb, key_provider};
use carepost_store::{OrgScope, Store, both_backends};
use tokio::sync::Notify;

fn reviewer() -> AccessContext {
    AccessContext {
        actor: Actor::User("privacy-officer".into()),
        source: None,
    }
}

fn sender() -> AccessContext {
    AccessContext {
        actor: Actor::ApiKey("0123456789abcdef".into()),
        source: None,
    }
}

async fn setup(db: &TestDb) -> (Store, OrgScope) {
    let store = db.open(key_provider(1, &[1])).await;
    let org = store
        .create_organization("clinic", &AccessContext::system("test"))
        .await
        .unwrap();
    let scope = store.org(org.id).await.unwrap();
    (store, scope)
}

fn intake_with(hold_for: Duration) -> Intake {
    let mut policy = ProtectionPolicy::with_defaults().unwrap();
    policy.quarantine_max_age = hold_for;
    Intake::new(
        IntakeSettings::default(),
        Arc::new(Notify::new()),
        Arc::new(policy),
    )
}

fn runner(store: &Store) -> QueueRunner {
    let settings = RunnerSettings::new("node-test", "carepost.test");
    QueueRunner::new(
        store.clone(),
        Transport::Sandbox,
        settings,
        Arc::new(Notify::new()),
    )
}

fn request(body: serde_json::Value) -> SendRequest {
    serde_json::from_value(body).unwrap()
}

/// A message with an attachment the walker cannot read (a PNG image).
fn with_image() -> SendRequest {
    let png = base64::engine::general_purpose::STANDARD
        .encode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde");
    request(serde_json::json!({
        "from": "desk@clinic.test",
        "to": ["maria@patients.test"],
        "subject": "Your form",
        "text": "Please see the attached scan.",
        "attachments": [{ "filename": "scan.png", "content_type": "image/png", "content": png }],
    }))
}

async fn audit_actions(org: &OrgScope) -> Vec<String> {
    org.audit_records(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.action)
        .collect()
}

both_backends!(
    phi_in_a_subject_is_blocked_with_the_rule_reason_and_nothing_is_queued,
    |db| async move {
        let (store, org) = setup(&db).await;
        let intake = intake_with(Duration::from_secs(3600));
        let err = intake
            .submit_api(
                &org,
                &sender(),
                &request(serde_json::json!({
                    "from": "desk@clinic.test",
                    "to": ["maria@patients.test"],
                    "subject": "Lab result for SSN 123-45-6789: diabetes",
                    "text": "Hello",
                })),
                None,
            )
            .await
            .unwrap_err();
        let IntakeError::Blocked { reason, rules } = err else {
            panic!("not blocked: {err:?}");
        };
        assert!(reason.to_lowercase().contains("subject"), "{reason}");
        assert!(!rules.is_empty());
        assert!(!reason.contains("123-45-6789"));
        assert_eq!(
            runner(&store).run_once().await.unwrap(),
            0,
            "nothing was queued"
        );
        assert!(
            audit_actions(&org)
                .await
                .contains(&"message.block".to_owned())
        );

        // The same over SMTP.
        let smtp = intake
            .submit_smtp(
                &org,
                &sender(),
                SmtpSubmission {
                    user: "ehr".into(),
                    mail_from: "desk@clinic.test".into(),
                    recipients: vec!["maria@patients.test".into()],
                    requiretls: false,
                    content:
                        b"From: desk@clinic.test\r\nSubject: SSN 123-45-6789 diabetes\r\n\r\nHi\r\n"
                            .to_vec(),
                },
            )
            .await;
        assert!(matches!(smtp, Err(IntakeError::Blocked { .. })), "{smtp:?}");
    }
);

both_backends!(
    an_uninspectable_attachment_is_held_until_a_reviewer_releases_it,
    |db| async move {
        let (store, org) = setup(&db).await;
        let intake = intake_with(Duration::from_secs(3600));
        let (accepted, ..) = intake
            .submit_api(&org, &sender(), &with_image(), None)
            .await
            .unwrap();
        let id = accepted.id();
        let status = org.message_status(&sender(), id).await.unwrap().unwrap();
        assert_eq!(status.recipients[0].state, DeliveryState::Held);
        let policy = status.policy.unwrap();
        assert_eq!(policy["disposition"], "quarantine");
        assert!(!policy.to_string().contains("maria"), "{policy}");
        assert_eq!(
            runner(&store).run_once().await.unwrap(),
            0,
            "held messages are not sent"
        );

        let held = org.quarantine_list(&reviewer(), false, 10).await.unwrap();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].message_id, id);
        assert!(held[0].reason.contains("inspect"), "{}", held[0].reason);

        // The hold lasted six days, longer than the message's five-day maximum age.
        let day = 86_400_000_000i64;
        let now = chrono::Utc::now().timestamp_micros();
        db.raw(&format!(
            "UPDATE messages SET created_at = {}, expires_at = {} WHERE id = {}",
            now - 6 * day,
            now - day,
            db.uuid_literal(id)
        ))
        .await;
        assert!(intake.release_held(&org, &reviewer(), id).await.unwrap());
        assert!(
            !intake.release_held(&org, &reviewer(), id).await.unwrap(),
            "only once"
        );
        let released = org.message_status(&sender(), id).await.unwrap().unwrap();
        assert!(
            released.expires_at > chrono::Utc::now() + chrono::Duration::days(4),
            "a released message gets its whole maximum age again"
        );
        assert_eq!(runner(&store).run_once().await.unwrap(), 1);
        let status = org.message_status(&sender(), id).await.unwrap().unwrap();
        assert_eq!(status.recipients[0].state, DeliveryState::Delivered);
        assert!(
            org.quarantine_list(&reviewer(), false, 10)
                .await
                .unwrap()
                .is_empty()
        );
        let all = org.quarantine_list(&reviewer(), true, 10).await.unwrap();
        assert_eq!(all[0].resolution.as_deref(), Some("released"));
        let actions = audit_actions(&org).await;
        assert!(
            actions.contains(&"quarantine.release".to_owned()),
            "{actions:?}"
        );
    }
);

both_backends!(
    a_rejected_hold_bounces_and_the_sender_is_told_the_reviewers_reason,
    |db| async move {
        let (store, org) = setup(&db).await;
        let intake = intake_with(Duration::from_secs(3600));
        let (accepted, ..) = intake
            .submit_api(&org, &sender(), &with_image(), None)
            .await
            .unwrap();
        let id = accepted.id();
        assert!(
            intake
                .reject_held(&org, &reviewer(), id, "send scans through the portal")
                .await
                .unwrap()
        );
        let status = org.message_status(&sender(), id).await.unwrap().unwrap();
        assert_eq!(status.recipients[0].state, DeliveryState::Bounced);
        // The notice to the sender is queued and delivered (to the sandbox here).
        assert_eq!(runner(&store).run_once().await.unwrap(), 1);
        let captured = org.sandbox_messages(&sender(), 10, None).await.unwrap();
        assert_eq!(captured.len(), 1);
        let notice = String::from_utf8_lossy(captured[0].raw.expose()).into_owned();
        assert!(notice.contains("send scans through the portal"), "{notice}");
        assert!(notice.contains("desk@clinic.test"));
    }
);

both_backends!(
    a_hold_nobody_reviews_is_rejected_when_it_expires,
    |db| async move {
        let (store, org) = setup(&db).await;
        let intake = intake_with(Duration::ZERO);
        let (accepted, ..) = intake
            .submit_api(&org, &sender(), &with_image(), None)
            .await
            .unwrap();
        // The round rejects the expired hold, then delivers the notice it queued.
        runner(&store).run_once().await.unwrap();
        runner(&store).run_once().await.unwrap();
        let status = org
            .message_status(&sender(), accepted.id())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.recipients[0].state, DeliveryState::Bounced);
        let all = org.quarantine_list(&reviewer(), true, 10).await.unwrap();
        assert_eq!(all[0].resolution.as_deref(), Some("expired"));
        let captured = org.sandbox_messages(&sender(), 10, None).await.unwrap();
        assert_eq!(captured.len(), 1, "the sender was told");
    }
);

both_backends!(
    the_organizations_own_patient_names_are_found_and_the_index_follows_contact_changes,
    |db| async move {
        use carepost_core::Phi;
        use carepost_delivery::protection_policy::{NameFingerprints, refresh_names};
        let (store, org) = setup(&db).await;
        let other = store
            .create_organization("other-clinic", &AccessContext::system("test"))
            .await
            .unwrap();
        let other = store.org(other.id).await.unwrap();
        let contact = |given: &str, family: &str| carepost_store::ContactFields {
            email: Phi::new(format!("{given}@patients.test").to_lowercase()),
            given_name: Some(Phi::new(given.into())),
            family_name: Some(Phi::new(family.into())),
            birth_date: None,
            phone: None,
            attributes: None,
        };
        org.create_contact(&reviewer(), contact("Maria", "Lopez"))
            .await
            .unwrap();

        let policy = Arc::new(ProtectionPolicy::with_defaults().unwrap());
        let mut seen = NameFingerprints::new();
        refresh_names(&store, &policy, &mut seen).await.unwrap();
        let intake = Intake::new(
            IntakeSettings::default(),
            Arc::new(Notify::new()),
            policy.clone(),
        );
        let letter = request(serde_json::json!({
            "from": "desk@clinic.test",
            "to": ["someone@patients.test"],
            "subject": "Your visit",
            "text": "The A1C result for Maria Lopez is ready.",
        }));
        let person = |org: OrgScope| {
            let intake = intake.clone();
            let letter = letter.clone();
            async move {
                let (a, ..) = intake
                    .submit_api(&org, &sender(), &letter, None)
                    .await
                    .unwrap();
                let s = org
                    .message_status(&sender(), a.id())
                    .await
                    .unwrap()
                    .unwrap();
                let policy = s.policy.unwrap();
                assert!(!policy.to_string().contains("Lopez"), "{policy}");
                policy["phi_counts"].get("PERSON").is_some()
            }
        };
        assert!(
            person(org.clone()).await,
            "Maria Lopez is this organization's patient"
        );
        assert!(
            !person(other.clone()).await,
            "but not the other organization's"
        );

        // An unchanged contact list is not read again; a new contact is indexed.
        let reads = |org: OrgScope| async move {
            org.audit_records(0, 10_000)
                .await
                .unwrap()
                .iter()
                .filter(|r| r.action == "contact.name_index")
                .count()
        };
        refresh_names(&store, &policy, &mut seen).await.unwrap();
        assert_eq!(reads(org.clone()).await, 1);
        other
            .create_contact(&reviewer(), contact("Maria", "Lopez"))
            .await
            .unwrap();
        refresh_names(&store, &policy, &mut seen).await.unwrap();
        assert!(person(other.clone()).await);
        assert_eq!(reads(org.clone()).await, 1);
    }
);

both_backends!(
    a_notify_compliance_rule_tells_the_compliance_contact_without_phi,
    |db| async move {
        let (store, org) = setup(&db).await;
        let rules: carepost_policy::rules::RuleSet = toml::from_str(
            r#"
            [[rules]]
            name = "tell-privacy-office"
            when = { contains_phi = true }
            then = [{ action = "notify-compliance" }]
            "#,
        )
        .unwrap();
        let mut policy =
            ProtectionPolicy::new(carepost_policy::Scanner::with_defaults().unwrap(), rules);
        policy.compliance_contact = Some("privacy@clinic.test".into());
        let intake = Intake::new(
            IntakeSettings::default(),
            Arc::new(Notify::new()),
            Arc::new(policy),
        );
        let phi = request(serde_json::json!({
            "from": "desk@clinic.test",
            "to": ["maria@patients.test"],
            "subject": "Follow-up",
            "text": "Maria Lopez, SSN 536-22-1234, needs her diabetes follow-up.",
        }));
        let (accepted, ..) = intake
            .submit_api(&org, &sender(), &phi, None)
            .await
            .unwrap();
        runner(&store).run_once().await.unwrap();
        let captured = org.sandbox_messages(&sender(), 10, None).await.unwrap();
        assert_eq!(captured.len(), 2, "the message and the notice");
        let notice = captured
            .iter()
            .map(|c| String::from_utf8_lossy(c.raw.expose()).into_owned())
            .find(|raw| raw.contains("privacy@clinic.test"))
            .expect("a notice to the compliance contact");
        assert!(notice.contains("tell-privacy-office"), "{notice}");
        assert!(notice.contains(&accepted.id().to_string()), "{notice}");
        assert!(notice.contains("SSN"), "types are named: {notice}");
        for value in [
            "536-22-1234",
            "Maria",
            "maria@patients.test",
            "diabetes follow-up",
        ] {
            assert!(!notice.contains(value), "{value} leaked: {notice}");
        }
    }
);
