//! DKIM signing keys: sealed at rest, one key per domain and selector, re-encrypted on
//! rotation like every other sealed column.

use carepost_store::{NewDkimKey, StoreError, both_backends};
use zeroize::Zeroizing;

use super::*;

fn key(domain: &str, selector: &str, secret: &[u8]) -> NewDkimKey {
    NewDkimKey {
        domain: domain.into(),
        selector: selector.into(),
        algorithm: "rsa-2048".into(),
        private_key: Zeroizing::new(secret.to_vec()),
        public_key: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA".into(),
    }
}

both_backends!(
    dkim_keys_are_kept_per_domain_and_selector_and_read_back,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        org.add_dkim_key(&system(), key("Clinic.Test.", "s1", b"private one"))
            .await
            .unwrap();
        org.add_dkim_key(&system(), key("clinic.test", "s2", b"private two"))
            .await
            .unwrap();
        let err = org
            .add_dkim_key(&system(), key("clinic.test", "s1", b"again"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Invalid(ref m) if m.contains("exists already")),
            "{err}"
        );
        for (domain, selector) in [("bad domain", "s1"), ("clinic.test", "Bad Selector")] {
            let err = org
                .add_dkim_key(&system(), key(domain, selector, b"x"))
                .await
                .unwrap_err();
            assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        }

        let keys = org.dkim_keys().await.unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].domain, "clinic.test", "domains are normalized");
        assert_eq!(keys[0].selector, "s1");
        assert_eq!(keys[0].private_key.as_slice(), b"private one");
        assert_eq!(keys[1].private_key.as_slice(), b"private two");
        assert!(!format!("{:?}", keys[0]).contains("private one"));
    }
);

both_backends!(
    dkim_private_keys_are_reencrypted_after_a_rotation,
    |db| async move {
        let (store, org) = store_with_org(&db, "clinic").await;
        org.add_dkim_key(&system(), key("clinic.test", "s1", b"the private key"))
            .await
            .unwrap();
        store
            .rotate_data_key(org.org_id(), &system())
            .await
            .unwrap();
        let org = store.org(org.org_id()).await.unwrap();
        assert_eq!(
            org.rows_to_reencrypt().await.unwrap(),
            2,
            "the DKIM key and the signing key"
        );
        while org.reencrypt_step(&system(), 10).await.unwrap().remaining > 0 {}
        store
            .retire_data_keys(org.org_id(), &system())
            .await
            .unwrap();
        let org = store.org_fresh(org.org_id()).await.unwrap();
        assert_eq!(
            org.dkim_keys().await.unwrap()[0].private_key.as_slice(),
            b"the private key"
        );
    }
);
