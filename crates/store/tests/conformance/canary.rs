//! Known PHI strings are written through the store; the raw database (SQLite files
//! including the WAL, PostgreSQL rows as stored) must not contain any of them.

use carepost_core::Phi;
use carepost_store::testing::Kind;
use carepost_store::{ContactFields, both_backends};

use super::*;

const CANARIES: [&str; 6] = [
    "canary.patient@example.org",
    "Zebulon",
    "Quackenbush",
    "1937-02-29",
    "+1 555 867 5309",
    "CANARY-DIAGNOSIS-K21.9",
];

fn canary_contact() -> ContactFields {
    ContactFields {
        email: Phi::new(CANARIES[0].into()),
        given_name: Some(Phi::new(CANARIES[1].into())),
        family_name: Some(Phi::new(CANARIES[2].into())),
        birth_date: Some(Phi::new(CANARIES[3].into())),
        phone: Some(Phi::new(CANARIES[4].into())),
        attributes: Some(Phi::new(format!(r#"{{"diagnosis":"{}"}}"#, CANARIES[5]))),
    }
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

both_backends!(no_phi_appears_in_the_raw_database, |db| async move {
    let (store, org) = store_with_org(&db, "clinic").await;
    let id = org
        .create_contact(&staff(), canary_contact())
        .await
        .unwrap();
    org.contact(&staff(), id).await.unwrap();
    org.find_contact_by_email(&staff(), CANARIES[0])
        .await
        .unwrap();
    // A queued message, its evidence and its sandbox capture.
    let mut m = super::queue::message(&[CANARIES[0]], CANARIES[5]);
    m.idempotency_key = Some(CANARIES[1].into());
    let mid = org.accept_message(&staff(), m).await.unwrap().id();
    org.record_attempts(
        &system(),
        mid,
        vec![carepost_store::AttemptRecord {
            idx: 0,
            state: carepost_core::DeliveryState::Delivered,
            retry_at: None,
            evidence: Phi::new(format!(r#"{{"recipient":"{}"}}"#, CANARIES[0])),
            audit_detail: serde_json::json!({}),
        }],
    )
    .await
    .unwrap();
    org.capture_sandbox(
        mid,
        Phi::new(format!("To: {}\r\n\r\n{}", CANARIES[0], CANARIES[2]).into_bytes()),
    )
    .await
    .unwrap();
    org.checkpoint_audit().await.unwrap();
    store
        .rotate_data_key(org.org_id(), &system())
        .await
        .unwrap();
    let org = store.org(org.org_id()).await.unwrap();
    while org.reencrypt_step(&system(), 100).await.unwrap().remaining > 0 {}

    let haystack: Vec<u8> = match db.kind {
        Kind::Sqlite => {
            // Every file SQLite keeps: the database, its WAL and shared memory.
            let mut all = Vec::new();
            let mut files = 0;
            for entry in std::fs::read_dir(db.dir.path()).unwrap() {
                all.extend(std::fs::read(entry.unwrap().path()).unwrap());
                files += 1;
            }
            assert!(files >= 2, "expected the database and its WAL");
            all
        }
        Kind::Postgres => db.dump_postgres_rows().await.into_bytes(),
    };
    assert!(haystack.len() > 1000, "the scan must see the data");
    let text = String::from_utf8_lossy(&haystack).to_lowercase();
    for canary in CANARIES {
        assert!(
            !text.contains(&canary.to_lowercase()),
            "{canary} found in the raw database"
        );
        assert!(
            !text.contains(&hex(canary)),
            "{canary} found hex-encoded in the raw database"
        );
    }
    // The data itself is still there, readable through the store.
    let got = org.contact(&staff(), id).await.unwrap().unwrap();
    assert_eq!(got.fields, canary_contact());
});
