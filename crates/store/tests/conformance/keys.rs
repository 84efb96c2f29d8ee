use carepost_store::testing::key_provider;
use carepost_store::{DataKeyState, StoreError, both_backends};

use super::contacts::maria;
use super::*;

both_backends!(
    rotation_keeps_old_data_readable_and_reencrypts_it,
    |db| async move {
        let (store, org) = store_with_org(&db, "clinic").await;
        let mut ids = Vec::new();
        for i in 0..25 {
            let mut f = maria();
            f.email = carepost_core::Phi::new(format!("old{i}@example.org"));
            ids.push(org.create_contact(&staff(), f).await.unwrap());
        }
        let v2 = store
            .rotate_data_key(org.org_id(), &system())
            .await
            .unwrap();
        assert_eq!(v2, 2);
        let org = store.org(org.org_id()).await.unwrap();
        // Old rows still open; lookups by email still match rows indexed under version 1.
        assert!(org.contact(&staff(), ids[3]).await.unwrap().is_some());
        assert!(
            org.find_contact_by_email(&staff(), "old7@example.org")
                .await
                .unwrap()
                .is_some()
        );
        let new_id = org.create_contact(&staff(), maria()).await.unwrap();

        // Retiring version 1 is refused while rows still need it.
        let err = store
            .retire_data_keys(org.org_id(), &system())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::KeyState(_)), "{err}");

        assert_eq!(
            org.rows_to_reencrypt().await.unwrap(),
            26,
            "25 contacts and the signing key"
        );
        let mut steps = 0;
        loop {
            let p = org.reencrypt_step(&system(), 10).await.unwrap();
            steps += 1;
            if p.remaining == 0 {
                break;
            }
            assert!(steps < 10, "re-encryption must make progress");
        }
        assert!(steps >= 3, "batches of 10 take several steps, took {steps}");

        let keys = store.data_keys(org.org_id()).await.unwrap();
        assert_eq!(keys[0].state, DataKeyState::DecryptOnly);
        assert_eq!(keys[0].rows, 0);
        assert_eq!(keys[1].state, DataKeyState::Active);
        assert_eq!(
            store
                .retire_data_keys(org.org_id(), &system())
                .await
                .unwrap(),
            vec![1]
        );

        let org = store.org(org.org_id()).await.unwrap();
        for id in ids.iter().chain([&new_id]) {
            assert!(org.contact(&staff(), *id).await.unwrap().is_some());
        }
        assert!(
            org.find_contact_by_email(&staff(), "old7@example.org")
                .await
                .unwrap()
                .is_some()
        );
        // The signing key moved too: checkpoints still sign.
        assert!(org.checkpoint_audit().await.unwrap().is_some());
        assert!(org.verify_audit_chain(None).await.unwrap().is_intact());
    }
);

both_backends!(
    another_process_sees_a_rotation_made_elsewhere,
    |db| async move {
        let (server, org) = store_with_org(&db, "clinic").await;
        let id = org.create_contact(&staff(), maria()).await.unwrap();
        // The operator's CLI opens the same database, rotates and re-encrypts.
        let cli = db.open(key_provider(1, &[1])).await;
        cli.rotate_data_key(org.org_id(), &system()).await.unwrap();
        let cli_org = cli.org(org.org_id()).await.unwrap();
        while cli_org
            .reencrypt_step(&system(), 100)
            .await
            .unwrap()
            .remaining
            > 0
        {}
        // The server, whose cached keyring predates the rotation, still reads the row.
        let again = server.org(org.org_id()).await.unwrap();
        assert_eq!(
            again.contact(&staff(), id).await.unwrap().unwrap().fields,
            maria()
        );
    }
);

both_backends!(master_key_rotation_rewraps_data_keys, |db| async move {
    let (store, org) = store_with_org(&db, "clinic").await;
    let id = org.create_contact(&staff(), maria()).await.unwrap();
    drop(store);
    let store = db.open(key_provider(1, &[1, 2])).await;
    assert_eq!(store.master_key_versions_in_use().await.unwrap(), vec![1]);
    assert_eq!(store.rewrap_data_keys(&system()).await.unwrap(), 1);
    assert_eq!(store.master_key_versions_in_use().await.unwrap(), vec![2]);
    drop(store);
    // Master key version 1 can now be dropped from the key source.
    let only_v2 = db.open(key_provider(1, &[2])).await;
    let org = only_v2.org(org.org_id()).await.unwrap();
    assert!(org.contact(&staff(), id).await.unwrap().is_some());
});

both_backends!(a_wrong_master_key_is_reported_as_such, |db| async move {
    let (store, _org) = store_with_org(&db, "clinic").await;
    drop(store);
    let err = carepost_store::Store::open(&db.config(), key_provider(99, &[1]))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::WrongMasterKey { version: 1, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("wrong master key"), "{err}");
    let err = carepost_store::Store::open(&db.config(), key_provider(1, &[2]))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::MissingMasterKeyVersion { version: 1, .. }),
        "{err}"
    );
});
