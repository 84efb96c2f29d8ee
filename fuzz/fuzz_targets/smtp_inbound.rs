//! Fuzzes the SMTP submission session with arbitrary client bytes, cut into chunks of
//! arbitrary size, starting unauthenticated in plaintext, over TLS, or already
//! authenticated, with a fake embedder and a fake TLS transition.
//!
//! Nothing may panic, an answered event is never reported as still waiting, and the
//! session's buffers stay within `max_line_length + max_message_size`.
#![no_main]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use carepost_gateway::inbound::{
    Event, HandlerError, Session, SubmissionConfig, Submitter, TlsInfo,
};
use libfuzzer_sys::fuzz_target;

const MAX_LINE: usize = 512;
const MAX_MESSAGE: usize = 4096;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, input)) = data.split_first() else {
        return;
    };
    let mut config = SubmissionConfig::new("mail.fuzz.test").expect("valid host name");
    config.limits.max_line_length = MAX_LINE;
    config.limits.max_message_size = MAX_MESSAGE;
    config.limits.max_recipients = 4;
    config.limits.max_command_errors = 1000;
    config.limits.max_auth_failures = 1000;

    let peer: SocketAddr = ([192, 0, 2, 1], 4000).into();
    let tls = (mode & 1 == 1).then(tls_info);
    let prelude = if tls.is_some() { AUTH } else { STARTTLS };
    let mut session = Session::new(Arc::new(config), "fuzz", peer, tls);
    if mode & 2 != 0 && !feed(&mut session, prelude) {
        return;
    }

    let chunk = usize::from(mode >> 2).max(1);
    for piece in input.chunks(chunk) {
        if !feed(&mut session, piece) {
            return;
        }
    }
});

/// Starts TLS; [`feed`] then authenticates (AUTH follows every TLS transition).
const STARTTLS: &[u8] = b"EHLO fuzz.test\r\nSTARTTLS\r\n";
/// Authenticates as `fuzz` / `secret`.
const AUTH: &[u8] = b"EHLO fuzz.test\r\nAUTH PLAIN AGZ1enoAc2VjcmV0\r\n";

/// Feeds `bytes` and answers every event; false once the session closed.
fn feed(session: &mut Session, bytes: &[u8]) -> bool {
    session.receive(bytes);
    loop {
        let event = session.next_event(UNIX_EPOCH);
        let _ = session.take_output();
        match event {
            Event::NeedInput => break,
            Event::Close => return false,
            Event::Waiting => panic!("an event was answered but the session still waits"),
            Event::StartTls => {
                session.finish_tls(tls_info());
                session.receive(AUTH);
            }
            Event::Authenticate(credentials) => {
                let result = match credentials.password() {
                    "secret" => Ok(Some(submitter())),
                    "later" => Err(HandlerError::Temporary("down".into())),
                    _ => Ok(None),
                };
                session.finish_authentication(result);
            }
            Event::Accept(message) => {
                assert!(message.data.len() <= MAX_MESSAGE + 1024);
                assert!(!message.recipients.is_empty() && message.recipients.len() <= 4);
                let result = match message.data.len() % 3 {
                    0 => Ok("id\r\n250 x".to_owned()),
                    1 => Err(HandlerError::Temporary("busy".into())),
                    _ => Err(HandlerError::Permanent("no\r\n".into())),
                };
                session.finish_accept(result);
            }
        }
    }
    assert!(
        session.buffered_bytes() <= MAX_LINE + MAX_MESSAGE,
        "{} octets buffered",
        session.buffered_bytes()
    );
    true
}

fn tls_info() -> TlsInfo {
    TlsInfo::new("TLSv1.3", "TLS13_AES_128_GCM_SHA256")
}

fn submitter() -> Submitter {
    Submitter {
        name: "fuzz".into(),
        allowed_from_domains: vec!["fuzz.test".into()],
        id: "cred".into(),
    }
}
