//! TLS before AUTH, AUTH before MAIL, the STARTTLS injection class, sender domains.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::harness::{DOMAIN, PASSWORD, Server, USER, message, plain_token};

#[tokio::test]
async fn auth_is_neither_offered_nor_accepted_before_tls() {
    let server = Server::start().await;
    let mut client = server.plain_client().await;

    let extensions = client.ehlo().await;
    assert!(
        extensions.contains(&"STARTTLS".to_owned()),
        "{extensions:?}"
    );
    assert!(
        !extensions.iter().any(|e| e.starts_with("AUTH")),
        "{extensions:?}"
    );
    assert!(!extensions.contains(&"REQUIRETLS".to_owned()));

    let token = plain_token(USER, PASSWORD);
    let refused = client
        .exchange(&format!("AUTH PLAIN {token}"), 538, "5.7.11")
        .await;
    assert!(refused.text().contains("Encryption required"));
    client.exchange("AUTH LOGIN", 538, "5.7.11").await;
    client
        .exchange("MAIL FROM:<desk@clinic.test>", 530, "5.7.0")
        .await;
    client
        .exchange("RCPT TO:<pat@example.org>", 530, "5.7.0")
        .await;
    client.exchange("DATA", 530, "5.7.0").await;
    assert_eq!(
        server.handler.auth_calls(),
        0,
        "the password never reached the handler"
    );
}

#[tokio::test]
async fn after_tls_auth_is_offered_but_mail_still_needs_it() {
    let server = Server::start().await;
    let mut client = server.plain_client().await;
    client.ehlo().await;
    client.starttls().await;

    let extensions = client.ehlo().await;
    for wanted in [
        "PIPELINING",
        "SIZE 26214400",
        "8BITMIME",
        "SMTPUTF8",
        "ENHANCEDSTATUSCODES",
        "CHUNKING",
        "REQUIRETLS",
        "AUTH PLAIN LOGIN",
    ] {
        assert!(
            extensions.contains(&wanted.to_owned()),
            "{wanted} in {extensions:?}"
        );
    }
    assert!(!extensions.contains(&"STARTTLS".to_owned()));
    client
        .exchange("MAIL FROM:<desk@clinic.test>", 530, "5.7.0")
        .await;
    client.exchange("STARTTLS", 503, "5.5.1").await;
}

#[tokio::test]
async fn plaintext_pipelined_after_starttls_is_discarded_not_executed() {
    let server = Server::start().await;
    let mut client = server.plain_client().await;
    client.ehlo().await;

    // One write: the NOOP (and a MAIL) must never be answered, before or inside TLS.
    client
        .send(b"STARTTLS\r\nNOOP\r\nMAIL FROM:<desk@clinic.test>\r\n")
        .await;
    client.expect(220, "2.0.0").await;
    client.handshake().await;

    // The first reply inside TLS answers the EHLO sent now, not the injected commands.
    client.command("EHLO client.clinic.test").await;
    let reply = client.reply().await;
    assert_eq!(reply.code, 250);
    assert_eq!(reply.lines[0], "mail.clinic.test", "{reply:?}");
    assert!(client.silent_for(Duration::from_millis(300)).await);
    client.exchange("NOOP", 250, "2.0.0").await;
}

#[tokio::test]
async fn a_wrong_password_gets_535_and_the_third_failure_closes_with_421() {
    let server = Server::start().await;
    let mut client = server.plain_client().await;
    client.ehlo().await;
    client.starttls().await;
    client.ehlo().await;

    let wrong = plain_token(USER, "guess");
    client
        .exchange(&format!("AUTH PLAIN {wrong}"), 535, "5.7.8")
        .await;
    client.exchange("AUTH LOGIN", 334, "").await;
    client.exchange(&STANDARD.encode(USER), 334, "").await;
    client
        .exchange(&STANDARD.encode("guess 2"), 535, "5.7.8")
        .await;
    let last = client
        .exchange(&format!("AUTH PLAIN {wrong}"), 421, "4.7.0")
        .await;
    assert!(
        last.text()
            .contains("Too many failed authentication attempts")
    );
    assert!(client.closed_within(Duration::from_secs(10)).await);
    assert_eq!(server.handler.auth_calls(), 3);
}

#[tokio::test]
async fn auth_exchanges_can_be_cancelled_and_refuse_garbage() {
    let server = Server::start().await;
    let mut client = server.plain_client().await;
    client.ehlo().await;
    client.starttls().await;
    client.exchange("AUTH PLAIN", 503, "5.5.1").await;
    client.ehlo().await;

    client.exchange("AUTH PLAIN", 334, "").await;
    client.exchange("*", 501, "5.0.0").await;
    client
        .exchange("AUTH PLAIN !!notbase64", 501, "5.5.2")
        .await;
    client.exchange("AUTH CRAM-MD5", 504, "5.5.4").await;
    let as_someone_else = STANDARD.encode(format!("admin\0{USER}\0{PASSWORD}"));
    client
        .exchange(&format!("AUTH PLAIN {as_someone_else}"), 535, "5.7.8")
        .await;
    client
        .exchange(
            &format!("AUTH PLAIN {}", plain_token(USER, PASSWORD)),
            235,
            "2.7.0",
        )
        .await;
    client.exchange("AUTH PLAIN", 503, "5.5.1").await;
}

#[tokio::test]
async fn the_envelope_sender_must_be_in_an_allowed_domain() {
    let server = Server::start().await;
    let mut client = server.authenticated_client().await;

    for refused in ["desk@other.test", "desk@sub.clinic.test", ""] {
        let reply = client
            .exchange(&format!("MAIL FROM:<{refused}>"), 550, "5.7.1")
            .await;
        assert_eq!(
            reply.text(),
            "5.7.1 Sender address not allowed for this credential"
        );
    }
    client
        .exchange("MAIL FROM:<desk@CLINIC.test>", 250, "2.1.0")
        .await;
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn the_header_from_must_be_in_an_allowed_domain() {
    let server = Server::start().await;
    let mut client = server.authenticated_client().await;

    for header in [
        "\"desk@clinic.test\" <x@other.test>",
        "desk@clinic.test, x@other.test",
    ] {
        let envelope = format!("desk@{DOMAIN}");
        let reply = client
            .submit(&envelope, &["pat@example.org"], &message(header))
            .await;
        assert_eq!(reply.code, 550, "{reply:?}");
        assert!(
            reply
                .text()
                .starts_with("5.7.1 From header domain not allowed")
        );
    }
    let two_froms = "desk@clinic.test\r\nFrom: x@other.test";
    let reply = client
        .submit(
            "desk@clinic.test",
            &["pat@example.org"],
            &message(two_froms),
        )
        .await;
    assert_eq!(
        (reply.code, reply.lines[0].as_str()),
        (550, "5.6.0 Message must have exactly one From header")
    );
    let no_headers = "\r\njust a body\r\n";
    let reply = client
        .submit("desk@clinic.test", &["pat@example.org"], no_headers)
        .await;
    assert_eq!(reply.code, 550);
    assert!(server.received().is_empty(), "nothing half-accepted");
}

#[tokio::test]
async fn malformed_commands_get_enhanced_codes_and_never_run() {
    let server = Server::start().await;
    let mut client = server.authenticated_client().await;

    client.exchange("FOO bar", 500, "5.5.1").await;
    client
        .exchange("MAIL FROM:desk@clinic.test", 501, "5.5.4")
        .await;
    client
        .exchange("MAIL FROM:<desk@clinic.test> DSN=1", 555, "5.5.4")
        .await;
    client
        .exchange("MAIL FROM:<desk@clinic.test> RET=FULL", 555, "5.5.4")
        .await;
    client
        .exchange("MAIL FROM:<a b@clinic.test>", 501, "5.1.7")
        .await;
    client.send(b"NOOP\n").await;
    client.expect(500, "5.5.2").await;
    client.send(b"NO\0OP\r\n").await;
    client.expect(500, "5.5.2").await;
    client.send(b"NOOP \xff\r\n").await;
    client.expect(500, "5.5.2").await;
    client
        .exchange("RCPT TO:<pat@example.org>", 503, "5.5.1")
        .await;

    client
        .exchange("MAIL FROM:<desk@clinic.test>", 250, "2.1.0")
        .await;
    client
        .exchange("RCPT TO:<pat@[127.0.0.1]>", 501, "5.1.3")
        .await;
    client.exchange("RCPT TO:<pat>", 501, "5.1.3").await;
    client
        .exchange("RCPT TO:<anaïs@example.org>", 553, "5.6.7")
        .await;
    client
        .exchange("RCPT TO:<pat@example.org> NOTIFY=NEVER", 555, "5.5.4")
        .await;
    client.exchange("DATA", 554, "5.5.1").await;
    client.exchange("RSET", 250, "2.0.0").await;
    client.exchange("VRFY pat", 252, "2.5.2").await;
    client.exchange("QUIT", 221, "2.0.0").await;
    assert!(client.closed_within(Duration::from_secs(10)).await);
}
