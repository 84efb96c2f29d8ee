//! Mail through the real binary: SMTP submission with independent clients (Python's
//! smtplib, swaks), the HTTP send API, DKIM signing checked by dkimpy, and the sandbox.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{Server, run, text};

const PYTHON: &str = "/usr/bin/python3";

fn created_secret(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn cert(dir: &Path) -> String {
    dir.join("carepost-data/smtp-tls/cert.pem")
        .to_string_lossy()
        .into_owned()
}

/// Waits until the sandbox holds `n` messages, by asking the API (bounded number of
/// tries: the queue runner is woken by each acceptance, so this takes milliseconds).
fn sandbox_list(server: &Server, token: &str, n: usize) -> Vec<serde_json::Value> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        for _ in 0..600 {
            let body: serde_json::Value = c
                .get(format!("{}/api/v1/sandbox/messages", server.base))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let list = body["messages"].as_array().cloned().unwrap_or_default();
            if list.len() >= n {
                return list;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the sandbox never held {n} messages");
    })
}

fn sandbox_raw(server: &Server, token: &str, id: &str) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let r = reqwest::Client::new()
            .get(format!("{}/api/v1/sandbox/messages/{id}/raw", server.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().await.unwrap()
    })
}

/// Sends `body` through the API (expecting 201) and waits, with a bounded number of
/// polls, until the message's status satisfies `settled`; returns that status.
async fn send_and_wait(
    base: &str,
    token: &str,
    body: serde_json::Value,
    settled: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let c = reqwest::Client::new();
    let r = c
        .post(format!("{base}/api/v1/messages"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for _ in 0..600 {
        let status: serde_json::Value = c
            .get(format!("{base}/api/v1/messages/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if settled(&status) {
            return status;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("message {id} never settled");
}

/// Verifies `message` with dkimpy, answering its DNS query with `record` (the TXT value).
fn dkimpy_verifies(message: &str, record: &str) -> bool {
    let script = r#"
import sys, dkim
record = sys.argv[1].encode()
message = sys.stdin.buffer.read()
ok = dkim.verify(message, dnsfunc=lambda name, timeout=5: record)
print("verified" if ok else "failed")
"#;
    let mut child = Command::new(PYTHON)
        .args(["-c", script, record])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim() == "verified"
}

/// The TXT value from a zone-file line printed by `carepost dkim generate`.
fn txt_value(zone_line: &str) -> String {
    zone_line
        .split('"')
        .skip(1)
        .step_by(2)
        .collect::<Vec<_>>()
        .concat()
}

const SMTPLIB: &str = r#"
import os, smtplib, ssl
ctx = ssl.create_default_context(cafile=os.environ["CA"])
s = smtplib.SMTP("localhost", int(os.environ["PORT"]), timeout=20)
s.ehlo()
assert not s.has_extn("auth"), "AUTH offered before TLS"
s.starttls(context=ctx)
s.ehlo()
s.login(os.environ["SMTP_USER"], os.environ["SMTP_PASSWORD"])
msg = ("From: Front Desk <desk@clinic.test>\r\nTo: maria@patients.test\r\n"
       "Subject: Appointment reminder\r\nMessage-ID: <smtplib-1@clinic.test>\r\n\r\n"
       "Your appointment is on Tuesday at 10:00.\r\n")
assert s.sendmail("desk@clinic.test", ["maria@patients.test"], msg) == {}
s.quit()
print("sent")
"#;

#[test]
fn a_message_submitted_over_smtp_is_dkim_signed_and_captured_by_the_sandbox() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert!(
        server.banner.contains("delivery:     sandbox"),
        "{}",
        server.banner
    );
    assert!(
        server.banner.contains("self-signed, generated now"),
        "{}",
        server.banner
    );
    let password = created_secret(
        dir.path(),
        &[
            "smtp-user",
            "create",
            "front-desk",
            "--from-domain",
            "clinic.test",
        ],
    );
    let record = created_secret(
        dir.path(),
        &["dkim", "generate", "clinic.test", "--selector", "s1"],
    );
    assert!(
        record.starts_with("s1._domainkey.clinic.test. IN TXT"),
        "{record}"
    );
    let token = created_secret(
        dir.path(),
        &["apikey", "create", "--scope", "messages:read"],
    );

    let out = Command::new(PYTHON)
        .args(["-c", SMTPLIB])
        .env("CA", cert(dir.path()))
        .env("PORT", server.smtp.unwrap().port().to_string())
        .env("SMTP_USER", "front-desk")
        .env("SMTP_PASSWORD", &password)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));

    let list = sandbox_list(&server, &token, 1);
    let raw = sandbox_raw(&server, &token, list[0]["id"].as_str().unwrap());
    assert!(raw.starts_with("DKIM-Signature:"), "{raw}");
    assert!(raw.contains("Your appointment is on Tuesday"));
    assert!(dkimpy_verifies(&raw, &txt_value(&record)), "{raw}");
    // A changed body no longer verifies: the check above can fail.
    let tampered = raw.replace("Tuesday", "Wednesday");
    assert!(!dkimpy_verifies(&tampered, &txt_value(&record)));
    assert!(server.stop().success());
}

#[test]
fn swaks_submits_over_implicit_tls_and_auth_is_refused_before_tls() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let password = created_secret(
        dir.path(),
        &["smtp-user", "create", "ehr", "--from-domain", "clinic.test"],
    );
    let token = created_secret(
        dir.path(),
        &["apikey", "create", "--scope", "messages:read"],
    );
    let smtps = server.smtps.unwrap().to_string();
    let sent = Command::new("swaks")
        .args(["--server", &smtps, "--tls-on-connect", "--tls-verify"])
        .args(["--tls-ca-path", &cert(dir.path()), "--tls-sni", "localhost"])
        .args([
            "--auth",
            "PLAIN",
            "--auth-user",
            "ehr",
            "--auth-password",
            &password,
        ])
        .args(["--from", "notify@clinic.test", "--to", "pat@patients.test"])
        .args([
            "--header",
            "From: notify@clinic.test",
            "--body",
            "Lab results are ready.",
        ])
        .output()
        .expect("swaks is installed (.ci/run installs it)");
    assert!(sent.status.success(), "{}", text(&sent));
    assert!(text(&sent).contains("250 2.0.0"), "{}", text(&sent));

    let refused = Command::new("swaks")
        .args(["--server", &server.smtp.unwrap().to_string()])
        .args([
            "--auth",
            "PLAIN",
            "--auth-user",
            "ehr",
            "--auth-password",
            &password,
        ])
        .args(["--from", "notify@clinic.test", "--to", "pat@patients.test"])
        .output()
        .unwrap();
    assert!(!refused.status.success(), "{}", text(&refused));

    let list = sandbox_list(&server, &token, 1);
    assert_eq!(list.len(), 1, "only the message sent over TLS arrived");
    assert!(server.stop().success());
}

#[test]
fn the_send_api_queues_a_message_and_its_status_shows_the_delivery_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let token = created_secret(
        dir.path(),
        &["apikey", "create", "--scope", "messages:send,messages:read"],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let body = serde_json::json!({
        "from": "desk@clinic.test",
        "to": ["maria@patients.test"],
        "subject": "Your visit",
        "text": "See you soon.",
    });
    let status = rt.block_on(send_and_wait(&server.base, &token, body, |s| {
        s["recipients"][0]["state"] == "delivered"
    }));
    let events = status["recipients"][0]["events"].to_string();
    assert!(events.contains("sandbox"), "{status}");
    assert_eq!(status["policy"]["disposition"], "deliver", "{status}");
    assert_eq!(status["protection"], "tls-verified", "{status}");
    assert!(server.stop().success());
}

#[test]
fn smtp_user_and_dkim_commands_refuse_bad_input_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    Server::start(dir.path(), &[]).stop();
    let out = run(
        dir.path(),
        &[
            "smtp-user",
            "create",
            "bad name",
            "--from-domain",
            "clinic.test",
        ],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("SMTP user name"), "{}", text(&out));
    let out = run(
        dir.path(),
        &["smtp-user", "create", "ok", "--from-domain", "not a domain"],
    );
    assert!(!out.status.success());
    assert!(text(&out).contains("not a domain name"), "{}", text(&out));
    let out = run(
        dir.path(),
        &["dkim", "generate", "clinic.test", "--selector", "a"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let again = run(
        dir.path(),
        &["dkim", "generate", "clinic.test", "--selector", "a"],
    );
    assert!(!again.status.success());
    assert!(text(&again).contains("exists already"), "{}", text(&again));
    let out = run(dir.path(), &["dkim", "generate", "bad domain!"]);
    assert!(!out.status.success());
}

const RULES: &str = r#"
baseline = "tls-verified"

[[rules]]
name = "no-mail-to-competitors"
when = { recipient_domains = ["blocked.test"] }
then = [{ action = "block", reason = "this domain may not receive our mail" }]

[[rules]]
name = "phi-exclusive"
when = { contains_phi = true }
then = [{ action = "require-protection", protection = "tls-exclusive" }]
"#;

#[test]
fn protection_rules_from_the_rules_file_decide_and_are_shown_to_admins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.toml"), RULES).unwrap();
    std::fs::write(
        dir.path().join("carepost.toml"),
        "[dlp]\nrules_file = \"rules.toml\"\n",
    )
    .unwrap();
    let server = Server::start(dir.path(), &[]);
    let token = created_secret(
        dir.path(),
        &[
            "apikey",
            "create",
            "--scope",
            "messages:send,messages:read,admin",
        ],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = reqwest::Client::new();
        let send = |to: &str, text: &str| {
            c.post(format!("{}/api/v1/messages", server.base))
                .bearer_auth(&token)
                .json(&serde_json::json!({
                    "from": "desk@clinic.test", "to": [to], "subject": "Hello", "text": text,
                }))
                .send()
        };
        let blocked = send("x@blocked.test", "Hi").await.unwrap();
        assert_eq!(blocked.status(), 422);
        let body = blocked.text().await.unwrap();
        assert!(
            body.contains("this domain may not receive our mail"),
            "{body}"
        );

        let phi = send(
            "maria@patients.test",
            "Maria's SSN is 536-22-1234, diabetes follow-up.",
        )
        .await
        .unwrap();
        assert_eq!(phi.status(), 201);
        let id = phi.json::<serde_json::Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let status: serde_json::Value = c
            .get(format!("{}/api/v1/messages/{id}", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(status["protection"], "tls-exclusive", "{status}");
        assert!(
            status["policy"]["rules_fired"]
                .to_string()
                .contains("phi-exclusive")
        );

        let rules: serde_json::Value = c
            .get(format!("{}/api/v1/policy/rules", server.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(rules["rules"][0]["name"], "no-mail-to-competitors");
    });
    assert!(server.stop().success());
}

#[test]
fn a_broken_rules_file_is_one_line_naming_dlp_rules_file_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("rules.toml"),
        "[[rules]]\nname = \"x\"\nthen = [{ action = \"teleport\" }]\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("carepost.toml"),
        "[dlp]\nrules_file = \"rules.toml\"\n",
    )
    .unwrap();
    let out = run(dir.path(), &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("dlp.rules_file"), "{t}");
    assert_eq!(t.trim().lines().count(), 1, "{t}");
    assert!(
        !dir.path().join("carepost-data").exists(),
        "nothing started"
    );
}

/// Starts a relay that requires AUTH, and carepost in smarthost mode pointed at it with
/// `password`; sends one message over the API and returns its status once it settled.
fn through_smarthost(
    password: &str,
) -> (
    serde_json::Value,
    Vec<carepost_gateway::testpeer::ReceivedMessage>,
) {
    use carepost_gateway::testpeer::{PeerConfig, TestCa, TestPeer};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("relay test CA");
    let mut peer_config = PeerConfig::new(Some(ca.issue(&["relay.test"])));
    peer_config.auth = Some(("carepost".into(), "relay-secret".into()));
    let peer = rt.block_on(TestPeer::start(peer_config)).unwrap();
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.path().join("relay-password"), format!("{password}\n")).unwrap();
    std::fs::write(
        dir.path().join("carepost.toml"),
        format!(
            "[delivery]\nmode = \"smarthost\"\ndns = \"none\"\ntrust_ca_file = \"ca.pem\"\n\
             [delivery.smarthost]\nhost = \"relay.test\"\naddress = \"{}\"\n\
             username = \"carepost\"\npassword_file = \"relay-password\"\n",
            peer.address()
        ),
    )
    .unwrap();
    let server = Server::start(dir.path(), &[]);
    assert!(
        server.banner.contains("smarthost relay.test"),
        "{}",
        server.banner
    );
    let token = created_secret(
        dir.path(),
        &["apikey", "create", "--scope", "messages:send,messages:read"],
    );
    let body = serde_json::json!({
        "from": "desk@clinic.test", "to": ["maria@anywhere.test"],
        "subject": "Your visit", "text": "See you on Tuesday.",
    });
    let status = rt.block_on(send_and_wait(&server.base, &token, body, |s| {
        s["recipients"][0]["attempts"].as_i64().unwrap_or(0) > 0
    }));
    let received = peer.received();
    drop(server);
    (status, received)
}

#[test]
fn smarthost_mode_relays_over_verified_tls_after_auth() {
    let (status, received) = through_smarthost("relay-secret");
    assert_eq!(status["recipients"][0]["state"], "delivered", "{status}");
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].authenticated_as.as_deref(), Some("carepost"));
    assert!(received[0].tls_version.is_some());
    assert_eq!(
        received[0].recipients,
        vec!["maria@anywhere.test".to_owned()]
    );
}

#[test]
fn a_relay_that_refuses_the_credentials_defers_the_message_and_sends_nothing() {
    let (status, received) = through_smarthost("wrong");
    assert_eq!(status["recipients"][0]["state"], "deferred", "{status}");
    let events = status["recipients"][0]["events"].to_string();
    assert!(
        events.contains("auth") && events.contains("535"),
        "{events}"
    );
    assert!(received.is_empty());
}

#[test]
fn a_credential_over_its_message_rate_gets_451_and_nothing_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("carepost.toml"),
        "[smtp]\nmax_messages_per_minute_per_user = 1\n",
    )
    .unwrap();
    let server = Server::start(dir.path(), &[]);
    let password = created_secret(
        dir.path(),
        &["smtp-user", "create", "ehr", "--from-domain", "clinic.test"],
    );
    let token = created_secret(
        dir.path(),
        &["apikey", "create", "--scope", "messages:read"],
    );
    let smtps = server.smtps.unwrap().to_string();
    let swaks = || {
        Command::new("swaks")
            .args(["--server", &smtps, "--tls-on-connect"])
            .args([
                "--auth",
                "PLAIN",
                "--auth-user",
                "ehr",
                "--auth-password",
                &password,
            ])
            .args(["--from", "notify@clinic.test", "--to", "pat@patients.test"])
            .args([
                "--header",
                "From: notify@clinic.test",
                "--body",
                "Reminder.",
            ])
            .output()
            .expect("swaks is installed (.ci/run installs it)")
    };
    let first = swaks();
    assert!(first.status.success(), "{}", text(&first));
    let second = swaks();
    assert!(!second.status.success());
    assert!(text(&second).contains("451"), "{}", text(&second));
    assert_eq!(
        sandbox_list(&server, &token, 1).len(),
        1,
        "only the first was kept"
    );
    assert!(server.stop().success());
}

#[test]
fn rules_replaced_through_the_api_apply_at_once_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let token = created_secret(
        dir.path(),
        &["apikey", "create", "--scope", "messages:send,admin"],
    );
    let send = |base: String, token: String| async move {
        reqwest::Client::new()
            .post(format!("{base}/api/v1/messages"))
            .bearer_auth(token)
            .json(&serde_json::json!({
                "from": "desk@clinic.test", "to": ["x@partner.test"],
                "subject": "Hello", "text": "Hi",
            }))
            .send()
            .await
            .unwrap()
            .status()
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        assert_eq!(send(server.base.clone(), token.clone()).await, 201);
        let c = reqwest::Client::new();
        let put = |body: serde_json::Value| {
            c.put(format!("{}/api/v1/policy/rules", server.base))
                .bearer_auth(&token)
                .json(&body)
                .send()
        };
        let bad = put(
            serde_json::json!({ "rules": [{ "name": "x", "then": [{ "action": "teleport" }] }] }),
        )
        .await
        .unwrap();
        assert_eq!(bad.status(), 400);
        let ok = put(serde_json::json!({
            "baseline": "tls-verified",
            "rules": [{
                "name": "no-partner-mail",
                "when": { "recipient_domains": ["partner.test"] },
                "then": [{ "action": "block", "reason": "partners get the portal" }],
            }],
        }))
        .await
        .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(send(server.base.clone(), token.clone()).await, 422);
    });
    assert!(server.stop().success());
    let again = Server::start(dir.path(), &[]);
    rt.block_on(async {
        assert_eq!(
            send(again.base.clone(), token.clone()).await,
            422,
            "kept in the store"
        );
    });
    assert!(again.stop().success());
}
