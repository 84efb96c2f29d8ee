//! DATA and BDAT (RFC 3030), the end of a message, and the embedder's verdict on it.
//!
//! Acknowledged means kept: the `250` after the data is written only in
//! [`Session::finish_accept`], once the embedder's `accept` returned `Ok`.

use std::time::SystemTime;

use super::body::DotReader;
use super::handler::{HandlerError, SubmittedMessage};
use super::headers;
use super::received::{self, Trace};
use super::reply::{Reply, sanitize};
use super::session::{Session, State, Step};

/// A BDAT chunk being read.
pub(super) struct Chunk {
    size: usize,
    remaining: usize,
    last: bool,
    /// The reply refusing this chunk, decided at the command; its octets are discarded.
    refusal: Option<Reply>,
}

impl Session {
    /// DATA: `354`, then the content up to the dot line.
    pub(super) fn data(&mut self) -> Step {
        let refusal = match &self.transaction {
            _ if self.submitter.is_none() => {
                Some(Reply::new(530, "5.7.0", "Authentication required"))
            }
            None => Some(Reply::new(503, "5.5.1", "MAIL first")),
            Some(t) if t.chunked => Some(Reply::new(503, "5.5.1", "DATA not allowed after BDAT")),
            Some(t) if t.recipients.is_empty() => {
                Some(Reply::new(554, "5.5.1", "No valid recipients"))
            }
            Some(_) => None,
        };
        if let Some(reply) = refusal {
            return self.reply(reply);
        }
        self.state = State::Data(DotReader::new());
        self.reply(Reply::new(
            354,
            "",
            "Start mail input; end with <CRLF>.<CRLF>",
        ))
    }

    /// BDAT: the chunk is read in full whatever the verdict; the reply follows it.
    pub(super) fn bdat(&mut self, size: usize, last: bool, now: SystemTime) -> Step {
        let refusal = match &mut self.transaction {
            _ if self.submitter.is_none() => {
                Some(Reply::new(530, "5.7.0", "Authentication required"))
            }
            None => Some(Reply::new(503, "5.5.1", "MAIL first")),
            Some(t) if t.recipients.is_empty() => {
                Some(Reply::new(554, "5.5.1", "No valid recipients"))
            }
            Some(t) => {
                t.chunked = true;
                None
            }
        };
        self.state = State::Bdat(Chunk {
            size,
            remaining: size,
            last,
            refusal,
        });
        self.bdat_step(now)
    }

    /// Feeds buffered input to the DATA reader.
    pub(super) fn data_step(&mut self, now: SystemTime) -> Step {
        if self.input.is_empty() {
            return Step::NeedInput;
        }
        let (State::Data(reader), Some(transaction)) = (&mut self.state, &mut self.transaction)
        else {
            self.state = State::Command;
            return Step::Continue;
        };
        let (used, done) = reader.read(&self.input, &mut transaction.body);
        self.input.drain(..used);
        if done {
            self.state = State::Command;
            self.finish_message(now)
        } else {
            Step::NeedInput
        }
    }

    /// Feeds buffered input to the BDAT chunk, and replies once it is complete.
    pub(super) fn bdat_step(&mut self, now: SystemTime) -> Step {
        let State::Bdat(chunk) = &mut self.state else {
            return Step::Continue;
        };
        if chunk.remaining > 0 {
            let take = chunk.remaining.min(self.input.len());
            if take == 0 {
                return Step::NeedInput;
            }
            let octets = self.input.get(..take).unwrap_or_default();
            if let (None, Some(transaction)) = (&chunk.refusal, &mut self.transaction) {
                transaction.body.push_slice(octets);
            }
            chunk.remaining -= take;
            self.input.drain(..take);
            if chunk.remaining > 0 {
                return Step::NeedInput;
            }
        }

        let State::Bdat(chunk) = std::mem::replace(&mut self.state, State::Command) else {
            return Step::Continue;
        };
        if let Some(reply) = chunk.refusal {
            return self.reply(reply);
        }
        if self
            .transaction
            .as_ref()
            .is_some_and(|t| t.body.is_oversize())
        {
            self.transaction = None;
            return self.reply(Reply::new(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            ));
        }
        if chunk.last {
            return self.finish_message(now);
        }
        let text = format!("{} octets received", chunk.size);
        self.reply(Reply::owned(250, "2.0.0", text))
    }

    /// The content is complete: checks it and the header `From:`, adds `Received:` and
    /// hands the message to the embedder. The transaction ends here whatever happens.
    fn finish_message(&mut self, now: SystemTime) -> Step {
        let (Some(transaction), Some(submitter), Some(tls)) = (
            self.transaction.take(),
            self.submitter.clone(),
            self.tls.clone(),
        ) else {
            return self.reply(Reply::new(503, "5.5.1", "No mail transaction"));
        };
        let content = match transaction.body.finish() {
            Ok(content) => content,
            Err(reply) => {
                tracing::info!(reply = reply.code, status = reply.status, "message refused");
                return self.reply(reply);
            }
        };
        if let Err(reply) = headers::check_from(&content, &submitter.allowed_from_domains) {
            tracing::info!(reply = reply.code, status = reply.status, "message refused");
            return self.reply(reply);
        }

        let received = received::header(&Trace {
            helo: self.helo.as_deref().unwrap_or("unknown"),
            peer: self.peer.ip(),
            hostname: self.config.hostname(),
            tls: &tls,
            session_id: &self.id,
            smtputf8: transaction.smtputf8,
            now,
        });
        let mut data = Vec::with_capacity(received.len() + content.len());
        data.extend_from_slice(received.as_bytes());
        data.extend_from_slice(&content);

        self.emit_accept(SubmittedMessage {
            submitter,
            session_id: self.id.clone(),
            peer: self.peer,
            mail_from: transaction.mail_from,
            recipients: transaction.recipients,
            requiretls: transaction.requiretls,
            smtputf8: transaction.smtputf8,
            data,
            tls,
        })
    }

    /// The embedder's answer to [`Event::Accept`](super::Event::Accept): `250` only for
    /// `Ok`.
    pub fn finish_accept(&mut self, result: Result<String, HandlerError>) {
        if !matches!(self.state, State::Accepting) {
            return;
        }
        self.state = State::Command;
        let reply = match result {
            Ok(id) => {
                let id = sanitize(&id, 64);
                tracing::info!(message = %id, reply = 250, "message accepted");
                Reply::owned(250, "2.0.0", format!("Message accepted as {id}"))
            }
            Err(HandlerError::Temporary(reason)) => {
                tracing::warn!(%reason, reply = 451, "embedder could not keep the message");
                Reply::new(451, "4.3.0", "Message not accepted, try again later")
            }
            Err(HandlerError::Permanent(reason)) => {
                tracing::info!(%reason, reply = 550, "embedder refused the message");
                let reason = sanitize(&reason, 200);
                let text = if reason.is_empty() {
                    "Message refused".to_owned()
                } else {
                    reason
                };
                Reply::owned(550, "5.7.1", text)
            }
        };
        self.reply(reply);
    }
}
