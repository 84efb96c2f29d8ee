//! Session scenarios without sockets: the order of events and replies is exact here.

use std::sync::Arc;
use std::time::UNIX_EPOCH;

use super::{Event, HandlerError, Session, SubmissionConfig, Submitter, TlsInfo};

fn tls() -> TlsInfo {
    TlsInfo::new("TLSv1.3", "TLS13_AES_128_GCM_SHA256")
}

fn session(tls: Option<TlsInfo>) -> Session {
    let config = SubmissionConfig::new("mail.clinic.test").unwrap();
    let mut session = Session::new(Arc::new(config), "s1", ([192, 0, 2, 7], 1234).into(), tls);
    let greeting = session.take_output();
    assert!(greeting.starts_with(b"220 mail.clinic.test ESMTP"));
    session
}

fn submitter() -> Submitter {
    Submitter {
        name: "EHR".into(),
        allowed_from_domains: vec!["clinic.test".into()],
        id: "c1".into(),
    }
}

/// Feeds `bytes`, returns the first event and the output so far.
fn step(session: &mut Session, bytes: &[u8]) -> (Event, String) {
    session.receive(bytes);
    let event = session.next_event(UNIX_EPOCH);
    (event, String::from_utf8(session.take_output()).unwrap())
}

fn authenticated() -> Session {
    let mut session = session(Some(tls()));
    // "\0u\0p"
    let (event, _) = step(&mut session, b"EHLO c.test\r\nAUTH PLAIN AHUAcA==\r\n");
    let Event::Authenticate(credentials) = event else {
        panic!("expected Authenticate, got {event:?}");
    };
    assert_eq!((credentials.username(), credentials.password()), ("u", "p"));
    assert_eq!(format!("{credentials:?}"), "Credentials(..)");
    session.finish_authentication(Ok(Some(submitter())));
    let (event, output) = step(&mut session, b"");
    assert!(matches!(event, Event::NeedInput));
    assert!(output.ends_with("235 2.7.0 Authentication successful\r\n"));
    session
}

#[test]
fn commands_pipelined_after_starttls_are_dropped_at_the_transition() {
    let mut session = session(None);
    let (event, output) = step(&mut session, b"EHLO c.test\r\nSTARTTLS\r\nNOOP\r\nRSET\r\n");
    assert!(matches!(event, Event::StartTls));
    assert!(output.ends_with("220 2.0.0 Ready to start TLS\r\n"));
    assert_eq!(session.buffered_bytes(), 0);

    session.receive(b"NOOP\r\n"); // plaintext arriving during the handshake
    assert!(matches!(session.next_event(UNIX_EPOCH), Event::Waiting));
    session.finish_tls(tls());
    let (event, output) = step(&mut session, b"");
    assert!(matches!(event, Event::NeedInput));
    assert_eq!(output, "", "neither NOOP nor RSET was answered");
}

#[test]
fn the_250_is_written_only_when_the_embedder_returned() {
    let mut session = authenticated();
    let message = "From: d@clinic.test\r\n\r\nhi\r\n.\r\nNOOP\r\n";
    let commands =
        format!("MAIL FROM:<d@clinic.test>\r\nRCPT TO:<p@example.org>\r\nDATA\r\n{message}");
    let (event, output) = step(&mut session, commands.as_bytes());
    let Event::Accept(accepted) = event else {
        panic!("expected Accept, got {event:?}");
    };
    assert_eq!(
        output,
        "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n354 Start mail input; end with <CRLF>.<CRLF>\r\n"
    );
    assert!(
        accepted
            .data
            .ends_with(b"+0000\r\nFrom: d@clinic.test\r\n\r\nhi\r\n")
    );
    assert!(matches!(session.next_event(UNIX_EPOCH), Event::Waiting));
    assert!(session.take_output().is_empty());

    session.finish_accept(Ok("m-1".into()));
    let (event, output) = step(&mut session, b"");
    assert!(matches!(event, Event::NeedInput));
    assert_eq!(
        output,
        "250 2.0.0 Message accepted as m-1\r\n250 2.0.0 OK\r\n"
    );
}

#[test]
fn an_embedder_error_ends_the_transaction_without_250() {
    let mut session = authenticated();
    let commands = "MAIL FROM:<d@clinic.test>\r\nRCPT TO:<p@example.org>\r\nBDAT 24 LAST\r\nFrom: d@clinic.test\r\n\r\nx";
    let (event, _) = step(&mut session, commands.as_bytes());
    assert!(matches!(event, Event::Accept(_)), "{event:?}");
    session.finish_accept(Err(HandlerError::Temporary("disk full at /var".into())));
    let (_, output) = step(&mut session, b"RCPT TO:<p@example.org>\r\n");
    assert_eq!(
        output,
        "451 4.3.0 Message not accepted, try again later\r\n503 5.5.1 MAIL first\r\n"
    );
}

#[test]
fn input_stays_bounded_whatever_the_client_sends() {
    let mut session = authenticated();
    for _ in 0..100 {
        let (event, _) = step(&mut session, &[b'A'; 4096]);
        assert!(matches!(event, Event::NeedInput));
        assert!(session.buffered_bytes() < 1000);
    }
    let (_, output) = step(&mut session, b"\r\nNOOP\r\n");
    assert_eq!(output, "250 2.0.0 OK\r\n");
}

#[test]
fn shutdown_closes_an_idle_session_with_421() {
    let mut session = authenticated();
    session.shutdown();
    let (event, output) = step(&mut session, b"");
    assert!(matches!(event, Event::Close));
    assert!(output.starts_with("421 4.3.2 mail.clinic.test Service shutting down"));
}
