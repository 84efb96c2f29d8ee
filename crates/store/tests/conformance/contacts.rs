use carepost_core::{ContactId, Phi};
use carepost_store::{ContactFields, StoreError, both_backends};

use super::*;

pub(crate) fn maria() -> ContactFields {
    ContactFields {
        email: Phi::new("Maria.Lopez@Example.org".into()),
        given_name: Some(Phi::new("Maria".into())),
        family_name: Some(Phi::new("Lopez".into())),
        birth_date: Some(Phi::new("1961-04-09".into())),
        phone: Some(Phi::new("+1 617 555 0142".into())),
        attributes: Some(Phi::new(r#"{"diagnosis":"E11.9","a1c":8.1}"#.into())),
    }
}

both_backends!(contacts_round_trip_through_encryption, |db| async move {
    let (_store, org) = store_with_org(&db, "clinic").await;
    let id = org.create_contact(&staff(), maria()).await.unwrap();
    let got = org.contact(&staff(), id).await.unwrap().unwrap();
    assert_eq!(got.id, id);
    assert_eq!(got.fields, maria());

    let mut changed = maria();
    changed.phone = None;
    changed.family_name = Some(Phi::new("Lopez-Garcia".into()));
    assert!(
        org.update_contact(&staff(), id, changed.clone())
            .await
            .unwrap()
    );
    assert_eq!(
        org.contact(&staff(), id).await.unwrap().unwrap().fields,
        changed
    );

    assert!(org.delete_contact(&staff(), id).await.unwrap());
    assert!(org.contact(&staff(), id).await.unwrap().is_none());
    assert!(!org.delete_contact(&staff(), id).await.unwrap());
    assert!(
        !org.update_contact(&staff(), ContactId::new(), maria())
            .await
            .unwrap()
    );
});

both_backends!(finds_contacts_by_email_ignoring_case, |db| async move {
    let (_store, org) = store_with_org(&db, "clinic").await;
    let id = org.create_contact(&staff(), maria()).await.unwrap();
    org.create_contact(&staff(), ContactFields::with_email("someone@else.org"))
        .await
        .unwrap();
    let found = org
        .find_contact_by_email(&staff(), "  maria.lopez@example.ORG ")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, id);
    assert!(
        org.find_contact_by_email(&staff(), "nobody@example.org")
            .await
            .unwrap()
            .is_none()
    );
});

both_backends!(
    one_organization_never_sees_another_organizations_contacts,
    |db| async move {
        let (store, a) = store_with_org(&db, "clinic-a").await;
        let b_org = store
            .create_organization("clinic-b", &system())
            .await
            .unwrap();
        let b = store.org(b_org.id).await.unwrap();
        let id = a.create_contact(&staff(), maria()).await.unwrap();
        assert!(b.contact(&staff(), id).await.unwrap().is_none());
        assert!(
            b.find_contact_by_email(&staff(), "maria.lopez@example.org")
                .await
                .unwrap()
                .is_none()
        );
        assert!(!b.delete_contact(&staff(), id).await.unwrap());
        assert!(
            !b.update_contact(&staff(), id, ContactFields::with_email("x@y.org"))
                .await
                .unwrap()
        );
        assert_eq!(a.contact_count().await.unwrap(), 1);
        assert_eq!(b.contact_count().await.unwrap(), 0);
    }
);

both_backends!(
    invalid_contacts_are_refused_and_change_nothing,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        let mut bad_attrs = maria();
        bad_attrs.attributes = Some(Phi::new("[1,2]".into()));
        for fields in [
            ContactFields::with_email("not-an-address"),
            ContactFields::with_email("@x.org"),
            bad_attrs,
        ] {
            let err = org.create_contact(&staff(), fields).await.unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err}");
            assert!(
                !err.to_string().contains("not-an-address"),
                "error must not echo PHI: {err}"
            );
        }
        assert_eq!(org.contact_count().await.unwrap(), 0);
    }
);

both_backends!(concurrent_writers_all_commit, |db| async move {
    let (_store, org) = store_with_org(&db, "clinic").await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let org = org.clone();
        tasks.push(tokio::spawn(async move {
            org.create_contact(
                &staff(),
                ContactFields::with_email(format!("p{i}@example.org")),
            )
            .await
            .unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(org.contact_count().await.unwrap(), 200);
    let found = org
        .find_contact_by_email(&staff(), "p137@example.org")
        .await
        .unwrap();
    assert!(found.is_some());
});

both_backends!(
    a_ciphertext_moved_to_another_row_or_column_fails_to_decrypt,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        let a = org.create_contact(&staff(), maria()).await.unwrap();
        let b = org
            .create_contact(&staff(), ContactFields::with_email("b@example.org"))
            .await
            .unwrap();
        // Someone with database access copies A's email ciphertext into B's row.
        let (a_lit, b_lit) = match db.kind {
            carepost_store::testing::Kind::Sqlite => (
                format!("X'{}'", hex(a.as_uuid().as_bytes())),
                format!("X'{}'", hex(b.as_uuid().as_bytes())),
            ),
            carepost_store::testing::Kind::Postgres => (format!("'{a}'"), format!("'{b}'")),
        };
        db.raw(&format!("UPDATE contacts SET email = (SELECT email FROM contacts WHERE id = {a_lit}) WHERE id = {b_lit}")).await;
        let err = org.contact(&staff(), b).await.unwrap_err();
        assert!(err.to_string().contains("does not verify"), "{err}");
        // And A's given name moved into A's family name column fails too.
        db.raw(&format!(
            "UPDATE contacts SET family_name = given_name WHERE id = {a_lit}"
        ))
        .await;
        assert!(org.contact(&staff(), a).await.is_err());
    }
);

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
