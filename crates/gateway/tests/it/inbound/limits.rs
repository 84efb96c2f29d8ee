//! Every limit of `SubmissionLimits` gives its documented reply.

use std::time::Duration;

use super::harness::{Client, Server, data_of, message};

#[tokio::test]
async fn a_message_over_the_size_limit_is_refused_at_mail_or_after_the_data() {
    let server = Server::with(|c| c.limits.max_message_size = 2000).await;
    let mut client = server.authenticated_client().await;
    assert!(client.ehlo().await.contains(&"SIZE 2000".to_owned()));

    client
        .exchange("MAIL FROM:<desk@clinic.test> SIZE=2001", 552, "5.3.4")
        .await;
    let big = format!("{}{}", message("desk@clinic.test"), "yy\r\n".repeat(1000));
    let reply = client
        .submit("desk@clinic.test", &["pat@example.org"], &big)
        .await;
    assert_eq!(
        (reply.code, reply.lines[0].as_str()),
        (552, "5.3.4 Message size exceeds fixed maximum message size")
    );

    client
        .exchange("MAIL FROM:<desk@clinic.test>", 250, "2.1.0")
        .await;
    client
        .exchange("RCPT TO:<pat@example.org>", 250, "2.1.5")
        .await;
    client.send(b"BDAT 2500 LAST\r\n").await;
    client.send("z".repeat(2500).as_bytes()).await;
    client.expect(552, "5.3.4").await;
    client.exchange("NOOP", 250, "2.0.0").await;
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn too_many_recipients_get_452() {
    let server = Server::with(|c| c.limits.max_recipients = 2).await;
    let mut client = server.authenticated_client().await;
    client
        .exchange("MAIL FROM:<desk@clinic.test>", 250, "2.1.0")
        .await;
    client
        .exchange("RCPT TO:<a@example.org>", 250, "2.1.5")
        .await;
    client
        .exchange("RCPT TO:<b@example.org>", 250, "2.1.5")
        .await;
    let reply = client
        .exchange("RCPT TO:<c@example.org>", 452, "4.5.3")
        .await;
    assert_eq!(reply.text(), "4.5.3 Too many recipients");
    client.exchange("DATA", 354, "").await;
    client
        .send(data_of(&message("desk@clinic.test")).as_bytes())
        .await;
    client.expect(250, "2.0.0").await;
    assert_eq!(server.received()[0].recipients.len(), 2);
}

#[tokio::test]
async fn a_command_line_over_1000_octets_is_refused_and_not_executed() {
    let server = Server::start().await;
    let mut client = server.authenticated_client().await;
    let long = format!("MAIL FROM:<desk@clinic.test> {}", "X".repeat(1000));
    client.exchange(&long, 500, "5.5.2").await;
    // Also when the line arrives in pieces, the tail of it is not taken as a command.
    client
        .send(&[b"NOOP ".as_slice(), &[b'a'; 3000]].concat())
        .await;
    client.expect(500, "5.5.2").await;
    client.send(b"aaaa\r\nRSET\r\n").await;
    let reply = client.expect(250, "2.0.0").await;
    assert_eq!(reply.text(), "2.0.0 Reset");
    assert!(client.silent_for(Duration::from_millis(200)).await);
}

#[tokio::test]
async fn content_with_long_lines_bare_lf_or_nul_is_refused_whole() {
    let server = Server::start().await;
    let mut client = server.authenticated_client().await;
    let head = message("desk@clinic.test");
    for (body, text) in [
        (
            format!("{head}{}\r\n", "x".repeat(999)),
            "line longer than 998",
        ),
        (format!("{head}bare\nlf\r\n"), "bare CR or LF"),
        (format!("{head}nul\0\r\n"), "NUL"),
    ] {
        let reply = client
            .submit("desk@clinic.test", &["pat@example.org"], &body)
            .await;
        assert_eq!(reply.code, 550, "{reply:?}");
        assert!(
            reply.text().starts_with("5.6.0") && reply.text().contains(text),
            "{reply:?}"
        );
    }
    let fits = format!("{head}{}\r\n", "x".repeat(998));
    assert_eq!(
        client
            .submit("desk@clinic.test", &["pat@example.org"], &fits)
            .await
            .code,
        250
    );
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn the_message_limit_per_connection_closes_with_421() {
    let server = Server::with(|c| c.limits.max_messages_per_connection = 1).await;
    let mut client = server.authenticated_client().await;
    let body = message("desk@clinic.test");
    assert_eq!(
        client
            .submit("desk@clinic.test", &["pat@example.org"], &body)
            .await
            .code,
        250
    );
    client
        .exchange("MAIL FROM:<desk@clinic.test>", 421, "4.7.0")
        .await;
    assert!(client.closed_within(Duration::from_secs(10)).await);
}

#[tokio::test]
async fn connections_over_the_per_address_limit_get_421() {
    let server = Server::with(|c| c.limits.max_connections_per_ip = 1).await;
    let mut first = server.plain_client().await;

    let mut second = Client::connect(server.starttls, server.client_tls()).await;
    second.expect(421, "4.7.0").await;
    assert!(second.closed_within(Duration::from_secs(10)).await);

    first.exchange("QUIT", 221, "2.0.0").await;
    assert!(first.closed_within(Duration::from_secs(10)).await);
    // The slot is released once the first connection is gone.
    let mut third = None;
    for _ in 0..50 {
        let mut client = Client::connect(server.starttls, server.client_tls()).await;
        if client.reply().await.code == 220 {
            third = Some(client);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        third.is_some(),
        "a new connection is greeted after the first closed"
    );
}

#[tokio::test]
async fn too_many_rejected_commands_close_the_connection() {
    let server = Server::with(|c| c.limits.max_command_errors = 3).await;
    let mut client = server.plain_client().await;
    client.exchange("FOO", 500, "5.5.1").await;
    client.exchange("BAR", 500, "5.5.1").await;
    client.exchange("BAZ", 500, "5.5.1").await;
    client.expect(421, "4.7.0").await;
    assert!(client.closed_within(Duration::from_secs(10)).await);
}
