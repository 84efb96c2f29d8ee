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

both_backends!(
    a_stale_writer_never_leaves_a_row_under_a_retired_key,
    |db| async move {
        // Node A caches its keyring; node B rotates, re-encrypts and retires meanwhile.
        let (node_a, org_a) = store_with_org(&db, "clinic").await;
        let existing = org_a.create_contact(&staff(), maria()).await.unwrap();
        let node_b = db.open(key_provider(1, &[1])).await;
        node_b
            .rotate_data_key(org_a.org_id(), &system())
            .await
            .unwrap();
        let org_b = node_b.org(org_a.org_id()).await.unwrap();
        while org_b
            .reencrypt_step(&system(), 100)
            .await
            .unwrap()
            .remaining
            > 0
        {}
        assert_eq!(
            node_b
                .retire_data_keys(org_a.org_id(), &system())
                .await
                .unwrap(),
            vec![1]
        );

        // A still holds the old keyring (active version 1, now destroyed) and writes with it.
        let created = org_a.create_contact(&staff(), maria()).await.unwrap();
        let mut changed = maria();
        changed.phone = Some(carepost_core::Phi::new("+1 617 555 0199".into()));
        assert!(
            org_a
                .update_contact(&staff(), existing, changed.clone())
                .await
                .unwrap()
        );

        // Both rows are sealed with version 2 and readable by a node that never cached v1.
        let fresh = db
            .open(key_provider(1, &[1]))
            .await
            .org(org_a.org_id())
            .await
            .unwrap();
        assert_eq!(
            fresh
                .contact(&staff(), created)
                .await
                .unwrap()
                .unwrap()
                .fields,
            maria()
        );
        assert_eq!(
            fresh
                .contact(&staff(), existing)
                .await
                .unwrap()
                .unwrap()
                .fields,
            changed
        );
        let keys = node_b.data_keys(org_a.org_id()).await.unwrap();
        assert_eq!(
            keys[0].rows, 0,
            "nothing was written under the retired version"
        );
        drop(node_a);
    }
);
