use carepost_store::testing::{Kind, key_provider};
use carepost_store::{Location, Store, StoreConfig, StoreError, both_backends};

both_backends!(refuses_a_database_with_a_newer_schema, |db| async move {
    let store = db.open(key_provider(1, &[1])).await;
    drop(store);
    let sql = match db.kind {
        Kind::Sqlite => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                         VALUES (99990101000000, 'from the future', 1, X'00', 0)"
        }
        Kind::Postgres => {
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                           VALUES (99990101000000, 'from the future', true, '\\x00', 0)"
        }
    };
    db.raw(sql).await;
    let err = Store::open(&db.config(), key_provider(1, &[1]))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                found: 99990101000000,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("upgrade carepost"), "{err}");
});

#[tokio::test]
async fn an_unreachable_postgres_is_retried_then_reported_without_its_password() {
    let mut config = StoreConfig::new(
        Location::parse("postgres://carepost:s3cret@127.0.0.1:1/carepost").unwrap(),
    );
    config.connect_attempts = 2;
    let err = Store::open(&config, key_provider(1, &[1]))
        .await
        .err()
        .unwrap();
    let text = err.to_string();
    assert!(
        matches!(err, StoreError::Unreachable { attempts: 2, .. }),
        "{text}"
    );
    assert!(text.contains("127.0.0.1:1/carepost"), "{text}");
    assert!(!text.contains("s3cret"), "{text}");
}

#[test]
fn database_urls_are_parsed_or_refused_clearly() {
    assert_eq!(
        Location::parse("data/x.db").unwrap(),
        Location::Sqlite("data/x.db".into())
    );
    assert_eq!(
        Location::parse("sqlite://data/x.db").unwrap(),
        Location::Sqlite("data/x.db".into())
    );
    assert!(matches!(
        Location::parse("postgres://u@h/db").unwrap(),
        Location::Postgres(_)
    ));
    let err = Location::parse("mysql://u@h/db").unwrap_err();
    assert!(err.to_string().contains("must start with"), "{err}");
    let desc = Location::parse("postgres://u:pw@h:5433/db")
        .unwrap()
        .describe();
    assert_eq!(desc, "PostgreSQL h:5433/db");
}
