//! The sans-IO submission session: bytes in, replies and [`Event`]s out.
//!
//! A driver feeds what it read with [`Session::receive`], then calls [`Session::next_event`]
//! until it returns [`Event::NeedInput`], writing [`Session::take_output`] before every read
//! and before it waits on the embedder. Events that need the outside world (credential
//! check, durable acceptance, TLS handshake) are answered with the matching `finish_*`
//! method; until then the session answers [`Event::Waiting`].
//!
//! Memory is bounded: after `NeedInput`, the buffered input is shorter than
//! `max_line_length` (longer lines are refused and discarded), message data is never held
//! beyond `max_message_size`, and output only holds replies not yet taken.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use smtp_proto::Request;
use zeroize::{Zeroize, Zeroizing};

use super::auth::{Credentials, SaslStep};
use super::body::DotReader;
use super::config::SubmissionConfig;
use super::data::Chunk;
use super::envelope::Transaction;
use super::handler::{SubmittedMessage, Submitter, TlsInfo};
use super::lines::{self, Framing};
use super::reply::Reply;

/// What the driver must do next.
#[derive(Debug)]
pub enum Event {
    /// Write the output, then read and [`Session::receive`] more input.
    NeedInput,
    /// Write the output, check the credential with the embedder, then call
    /// [`Session::finish_authentication`].
    Authenticate(Credentials),
    /// Write the output, hand the message to the embedder, then call
    /// [`Session::finish_accept`].
    Accept(Box<SubmittedMessage>),
    /// Write the output (`220`), run the TLS handshake on the same connection, then call
    /// [`Session::finish_tls`]. Plaintext the client sent after STARTTLS was discarded.
    StartTls,
    /// An earlier event is not finished yet.
    Waiting,
    /// Write the output and close the connection.
    Close,
}

/// One SMTP submission conversation, without IO.
pub struct Session {
    pub(super) config: Arc<SubmissionConfig>,
    pub(super) id: String,
    pub(super) peer: SocketAddr,
    pub(super) tls: Option<TlsInfo>,
    /// The name the client gave with EHLO or HELO.
    pub(super) helo: Option<String>,
    pub(super) submitter: Option<Submitter>,
    pub(super) transaction: Option<Transaction>,
    pub(super) state: State,
    pub(super) auth_failures: u32,
    pub(super) transactions: usize,
    command_errors: u32,
    pub(super) input: Vec<u8>,
    output: Vec<u8>,
    draining: bool,
}

/// What the session is reading or waiting for.
pub(super) enum State {
    /// The next command line.
    Command,
    /// The rest of an over-long line, to be thrown away.
    DiscardLine,
    /// A SASL response line.
    Sasl(SaslStep),
    /// The embedder checks a credential.
    Authenticating,
    /// Message data after DATA, up to the line with a single dot.
    Data(DotReader),
    /// The octets of a BDAT chunk.
    Bdat(Chunk),
    /// The embedder commits a message.
    Accepting,
    /// The driver runs the TLS handshake.
    StartingTls,
    /// The connection is to be closed.
    Closed,
}

/// The result of one step of the state machine.
pub(super) enum Step {
    Continue,
    NeedInput,
    Emit(Event),
}

impl Session {
    /// A session that has just accepted a connection from `peer`, with `id` for logs and the
    /// `Received:` header.
    ///
    /// `tls` is `None` on the STARTTLS listener (STARTTLS is offered) and the negotiated
    /// session on the implicit-TLS listener. The greeting is already in the output.
    pub fn new(
        config: Arc<SubmissionConfig>,
        id: &str,
        peer: SocketAddr,
        tls: Option<TlsInfo>,
    ) -> Session {
        let mut session = Session {
            config,
            id: id.to_owned(),
            peer,
            tls,
            helo: None,
            submitter: None,
            transaction: None,
            state: State::Command,
            auth_failures: 0,
            transactions: 0,
            command_errors: 0,
            input: Vec::new(),
            output: Vec::new(),
            draining: false,
        };
        session.greet();
        session
    }

    /// Adds bytes read from the client. Bytes that arrive while the session is closed or
    /// switching to TLS are dropped.
    pub fn receive(&mut self, bytes: &[u8]) {
        if !matches!(self.state, State::Closed | State::StartingTls) {
            self.input.extend_from_slice(bytes);
        }
    }

    /// Runs the state machine on the buffered input. `now` dates the `Received:` header.
    pub fn next_event(&mut self, now: SystemTime) -> Event {
        loop {
            if self.draining && self.is_idle() {
                self.close("4.3.2", "Service shutting down, try again later");
            }
            let step = match &self.state {
                State::Closed => return Event::Close,
                State::Authenticating | State::Accepting | State::StartingTls => {
                    return Event::Waiting;
                }
                State::Command | State::Sasl(_) => self.next_line(now),
                State::DiscardLine => self.discard_line(),
                State::Data(_) => self.data_step(now),
                State::Bdat(_) => self.bdat_step(now),
            };
            match step {
                Step::Continue => {}
                Step::NeedInput => return Event::NeedInput,
                Step::Emit(event) => return event,
            }
        }
    }

    /// The replies written since the last call, to be sent to the client.
    pub fn take_output(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.output)
    }

    /// The client sent nothing within [`Session::read_timeout`]: replies `421 4.4.2` and
    /// closes, discarding any unfinished message.
    pub fn timed_out(&mut self) {
        if !matches!(self.state, State::Closed) {
            tracing::info!(reply = 421, "client timed out");
            self.close(
                "4.4.2",
                "Timeout waiting for client input, closing connection",
            );
        }
    }

    /// The server is shutting down: an idle session replies `421 4.3.2` and closes at once;
    /// a session in a mail transaction closes the same way right after the transaction ends.
    pub fn shutdown(&mut self) {
        self.draining = true;
    }

    /// How long the driver waits for input before calling [`Session::timed_out`].
    pub fn read_timeout(&self) -> Duration {
        match self.state {
            State::Data(_) | State::Bdat(_) => self.config.limits.data_timeout,
            _ => self.config.limits.command_timeout,
        }
    }

    /// The session id given to [`Session::new`].
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Octets held in the session's buffers: unread input, message data and unsent output.
    pub fn buffered_bytes(&self) -> usize {
        let body = self.transaction.as_ref().map_or(0, |t| t.body.len());
        self.input.len() + body + self.output.len()
    }

    /// Whether the session waits for a command outside a mail transaction.
    fn is_idle(&self) -> bool {
        matches!(
            self.state,
            State::Command | State::DiscardLine | State::Sasl(_)
        ) && self.transaction.is_none()
    }

    /// Writes `reply`; after too many rejected commands, also `421` and closes.
    pub(super) fn reply(&mut self, reply: Reply) -> Step {
        tracing::debug!(reply = reply.code, status = reply.status, "reply");
        reply.write_to(&mut self.output);
        if reply.is_command_error() {
            self.command_errors += 1;
            if self.command_errors >= self.config.limits.max_command_errors {
                tracing::info!(errors = self.command_errors, "too many rejected commands");
                self.close("4.7.0", "Too many errors, closing connection");
            }
        }
        Step::Continue
    }

    /// Writes a `421` reply with the host name and closes.
    pub(super) fn close(&mut self, status: &'static str, text: &str) -> Step {
        let text = format!("{} {text}", self.config.hostname());
        tracing::debug!(reply = 421, status, "reply");
        Reply::owned(421, status, text).write_to(&mut self.output);
        self.state = State::Closed;
        self.transaction = None;
        self.input.zeroize();
        self.input.clear();
        Step::Continue
    }

    /// Takes the next command or SASL line off the input and acts on it.
    fn next_line(&mut self, now: SystemTime) -> Step {
        let max = self.config.limits.max_line_length;
        let length = match lines::frame(&self.input, max) {
            Framing::Partial => return Step::NeedInput,
            Framing::Line(length) => length,
            Framing::TooLong(length) => {
                self.consume(length);
                self.state = State::Command;
                return self.reply(lines::LINE_TOO_LONG);
            }
            Framing::TooLongUnterminated => {
                self.consume(self.input.len());
                self.state = State::DiscardLine;
                return self.reply(lines::LINE_TOO_LONG);
            }
        };

        let line = self.consume(length);
        let text = match lines::check(&line) {
            Ok(text) => text,
            Err(reply) => {
                self.state = State::Command;
                return self.reply(reply);
            }
        };
        match std::mem::replace(&mut self.state, State::Command) {
            State::Sasl(step) => self.sasl_response(step, text),
            _ => self.command(text, now),
        }
    }

    /// Throws input away up to the end of an over-long line.
    fn discard_line(&mut self) -> Step {
        match self.input.iter().position(|&b| b == b'\n') {
            Some(lf) => {
                self.consume(lf + 1);
                self.state = State::Command;
                Step::Continue
            }
            None => {
                self.consume(self.input.len());
                Step::NeedInput
            }
        }
    }

    /// Removes `length` octets from the input and returns them; the buffer is wiped behind
    /// them, since they may hold a password.
    pub(super) fn consume(&mut self, length: usize) -> Zeroizing<Vec<u8>> {
        let length = length.min(self.input.len());
        let (taken, _) = self.input.split_at_mut(length);
        let line = Zeroizing::new(taken.to_vec());
        taken.zeroize();
        self.input.drain(..length);
        line
    }

    /// Parses one command line (CRLF included) with smtp-proto and runs it.
    fn command(&mut self, text: &str, now: SystemTime) -> Step {
        let request = match Request::parse(&mut text.as_bytes().iter()) {
            Ok(request) => request,
            Err(error) => return self.reply(parse_error(&error)),
        };
        match request {
            Request::Ehlo { host } => self.ehlo(&host, true),
            Request::Helo { host } => self.ehlo(&host, false),
            Request::StartTls => self.starttls(),
            Request::Auth {
                mechanism,
                initial_response,
            } => self.auth(mechanism, &initial_response),
            Request::Mail { from } => self.mail(&from),
            Request::Rcpt { to } => self.rcpt(&to),
            Request::Data => self.data(),
            Request::Bdat {
                chunk_size,
                is_last,
            } => self.bdat(chunk_size, is_last, now),
            Request::Rset => {
                self.transaction = None;
                self.reply(Reply::new(250, "2.0.0", "Reset"))
            }
            Request::Noop { .. } => self.reply(Reply::new(250, "2.0.0", "OK")),
            Request::Quit => {
                let text = format!("{} closing connection", self.config.hostname());
                self.reply(Reply::owned(221, "2.0.0", text));
                self.state = State::Closed;
                Step::Continue
            }
            Request::Help { .. } => self.reply(Reply::new(
                214,
                "2.0.0",
                "SMTP submission (RFC 6409): EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, BDAT",
            )),
            Request::Vrfy { .. } | Request::Expn { .. } => {
                self.reply(Reply::new(252, "2.5.2", "Cannot verify addresses"))
            }
            Request::Lhlo { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => {
                self.reply(Reply::new(502, "5.5.1", "Command not implemented"))
            }
        }
    }

    /// Hands `message` to the driver and waits for [`Session::finish_accept`].
    pub(super) fn emit_accept(&mut self, message: SubmittedMessage) -> Step {
        self.state = State::Accepting;
        Step::Emit(Event::Accept(Box::new(message)))
    }

    /// Hands `credentials` to the driver and waits for
    /// [`Session::finish_authentication`].
    pub(super) fn emit_authenticate(&mut self, credentials: Credentials) -> Step {
        self.state = State::Authenticating;
        Step::Emit(Event::Authenticate(credentials))
    }
}

/// The reply to a line smtp-proto could not parse.
fn parse_error(error: &smtp_proto::Error) -> Reply {
    use smtp_proto::Error;
    match error {
        Error::UnknownCommand => Reply::new(500, "5.5.1", "Command unrecognized"),
        Error::InvalidSenderAddress => Reply::new(501, "5.1.7", "Invalid sender address"),
        Error::InvalidRecipientAddress => Reply::new(501, "5.1.3", "Invalid recipient address"),
        Error::SyntaxError { syntax } => Reply::owned(501, "5.5.4", format!("Syntax: {syntax}")),
        Error::InvalidParameter { param } => {
            Reply::owned(501, "5.5.4", format!("Invalid value for parameter {param}"))
        }
        Error::UnsupportedParameter { .. } => Reply::new(555, "5.5.4", "Unsupported parameter"),
        Error::NeedsMoreData { .. } | Error::ResponseTooLong | Error::InvalidResponse { .. } => {
            Reply::new(500, "5.5.2", "Syntax error")
        }
    }
}
