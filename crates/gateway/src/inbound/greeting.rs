//! The greeting, EHLO/HELO with the extensions on offer, and STARTTLS (RFC 3207).

use zeroize::Zeroize;

use super::handler::TlsInfo;
use super::reply::Reply;
use super::session::{Event, Session, State, Step};

impl Session {
    /// The `220` greeting (no enhanced status code, RFC 2034).
    pub(super) fn greet(&mut self) {
        let text = format!("{} ESMTP carepost submission", self.config.hostname());
        self.reply(Reply::owned(220, "", text));
    }

    /// EHLO (`extended`) or HELO. Either resets a transaction in progress; an accepted
    /// credential stays.
    ///
    /// AUTH and REQUIRETLS are offered only over TLS, STARTTLS only before it.
    pub(super) fn ehlo(&mut self, host: &str, extended: bool) -> Step {
        self.transaction = None;
        self.helo = Some(host.to_owned());
        if !extended {
            return self.reply(Reply::owned(250, "", self.config.hostname().to_owned()));
        }

        let mut lines = vec![
            self.config.hostname().to_owned(),
            "PIPELINING".to_owned(),
            format!("SIZE {}", self.config.limits.max_message_size),
            "8BITMIME".to_owned(),
            "SMTPUTF8".to_owned(),
            "ENHANCEDSTATUSCODES".to_owned(),
            "CHUNKING".to_owned(),
        ];
        if self.tls.is_some() {
            lines.push("REQUIRETLS".to_owned());
            if self.submitter.is_none() {
                lines.push("AUTH PLAIN LOGIN".to_owned());
            }
        } else {
            lines.push("STARTTLS".to_owned());
        }
        self.reply(Reply::owned(250, "", lines.join("\n")))
    }

    /// STARTTLS: `220`, then everything the client pipelined after the command is thrown
    /// away, so that no plaintext can be executed inside TLS.
    pub(super) fn starttls(&mut self) -> Step {
        if self.tls.is_some() {
            return self.reply(Reply::new(503, "5.5.1", "TLS already active"));
        }
        let discarded = self.input.len();
        self.input.zeroize();
        self.input.clear();
        if discarded > 0 {
            tracing::warn!(
                discarded_bytes = discarded,
                "plaintext pipelined after STARTTLS discarded"
            );
        }
        self.reply(Reply::new(220, "2.0.0", "Ready to start TLS"));
        self.state = State::StartingTls;
        Step::Emit(Event::StartTls)
    }

    /// The TLS handshake after STARTTLS completed. Everything known from the plaintext
    /// part is forgotten (RFC 3207 4.2): the client starts again with EHLO.
    pub fn finish_tls(&mut self, tls: TlsInfo) {
        if !matches!(self.state, State::StartingTls) {
            return;
        }
        self.input.clear();
        self.tls = Some(tls);
        self.helo = None;
        self.submitter = None;
        self.transaction = None;
        self.state = State::Command;
    }
}
