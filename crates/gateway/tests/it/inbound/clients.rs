//! Independent clients: Python's smtplib (standard library only) and swaks.
//!
//! swaks must be installed (`.ci/run` installs it): these tests fail, not skip, without it.

use std::process::{Command, Output};

use super::harness::{PASSWORD, Server, USER};

const PYTHON: &str = "/usr/bin/python3";

/// The smtplib session: a wrong password first (refused with 535), then a message, then a
/// sender outside the allowed domain (refused with 550).
const SMTPLIB_SCRIPT: &str = r#"
import os, smtplib, ssl
ctx = ssl.create_default_context(cafile=os.environ["CA"])
port, user, password = int(os.environ["PORT"]), os.environ["USER"], os.environ["PASSWORD"]
msg = ("From: Front Desk <desk@clinic.test>\r\nTo: pat@example.org\r\nSubject: smtplib\r\n\r\n"
       "Hello from smtplib.\r\n.leading dot\r\n")
if os.environ["MODE"] == "starttls":
    s = smtplib.SMTP("127.0.0.1", port, timeout=20)
    s.ehlo()
    assert not s.has_extn("auth"), "AUTH offered before TLS"
    s.starttls(context=ctx)
    s.ehlo()
else:
    s = smtplib.SMTP_SSL("127.0.0.1", port, context=ctx, timeout=20)
    s.ehlo()
assert s.has_extn("auth") and s.has_extn("requiretls")
try:
    s.user, s.password = user, "wrong"
    s.auth("PLAIN", s.auth_plain)
    raise SystemExit("wrong password accepted")
except smtplib.SMTPAuthenticationError as e:
    assert e.smtp_code == 535, e
if os.environ["MODE"] == "starttls":
    s.login(user, password)
else:
    s.user, s.password = user, password
    code, _ = s.auth("LOGIN", s.auth_login)
    assert code == 235
assert s.sendmail("desk@clinic.test", ["pat@example.org"], msg, mail_options=["REQUIRETLS"]) == {}
try:
    s.sendmail("desk@other.test", ["pat@example.org"], msg)
    raise SystemExit("foreign sender accepted")
except smtplib.SMTPSenderRefused as e:
    assert e.smtp_code == 550, e
s.quit()
print("smtplib ok")
"#;

async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("the client starts"))
        .await
        .unwrap()
}

async fn smtplib(server: &Server, mode: &str, port: u16) {
    let mut command = Command::new(PYTHON);
    command
        .arg("-c")
        .arg(SMTPLIB_SCRIPT)
        .env("CA", server.ca_path())
        .env("PORT", port.to_string())
        .env("USER", USER)
        .env("PASSWORD", PASSWORD)
        .env("MODE", mode);
    let output = run(command).await;
    assert!(
        output.status.success() && output.stdout.starts_with(b"smtplib ok"),
        "smtplib {mode}: {}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].mail_from, "desk@clinic.test");
    assert!(received[0].requiretls);
    let data = String::from_utf8(received[0].data.clone()).unwrap();
    assert!(
        data.ends_with("Hello from smtplib.\r\n.leading dot\r\n"),
        "{data}"
    );
}

#[tokio::test]
async fn python_smtplib_submits_over_starttls() {
    let server = Server::start().await;
    smtplib(&server, "starttls", server.starttls.port()).await;
}

#[tokio::test]
async fn python_smtplib_submits_over_implicit_tls_with_auth_login() {
    let server = Server::start().await;
    smtplib(&server, "implicit", server.implicit.port()).await;
}

fn swaks(server: &Server, port: u16, extra: &[&str]) -> Command {
    assert!(
        Command::new("swaks").arg("--version").output().is_ok(),
        "swaks is not installed: `apt-get install swaks` (.ci/run installs it)"
    );
    let mut command = Command::new("swaks");
    command
        .args(["--server", "127.0.0.1", "--port", &port.to_string()])
        .args(["--tls-verify", "--tls-ca-path"])
        .arg(server.ca_path())
        .args(["--auth-user", USER, "--auth-password", PASSWORD])
        .args(["--from", "desk@clinic.test", "--to", "pat@example.org"])
        .args([
            "--header",
            "Subject: swaks",
            "--body",
            "Hello from swaks.\n.dot\n",
        ])
        .args(extra);
    command
}

fn assert_swaks_delivered(server: &Server, output: &Output) {
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && transcript.contains("250 2.0.0 Message accepted as msg-1"),
        "swaks: {transcript}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].recipients, ["pat@example.org"]);
    let data = String::from_utf8(received[0].data.clone()).unwrap();
    assert!(
        data.contains("\r\nSubject: swaks\r\n") && data.contains("\r\n.dot\r\n"),
        "{data}"
    );
}

#[tokio::test]
async fn swaks_submits_over_starttls_with_auth_plain_and_pipelining() {
    let server = Server::start().await;
    let command = swaks(
        &server,
        server.starttls.port(),
        &["--tls", "--auth", "PLAIN", "--pipeline"],
    );
    let output = run(command).await;
    assert_swaks_delivered(&server, &output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("-> STARTTLS"));
}

#[tokio::test]
async fn swaks_submits_over_implicit_tls_with_auth_login() {
    let server = Server::start().await;
    let command = swaks(
        &server,
        server.implicit.port(),
        &["--tls-on-connect", "--auth", "LOGIN"],
    );
    assert_swaks_delivered(&server, &run(command).await);
}

#[tokio::test]
async fn swaks_without_tls_cannot_authenticate() {
    let server = Server::start().await;
    let command = swaks(&server, server.starttls.port(), &["--auth", "PLAIN"]);
    let output = run(command).await;
    let transcript = String::from_utf8_lossy(&output.stdout);
    assert!(!output.status.success(), "{transcript}");
    assert!(server.received().is_empty());
    assert_eq!(server.handler.auth_calls(), 0, "{transcript}");
}
