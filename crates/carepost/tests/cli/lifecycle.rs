use std::os::unix::fs::PermissionsExt;

use super::*;

#[test]
fn init_writes_a_commented_config_and_a_private_key_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = run(dir.path(), &["init"]);
    assert!(o.status.success(), "{}", text(&o));
    let config = std::fs::read_to_string(dir.path().join("carepost.toml")).unwrap();
    assert!(config.contains("# listen = \"127.0.0.1:8080\""));
    let key = dir.path().join("carepost-data/master.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );

    let again = run(dir.path(), &["init"]);
    assert!(!again.status.success());
    assert!(text(&again).contains("--force"), "{}", text(&again));
    let before = std::fs::read(&key).unwrap();
    assert!(run(dir.path(), &["init", "--force"]).status.success());
    assert_eq!(
        std::fs::read(&key).unwrap(),
        before,
        "init never replaces a key file"
    );
}

#[test]
fn serve_starts_with_embedded_defaults_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert!(
        server.banner.contains("SQLite ./carepost-data/carepost.db"),
        "{}",
        server.banner
    );
    assert!(server.banner.contains("generated now"), "{}", server.banner);
    assert!(
        server.banner.contains("organization: default (created)"),
        "{}",
        server.banner
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        assert_eq!(
            reqwest::get(format!("{}/healthz", server.base))
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(
            reqwest::get(format!("{}/readyz", server.base))
                .await
                .unwrap()
                .status(),
            200
        );
        let metrics = reqwest::get(format!("{}/metrics", server.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(metrics.contains("carepost_http_requests_total"));
    });
    let data = dir.path().join("carepost-data");
    assert_eq!(
        std::fs::metadata(&data).unwrap().permissions().mode() & 0o777,
        0o700
    );
    assert!(server.stop().success());

    // A second start reuses the key and the organization.
    let again = Server::start(dir.path(), &[]);
    assert!(
        again.banner.contains("organization: default\n"),
        "{}",
        again.banner
    );
    assert!(!again.banner.contains("generated now"));
}

#[test]
fn invalid_configuration_is_one_line_with_exit_code_2_and_starts_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[server]\nlisten = \"nowhere\"\n",
    )
    .unwrap();
    let o = run(dir.path(), &["--config", "bad.toml", "serve"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("server.listen"), "{err}");
    assert!(!dir.path().join("carepost-data").exists());

    let o = carepost(dir.path())
        .args(["serve"])
        .env("CAREPOST_STORE__CONNECT_ATTEMPTS", "lots")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("store.connect_attempts"), "{}", text(&o));
}

#[test]
fn a_corrupted_key_file_is_reported_and_nothing_changes() {
    let dir = tempfile::tempdir().unwrap();
    Server::start(dir.path(), &[]).stop();
    let key = dir.path().join("carepost-data/master.key");
    let db = dir.path().join("carepost-data/carepost.db");
    std::fs::write(&key, "format = \"carepost-keys/1\"\n[[kek]]\nversion = 1\n").unwrap();
    let db_before = std::fs::read(&db).unwrap();
    let o = run(dir.path(), &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("is corrupted"), "{}", text(&o));
    assert_eq!(std::fs::read(&db).unwrap(), db_before);
}

#[test]
fn a_wrong_master_key_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    Server::start(dir.path(), &[]).stop();
    let o = carepost(dir.path())
        .args(["audit", "verify"])
        .env(
            "CAREPOST_MASTER_KEY",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        )
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(text(&o).contains("wrong master key"), "{}", text(&o));
}

#[test]
fn an_unreachable_postgres_ends_with_a_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let o = carepost(dir.path())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--database-url",
            "postgres://carepost:hunter2@127.0.0.1:1/carepost",
        ])
        .env("CAREPOST_STORE__CONNECT_ATTEMPTS", "2")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("cannot reach PostgreSQL 127.0.0.1:1/carepost after 2 attempts"),
        "{t}"
    );
    assert!(!t.contains("hunter2"), "{t}");
}

#[test]
fn serve_runs_on_postgres() {
    if std::env::var("CAREPOST_TEST_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
        return;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rt.block_on(carepost_store::testing::TestDb::new(
        carepost_store::testing::Kind::Postgres,
    ));
    let carepost_store::Location::Postgres(url) = db.location.clone() else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--database-url", &url]);
    assert!(
        server
            .banner
            .contains("PostgreSQL 127.0.0.1:5432/carepost_test_"),
        "{}",
        server.banner
    );
    rt.block_on(async {
        let ready: serde_json::Value = reqwest::get(format!("{}/readyz", server.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ready["store"], "postgres");
    });
    assert!(server.stop().success());
    rt.block_on(db.drop_db());
}

#[test]
fn dlp_scan_reads_json_lines_and_answers_each_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("in.jsonl"),
        "{\"id\": \"a\", \"text\": \"Patient SSN 123-45-6789 was seen for diabetes.\"}\nnot json\n{\"id\": \"b\", \"text\": \"Join our spring wellness walk!\"}\n",
    )
    .unwrap();
    let o = run(dir.path(), &["dlp", "scan", "in.jsonl"]);
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<serde_json::Value> = String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["id"], "a");
    assert_eq!(lines[0]["contains_phi"], true);
    assert!(lines[1].get("error").is_some(), "{}", lines[1]);
    assert_eq!(lines[2]["contains_phi"], false);
    let missing = run(dir.path(), &["dlp", "scan", "nope.jsonl"]);
    assert!(!missing.status.success());
    assert!(
        text(&missing).contains("cannot open nope.jsonl"),
        "{}",
        text(&missing)
    );
}
