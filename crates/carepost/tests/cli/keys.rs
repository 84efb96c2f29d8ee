use super::*;

#[test]
fn keys_rotate_reencrypts_and_retire_destroys_the_old_version() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let token = String::from_utf8(
        run(
            dir.path(),
            &[
                "apikey",
                "create",
                "--scope",
                "contacts:write,contacts:read",
            ],
        )
        .stdout,
    )
    .unwrap();
    let token = token.trim().to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = reqwest::Client::new();
    let id = rt.block_on(async {
        let r = c
            .post(format!("{}/api/v1/contacts", server.base))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "email": "a@b.org", "phone": "555-0100" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        r.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    });

    // Rotation while the server runs: no downtime, progress shown.
    let o = run(dir.path(), &["keys", "rotate"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("data key version 2 is now active"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("(100%)"), "{}", text(&o));
    let o = run(dir.path(), &["keys", "retire"]);
    assert!(
        text(&o).contains("retired data key versions [1]"),
        "{}",
        text(&o)
    );
    let status = text(&run(dir.path(), &["keys", "status"]));
    assert!(status.contains("v1   retired"), "{status}");

    // The server still reads the contact, now sealed with version 2.
    rt.block_on(async {
        let r = c
            .get(format!("{}/api/v1/contacts/{id}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            r.json::<serde_json::Value>().await.unwrap()["phone"],
            "555-0100"
        );
    });
    drop(server);

    // Master key rotation adds a version to the key file and re-wraps under it.
    let o = run(dir.path(), &["keys", "rotate", "--master"]);
    assert!(
        text(&o).contains("master key version 2 is active"),
        "{}",
        text(&o)
    );
    let o = run(dir.path(), &["keys", "retire", "--master", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = run(dir.path(), &["keys", "retire", "--master", "2"]);
    assert!(!o.status.success());
    let o = run(dir.path(), &["audit", "verify"]);
    assert!(o.status.success(), "{}", text(&o));
}
