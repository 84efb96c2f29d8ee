//! Messages going through: acknowledged only once kept, DATA, BDAT, pipelining.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::sync::Semaphore;

use super::harness::{AcceptMode, PASSWORD, Server, USER, data_of, message};

#[tokio::test]
async fn starttls_and_auth_plain_deliver_and_250_comes_only_after_accept_returned() {
    let server = Server::start().await;
    let gate = Arc::new(Semaphore::new(0));
    server.handler.set_mode(AcceptMode::Gated(gate.clone()));
    let mut client = server.authenticated_client().await;

    client
        .exchange("MAIL FROM:<desk@clinic.test>", 250, "2.1.0")
        .await;
    client
        .exchange("RCPT TO:<pat@example.org>", 250, "2.1.5")
        .await;
    client.exchange("DATA", 354, "").await;
    client
        .send(data_of(&message("Front Desk <desk@clinic.test>")).as_bytes())
        .await;

    assert!(
        client.silent_for(Duration::from_millis(500)).await,
        "no reply while accept() has not returned"
    );
    assert!(server.received().is_empty());
    gate.add_permits(1);
    let reply = client.expect(250, "2.0.0").await;
    assert_eq!(reply.text(), "2.0.0 Message accepted as msg-1");

    let received = server.received();
    assert_eq!(received.len(), 1);
    let kept = &received[0];
    assert_eq!(kept.mail_from, "desk@clinic.test");
    assert_eq!(kept.recipients, ["pat@example.org"]);
    assert_eq!(kept.submitter.id, "cred-1");
    assert!(!kept.requiretls);
    assert_eq!(kept.tls.version, "TLSv1.3");
    let data = String::from_utf8(kept.data.clone()).unwrap();
    assert!(
        data.starts_with("Received: from client.clinic.test ([127.0.0.1])\r\n"),
        "{data}"
    );
    assert!(data.contains("by mail.clinic.test (carepost) with ESMTPSA"));
    assert!(data.contains(&format!(
        "(using TLSv1.3 with cipher {})",
        kept.tls.cipher_suite
    )));
    assert!(!data.contains("pat@example.org>"), "no for clause");
    assert!(data.ends_with("\r\nFrom: Front Desk <desk@clinic.test>\r\nTo: pat@example.org\r\nSubject: Lab results\r\n\r\nYour results are ready.\r\n.a line starting with a dot\r\n"));

    let debug = format!("{kept:?}");
    assert!(
        !debug.contains("pat@") && !debug.contains("results"),
        "{debug}"
    );
}

#[tokio::test]
async fn auth_login_with_two_messages_on_one_connection() {
    let server = Server::start().await;
    let mut client = server.plain_client().await;
    client.ehlo().await;
    client.starttls().await;
    client.ehlo().await;
    client.exchange("AUTH LOGIN", 334, "").await;
    client.exchange(&STANDARD.encode(USER), 334, "").await;
    client
        .exchange(&STANDARD.encode(PASSWORD), 235, "2.7.0")
        .await;

    let body = message("desk@clinic.test");
    let first = client
        .submit(
            "desk@clinic.test",
            &["a@example.org", "b@example.net"],
            &body,
        )
        .await;
    assert_eq!(first.code, 250);
    let second = client
        .submit("desk@clinic.test", &["c@example.org"], &body)
        .await;
    assert_eq!(second.text(), "2.0.0 Message accepted as msg-2");
    let received = server.received();
    assert_eq!(received[0].recipients, ["a@example.org", "b@example.net"]);
    assert_eq!(received[1].recipients, ["c@example.org"]);
}

#[tokio::test]
async fn implicit_tls_greets_inside_tls_and_accepts_after_auth() {
    let server = Server::start().await;
    let mut client = server.tls_client().await;
    let extensions = client.ehlo().await;
    assert!(extensions.contains(&"AUTH PLAIN LOGIN".to_owned()));
    assert!(!extensions.contains(&"STARTTLS".to_owned()));
    client
        .exchange("MAIL FROM:<desk@clinic.test>", 530, "5.7.0")
        .await;
    let token = STANDARD.encode(format!("\0{USER}\0{PASSWORD}"));
    client
        .exchange(&format!("AUTH PLAIN {token}"), 235, "2.7.0")
        .await;

    let reply = client
        .submit(
            "desk@clinic.test",
            &["pat@example.org"],
            &message("desk@clinic.test"),
        )
        .await;
    assert_eq!(reply.code, 250);
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_temporary_accept_failure_is_451_and_a_permanent_one_550_with_its_reason() {
    let server = Server::start().await;
    let mut client = server.authenticated_client().await;
    let body = message("desk@clinic.test");

    server.handler.set_mode(AcceptMode::Temporary);
    let reply = client
        .submit("desk@clinic.test", &["pat@example.org"], &body)
        .await;
    assert_eq!(
        (reply.code, reply.text().as_str()),
        (451, "4.3.0 Message not accepted, try again later")
    );

    server
        .handler
        .set_mode(AcceptMode::Permanent("Blocked by policy P-7\r\n250 fake"));
    let reply = client
        .submit("desk@clinic.test", &["pat@example.org"], &body)
        .await;
    assert_eq!(reply.code, 550);
    assert_eq!(reply.lines, ["5.7.1 Blocked by policy P-7  250 fake"]);

    assert!(server.received().is_empty());
    client.exchange("NOOP", 250, "2.0.0").await;
}

#[tokio::test]
async fn requiretls_and_smtputf8_are_recorded_on_the_message() {
    let server = Server::start().await;
    let mut client = server.authenticated_client().await;
    client
        .exchange(
            "MAIL FROM:<desk@clinic.test> REQUIRETLS SMTPUTF8",
            250,
            "2.1.0",
        )
        .await;
    client
        .exchange("RCPT TO:<anaïs@example.org>", 250, "2.1.5")
        .await;
    client.exchange("DATA", 354, "").await;
    client
        .send(data_of(&message("desk@clinic.test")).as_bytes())
        .await;
    client.expect(250, "2.0.0").await;

    let received = server.received();
    assert!(received[0].requiretls);
    assert!(received[0].smtputf8);
    assert_eq!(received[0].recipients, ["anaïs@example.org"]);
    assert!(received[0].data.windows(10).any(|w| w == b"UTF8SMTPSA"));
}

#[tokio::test]
async fn pipelined_mail_rcpt_data_get_their_replies_in_order() {
    let server = Server::start().await;
    let mut client = server.authenticated_client().await;
    client
        .send(b"MAIL FROM:<desk@clinic.test>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<bad>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        .await;
    client.expect(250, "2.1.0").await;
    client.expect(250, "2.1.5").await;
    client.expect(501, "5.1.3").await;
    client.expect(250, "2.1.5").await;
    client.expect(354, "").await;
    // The data and the next commands in one write as well.
    let rest = format!("{}RSET\r\nNOOP\r\n", data_of(&message("desk@clinic.test")));
    client.send(rest.as_bytes()).await;
    client.expect(250, "2.0.0").await;
    client.expect(250, "2.0.0").await;
    client.expect(250, "2.0.0").await;
    assert_eq!(
        server.received()[0].recipients,
        ["a@example.org", "b@example.org"]
    );
}

#[tokio::test]
async fn bdat_chunks_are_assembled_without_unstuffing() {
    let server = Server::start().await;
    let mut client = server.authenticated_client().await;
    let body = message("desk@clinic.test");
    let (first, second) = body.split_at(30);

    client
        .exchange("MAIL FROM:<desk@clinic.test>", 250, "2.1.0")
        .await;
    client
        .exchange("RCPT TO:<pat@example.org>", 250, "2.1.5")
        .await;
    client
        .send(format!("BDAT {}\r\n{first}", first.len()).as_bytes())
        .await;
    let reply = client.expect(250, "2.0.0").await;
    assert_eq!(reply.text(), "2.0.0 30 octets received");
    client
        .send(format!("BDAT {} LAST\r\n{second}NOOP\r\n", second.len()).as_bytes())
        .await;
    client.expect(250, "2.0.0").await;
    client.expect(250, "2.0.0").await;
    client.exchange("DATA", 503, "5.5.1").await;

    let data = server.received()[0].data.clone();
    assert!(
        data.ends_with(body.as_bytes()),
        "BDAT content is taken as is"
    );

    // A refused BDAT still consumes its chunk: the octets never run as commands.
    client.send(b"BDAT 6 LAST\r\nQUIT\r\n").await;
    client.expect(503, "5.5.1").await;
    client.exchange("NOOP", 250, "2.0.0").await;
}
