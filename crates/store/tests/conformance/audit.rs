use carepost_audit::{AuditEvent, ObjectRef, Problem, actions};
use carepost_core::Actor;
use carepost_store::both_backends;
use carepost_store::testing::{Kind, TestDb};

use super::contacts::maria;
use super::*;

both_backends!(concurrent_appends_form_one_gapless_chain, |db| async move {
    let (_store, org) = store_with_org(&db, "clinic").await;
    let mut tasks = Vec::new();
    for t in 0..20 {
        let org = org.clone();
        tasks.push(tokio::spawn(async move {
            let mut seqs = Vec::new();
            for i in 0..50 {
                let e = AuditEvent::new(
                    Actor::ApiKey(format!("k{t}")),
                    "message.send",
                    ObjectRef::new("message", i),
                );
                seqs.push(org.audit(e).await.unwrap());
            }
            seqs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort_unstable();
    // Record 1 is the organization's creation.
    assert_eq!(all, (2..=1001).collect::<Vec<i64>>());
    let report = org.verify_audit_chain(None).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.last_seq, 1001);
});

both_backends!(
    every_phi_access_leaves_a_record_without_phi,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        let id = org.create_contact(&staff(), maria()).await.unwrap();
        org.contact(&staff(), id).await.unwrap();
        org.find_contact_by_email(&staff(), "maria.lopez@example.org")
            .await
            .unwrap();
        org.delete_contact(&staff(), id).await.unwrap();
        let recs = org.audit_records(0, 100).await.unwrap();
        let got: Vec<(&str, &str)> = recs
            .iter()
            .map(|r| (r.action.as_str(), r.object.id.as_str()))
            .collect();
        let id_text = id.to_string();
        assert_eq!(
            &got[1..],
            &[
                (actions::CONTACT_CREATE, id_text.as_str()),
                (actions::CONTACT_READ, id_text.as_str()),
                (actions::CONTACT_LOOKUP, id_text.as_str()),
                (actions::CONTACT_DELETE, id_text.as_str()),
            ]
        );
        assert!(
            recs[1..]
                .iter()
                .all(|r| r.actor == Actor::User("nurse-1".into()))
        );
        assert_eq!(recs[1].source.as_deref(), Some("10.0.0.7"));
    }
);

both_backends!(
    signed_checkpoints_verify_and_are_not_repeated,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        org.create_contact(&staff(), maria()).await.unwrap();
        let cp = org.checkpoint_audit().await.unwrap().unwrap();
        assert_eq!(cp.seq, 2);
        assert!(
            org.checkpoint_audit().await.unwrap().is_none(),
            "no new records, no new checkpoint"
        );
        let keys = org.audit_public_keys().await.unwrap();
        assert!(cp.verify(&keys[&cp.key_id]));
        let report = org.verify_audit_chain(Some(&keys)).await.unwrap();
        assert!(report.is_intact());
        assert_eq!(report.last_checkpoint_seq, Some(2));
    }
);

/// A chain of 11 records (organization creation and 10 contact creations), with the
/// database's append-only triggers removed, as an attacker with database access would.
async fn tamperable(db: &TestDb) -> OrgScope {
    let (_store, org) = store_with_org(db, "clinic").await;
    for i in 0..10 {
        let mut f = maria();
        f.email = carepost_core::Phi::new(format!("p{i}@example.org"));
        org.create_contact(&staff(), f).await.unwrap();
    }
    match db.kind {
        Kind::Sqlite => {
            db.raw("DROP TRIGGER audit_records_no_update").await;
            db.raw("DROP TRIGGER audit_records_no_delete").await;
        }
        Kind::Postgres => {
            db.raw("ALTER TABLE audit_records DISABLE TRIGGER audit_records_append_only")
                .await
        }
    }
    org
}

async fn problem(org: &OrgScope) -> Option<Problem> {
    org.verify_audit_chain(None).await.unwrap().problem
}

both_backends!(
    the_database_refuses_to_update_audit_records,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        org.create_contact(&staff(), maria()).await.unwrap();
        let result = std::panic::AssertUnwindSafe(db.raw("UPDATE audit_records SET action = 'x'"));
        let caught = futures::FutureExt::catch_unwind(result).await;
        assert!(
            caught.is_err(),
            "the append-only trigger must refuse the update"
        );
    }
);

both_backends!(verify_names_an_edited_record, |db| async move {
    let org = tamperable(&db).await;
    assert_eq!(problem(&org).await, None);
    db.raw("UPDATE audit_records SET action = 'contact.read' WHERE seq = 5")
        .await;
    assert_eq!(problem(&org).await, Some(Problem::Edited { seq: 5 }));
});

both_backends!(verify_names_a_deleted_record, |db| async move {
    let org = tamperable(&db).await;
    db.raw("DELETE FROM audit_records WHERE seq = 5").await;
    assert_eq!(
        problem(&org).await,
        Some(Problem::Missing {
            expected: 5,
            found: 6
        })
    );
});

both_backends!(verify_names_an_inserted_record, |db| async move {
    let org = tamperable(&db).await;
    db.raw("UPDATE audit_records SET seq = seq + 1000000 WHERE seq >= 5")
        .await;
    db.raw("UPDATE audit_records SET seq = seq - 999999 WHERE seq >= 1000000")
        .await;
    db.raw(
        "INSERT INTO audit_records SELECT org_id, 5, ts, actor_kind, actor_id, action, object_type, \
         object_id, outcome, source, detail, prev_hash, hash FROM audit_records WHERE seq = 4",
    )
    .await;
    assert_eq!(problem(&org).await, Some(Problem::Edited { seq: 5 }));
});

both_backends!(verify_names_a_reordered_record, |db| async move {
    let org = tamperable(&db).await;
    db.raw("UPDATE audit_records SET seq = -1 WHERE seq = 5")
        .await;
    db.raw("UPDATE audit_records SET seq = 5 WHERE seq = 6")
        .await;
    db.raw("UPDATE audit_records SET seq = 6 WHERE seq = -1")
        .await;
    assert_eq!(problem(&org).await, Some(Problem::Edited { seq: 5 }));
});

both_backends!(
    verify_detects_records_deleted_from_the_end,
    |db| async move {
        let org = tamperable(&db).await;
        db.raw("DELETE FROM audit_records WHERE seq >= 10").await;
        assert_eq!(
            problem(&org).await,
            Some(Problem::Truncated {
                last_seq: 9,
                known_seq: 11
            })
        );
    }
);

both_backends!(
    verify_detects_a_rewritten_tail_through_the_checkpoint,
    |db| async move {
        let org = tamperable(&db).await;
        org.checkpoint_audit().await.unwrap().unwrap();
        // Remove the last record and move the head back: only the signed checkpoint knows.
        db.raw("DELETE FROM audit_records WHERE seq = 11").await;
        db.raw("UPDATE audit_heads SET seq = 10, hash = (SELECT hash FROM audit_records WHERE seq = 10)").await;
        assert_eq!(
            problem(&org).await,
            Some(Problem::Truncated {
                last_seq: 10,
                known_seq: 11
            })
        );
    }
);

both_backends!(
    records_between_two_times_are_exported_in_order,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        for _ in 0..5 {
            org.create_contact(&staff(), maria()).await.unwrap();
        }
        let all = org.audit_records(0, 100).await.unwrap();
        let since = all[2].time_us;
        let page = org
            .audit_records_between(since, i64::MAX, 0, 100)
            .await
            .unwrap();
        assert!(page.iter().all(|r| r.time_us >= since));
        assert!(page.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(page.last().unwrap().seq, 6);
    }
);

both_backends!(two_nodes_extend_one_chain_without_gaps, |db| async move {
    let (node_a, org) = store_with_org(&db, "clinic").await;
    let node_b = db.open(key_provider(1, &[1])).await;
    let org_b = node_b.org(org.org_id()).await.unwrap();
    let mut tasks = Vec::new();
    for (n, scope) in [org.clone(), org_b].into_iter().enumerate() {
        for t in 0..8 {
            let scope = scope.clone();
            tasks.push(tokio::spawn(async move {
                for i in 0..40 {
                    let e = AuditEvent::new(
                        Actor::ApiKey(format!("n{n}-t{t}")),
                        "message.send",
                        ObjectRef::new("message", i),
                    );
                    scope.audit(e).await.unwrap();
                }
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
    let report = org.verify_audit_chain(None).await.unwrap();
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.last_seq, 1 + 2 * 8 * 40);
    drop(node_a);
});

both_backends!(
    verify_reports_a_live_chain_intact_while_appends_continue,
    |db| async move {
        let (_store, org) = store_with_org(&db, "clinic").await;
        let writer = {
            let org = org.clone();
            tokio::spawn(async move {
                for i in 0..400 {
                    org.audit(AuditEvent::new(
                        Actor::system("w"),
                        "message.send",
                        ObjectRef::new("message", i),
                    ))
                    .await
                    .unwrap();
                }
            })
        };
        let mut verified = 0;
        while !writer.is_finished() || verified == 0 {
            let report = org.verify_audit_chain(None).await.unwrap();
            assert!(
                report.is_intact(),
                "live chain reported as {:?}",
                report.problem
            );
            verified += 1;
        }
        writer.await.unwrap();
        assert!(org.verify_audit_chain(None).await.unwrap().is_intact());
    }
);

both_backends!(
    a_checkpoint_is_never_signed_over_a_tampered_tail,
    |db| async move {
        let org = tamperable(&db).await;
        org.checkpoint_audit().await.unwrap().unwrap();
        org.create_contact(&staff(), maria()).await.unwrap();
        db.raw("UPDATE audit_records SET actor_id = 'someone-else' WHERE seq = 12")
            .await;
        let err = org.checkpoint_audit().await.unwrap_err();
        assert!(err.to_string().contains("no checkpoint signed"), "{err}");
        assert_eq!(org.audit_checkpoints().await.unwrap().len(), 1);
    }
);

both_backends!(verify_reports_a_deleted_head, |db| async move {
    let org = tamperable(&db).await;
    db.raw("DELETE FROM audit_heads").await;
    assert_eq!(problem(&org).await, Some(Problem::HeadMissing));
});
