use sqlx::{Connection, Executor};

use super::*;

#[test]
fn audit_verify_names_the_first_bad_record_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    Server::start(dir.path(), &[]).stop();
    for _ in 0..3 {
        assert!(
            run(dir.path(), &["apikey", "create", "--scope", "dlp:scan"])
                .status
                .success()
        );
    }
    let keys_file = dir.path().join("audit-keys.json");
    std::fs::write(&keys_file, run(dir.path(), &["audit", "public-key"]).stdout).unwrap();
    assert!(run(dir.path(), &["audit", "checkpoint"]).status.success());
    let o = run(
        dir.path(),
        &["audit", "verify", "--public-key", "audit-keys.json"],
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("intact"), "{}", text(&o));

    let db = dir.path().join("carepost-data/carepost.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        c.execute("DROP TRIGGER audit_records_no_update")
            .await
            .unwrap();
        c.execute("UPDATE audit_records SET actor_id = 'someone-else' WHERE seq = 3")
            .await
            .unwrap();
    });
    let o = run(dir.path(), &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("record 3 was altered"), "{}", text(&o));
    let json = run(dir.path(), &["audit", "verify", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v[0]["report"]["problem"]["kind"], "edited");
    assert_eq!(v[0]["report"]["problem"]["seq"], 3);
}

#[test]
fn audit_export_writes_json_lines_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    Server::start(dir.path(), &[]).stop();
    let o = run(
        dir.path(),
        &[
            "audit",
            "export",
            "--since",
            "2020-01-01",
            "--format",
            "jsonl",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["action"], "organization.create");
    assert_eq!(lines[0]["seq"], 1);

    let o = run(
        dir.path(),
        &[
            "audit",
            "export",
            "--since",
            "2020-01-01T00:00:00Z",
            "--format",
            "csv",
            "--output",
            "out.csv",
        ],
    );
    assert!(o.status.success(), "{}", text(&o));
    let csv = std::fs::read_to_string(dir.path().join("out.csv")).unwrap();
    assert!(csv.starts_with("org,seq,time,"), "{csv}");

    let future = run(dir.path(), &["audit", "export", "--since", "2999-01-01"]);
    assert!(future.status.success());
    assert!(future.stdout.is_empty());
    let bad = run(dir.path(), &["audit", "export", "--since", "yesterday"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("'yesterday' is neither"),
        "{}",
        text(&bad)
    );
    let bad = run(
        dir.path(),
        &[
            "audit",
            "export",
            "--since",
            "2020-01-01",
            "--format",
            "xml",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
}
