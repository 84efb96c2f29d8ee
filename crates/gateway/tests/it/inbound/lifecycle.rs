//! Timeouts and shutdown.
//!
//! Timeouts are tiny here; the tests wait for the close with a generous bound, so a slow
//! machine makes them slower, not flaky.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::harness::{AcceptMode, Server, data_of, message};

const CLOSE_WITHIN: Duration = Duration::from_secs(15);

#[tokio::test]
async fn an_idle_client_gets_421_4_4_2_and_is_disconnected() {
    let server = Server::with(|c| c.limits.command_timeout = Duration::from_millis(200)).await;
    let mut client = server.plain_client().await;
    client.ehlo().await;

    let reply = tokio::time::timeout(CLOSE_WITHIN, client.reply())
        .await
        .unwrap();
    assert_eq!(reply.code, 421);
    assert!(
        reply.text().starts_with("4.4.2 mail.clinic.test"),
        "{reply:?}"
    );
    assert!(client.closed_within(CLOSE_WITHIN).await);
}

#[tokio::test]
async fn a_client_stalling_in_the_data_times_out_and_nothing_is_kept() {
    let server = Server::with(|c| c.limits.data_timeout = Duration::from_millis(200)).await;
    let mut client = server.authenticated_client().await;
    client
        .exchange("MAIL FROM:<desk@clinic.test>", 250, "2.1.0")
        .await;
    client
        .exchange("RCPT TO:<pat@example.org>", 250, "2.1.5")
        .await;
    client.exchange("DATA", 354, "").await;
    client
        .send(b"From: desk@clinic.test\r\n\r\nhalf a mess")
        .await;

    client.expect(421, "4.4.2").await;
    assert!(client.closed_within(CLOSE_WITHIN).await);
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn shutdown_closes_idle_sessions_with_421_and_lets_a_transaction_finish() {
    let mut server = Server::start().await;
    let gate = Arc::new(Semaphore::new(0));
    server.handler.set_mode(AcceptMode::Gated(gate.clone()));
    let mut idle = server.authenticated_client().await;
    let mut busy = server.authenticated_client().await;
    busy.exchange("MAIL FROM:<desk@clinic.test>", 250, "2.1.0")
        .await;
    busy.exchange("RCPT TO:<pat@example.org>", 250, "2.1.5")
        .await;
    busy.exchange("DATA", 354, "").await;
    busy.send(data_of(&message("desk@clinic.test")).as_bytes())
        .await;

    server.begin_shutdown();
    let reply = idle.expect(421, "4.3.2").await;
    assert!(reply.text().contains("shutting down"));
    assert!(idle.closed_within(CLOSE_WITHIN).await);

    // The transaction in flight is acknowledged once kept, then the session closes.
    gate.add_permits(1);
    busy.expect(250, "2.0.0").await;
    busy.expect(421, "4.3.2").await;
    assert!(busy.closed_within(CLOSE_WITHIN).await);
    server.stopped().await;
    assert_eq!(server.received().len(), 1);
    assert!(
        tokio::net::TcpStream::connect(server.starttls)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn shutdown_drops_what_is_left_after_the_grace() {
    let mut server = Server::with(|c| c.shutdown_grace = Duration::from_millis(300)).await;
    let gate = Arc::new(Semaphore::new(0));
    server.handler.set_mode(AcceptMode::Gated(gate));
    let mut client = server.authenticated_client().await;
    client
        .exchange("MAIL FROM:<desk@clinic.test>", 250, "2.1.0")
        .await;
    client
        .exchange("RCPT TO:<pat@example.org>", 250, "2.1.5")
        .await;
    client.exchange("DATA", 354, "").await;
    client
        .send(data_of(&message("desk@clinic.test")).as_bytes())
        .await;

    server.begin_shutdown();
    server.stopped().await;
    assert!(
        client.next_reply().await.is_none(),
        "no 250 for a message never kept"
    );
    assert!(server.received().is_empty());
}
