use carepost_store::{StoreError, both_backends};

use super::*;

both_backends!(creates_and_lists_organizations, |db| async move {
    let store = db.open(key_provider(1, &[1])).await;
    let a = store
        .create_organization("clinic-a", &system())
        .await
        .unwrap();
    let b = store
        .create_organization("clinic-b", &system())
        .await
        .unwrap();
    let names: Vec<String> = store
        .organizations()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, vec!["clinic-a", "clinic-b"]);
    assert_eq!(
        store
            .find_organization("clinic-a")
            .await
            .unwrap()
            .unwrap()
            .id,
        a.id
    );
    assert_eq!(store.org_named("clinic-b").await.unwrap().org_id(), b.id);
});

both_backends!(refuses_a_duplicate_organization_name, |db| async move {
    let store = db.open(key_provider(1, &[1])).await;
    store
        .create_organization("clinic", &system())
        .await
        .unwrap();
    let err = store
        .create_organization("clinic", &system())
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::DuplicateOrganization(_)), "{err}");
    assert_eq!(store.organizations().await.unwrap().len(), 1);
});

both_backends!(ensure_organization_creates_once, |db| async move {
    let store = db.open(key_provider(1, &[1])).await;
    let (a, created) = store
        .ensure_organization("default", &system())
        .await
        .unwrap();
    assert!(created);
    let (b, created) = store
        .ensure_organization("default", &system())
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(a.id, b.id);
});

both_backends!(
    refuses_invalid_names_and_unknown_organizations,
    |db| async move {
        let store = db.open(key_provider(1, &[1])).await;
        for bad in ["", "Upper", "has space", &"x".repeat(65), "semi;colon"] {
            let err = store.create_organization(bad, &system()).await.unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{bad}: {err}");
        }
        assert!(store.organizations().await.unwrap().is_empty());
        let err = store.org(carepost_core::OrgId::new()).await.unwrap_err();
        assert!(matches!(err, StoreError::UnknownOrganization(_)), "{err}");
        assert!(matches!(
            store.org_named("nope").await.unwrap_err(),
            StoreError::UnknownOrganization(_)
        ));
    }
);

both_backends!(api_keys_authenticate_until_revoked, |db| async move {
    let (store, org) = store_with_org(&db, "clinic").await;
    let key = org
        .create_api_key(&system(), "ehr job", &["messages:send".into()])
        .await
        .unwrap();
    let p = store
        .authenticate_api_key(&key.token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(p.org, org.org_id());
    assert_eq!(p.key_id, key.id);
    assert!(p.allows("messages:send") && !p.allows("contacts:read"));
    assert!(!format!("{key:?}").contains(&key.token));

    let mut wrong = key.token.clone();
    wrong.pop();
    wrong.push('x');
    for bad in [
        wrong.as_str(),
        "cpk_",
        "garbage",
        "cpk_zzzzzzzzzzzzzzzz_abc",
        "",
    ] {
        assert!(
            store.authenticate_api_key(bad).await.unwrap().is_none(),
            "{bad}"
        );
    }
    let err = org
        .create_api_key(&system(), "x", &["root".into()])
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("unknown scope 'root'"), "{err}");

    assert!(org.revoke_api_key(&system(), &key.id).await.unwrap());
    assert!(
        store
            .authenticate_api_key(&key.token)
            .await
            .unwrap()
            .is_none()
    );
});
