//! MAIL FROM and RCPT TO: the envelope of a mail transaction.

use std::borrow::Cow;

use smtp_proto::{
    MAIL_BODY_BINARYMIME, MAIL_BY_NOTIFY, MAIL_BY_RETURN, MAIL_BY_TRACE, MAIL_CONPERM,
    MAIL_REQUIRETLS, MAIL_RET_FULL, MAIL_RET_HDRS, MAIL_SMTPUTF8, MailFrom, RcptTo,
};

use super::address::{self, AddressFault};
use super::body::Body;
use super::reply::Reply;
use super::session::{Session, Step};

/// A mail transaction from an accepted MAIL command to the end of its data.
pub(super) struct Transaction {
    pub(super) mail_from: String,
    pub(super) requiretls: bool,
    pub(super) smtputf8: bool,
    pub(super) recipients: Vec<String>,
    pub(super) body: Body,
    /// BDAT was used: DATA is no longer allowed, nor more recipients.
    pub(super) chunked: bool,
}

/// MAIL parameters of extensions this server does not offer (DSN, BINARYMIME, DELIVERBY,
/// CONPERM, FUTURERELEASE, MT-PRIORITY, MTRK, NO-SOLICITING, TRANSID).
const UNOFFERED_MAIL_FLAGS: u64 = MAIL_BODY_BINARYMIME
    | MAIL_RET_FULL
    | MAIL_RET_HDRS
    | MAIL_CONPERM
    | MAIL_BY_NOTIFY
    | MAIL_BY_RETURN
    | MAIL_BY_TRACE;

impl Session {
    /// MAIL FROM: only after AUTH, and only from one of the credential's domains.
    pub(super) fn mail(&mut self, from: &MailFrom<Cow<'_, str>>) -> Step {
        if self.submitter.is_none() {
            return self.reply(Reply::new(530, "5.7.0", "Authentication required"));
        }
        if self.transaction.is_some() {
            return self.reply(Reply::new(503, "5.5.1", "Nested MAIL command"));
        }
        if self.transactions >= self.config.limits.max_messages_per_connection {
            tracing::info!(messages = self.transactions, "message limit per connection");
            return self.close(
                "4.7.0",
                "Message limit for this connection reached, reconnect to send more",
            );
        }
        if !mail_parameters_offered(from) {
            return self.reply(Reply::new(555, "5.5.4", "Unsupported parameter"));
        }

        let smtputf8 = from.flags & MAIL_SMTPUTF8 != 0;
        let refusal = Reply::new(
            550,
            "5.7.1",
            "Sender address not allowed for this credential",
        );
        if from.address.is_empty() {
            // The null reverse-path is for bounces, which a submitter does not send.
            return self.reply(refusal);
        }
        match address::check(&from.address, smtputf8) {
            Ok(()) => {}
            Err(AddressFault::Syntax) => {
                return self.reply(Reply::new(501, "5.1.7", "Invalid sender address"));
            }
            Err(AddressFault::NeedsSmtpUtf8) => {
                return self.reply(Reply::new(
                    553,
                    "5.6.7",
                    "Non-ASCII sender address requires SMTPUTF8",
                ));
            }
        }
        let domain = address::domain(&from.address);
        let allowed = self
            .submitter
            .as_ref()
            .is_some_and(|s| address::domain_allowed(domain, &s.allowed_from_domains));
        if !allowed {
            tracing::info!(
                reply = 550,
                "envelope sender domain not allowed for the credential"
            );
            return self.reply(refusal);
        }
        if from.size > self.config.limits.max_message_size {
            return self.reply(Reply::new(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            ));
        }

        self.transactions += 1;
        self.transaction = Some(Transaction {
            mail_from: from.address.to_string(),
            requiretls: from.flags & MAIL_REQUIRETLS != 0,
            smtputf8,
            recipients: Vec::new(),
            body: Body::new(self.config.limits.max_message_size),
            chunked: false,
        });
        self.reply(Reply::new(250, "2.1.0", "Sender OK"))
    }

    /// RCPT TO: any domain, up to `max_recipients`.
    pub(super) fn rcpt(&mut self, to: &RcptTo<Cow<'_, str>>) -> Step {
        if self.submitter.is_none() {
            return self.reply(Reply::new(530, "5.7.0", "Authentication required"));
        }
        let max = self.config.limits.max_recipients;
        let Some(transaction) = &mut self.transaction else {
            return self.reply(Reply::new(503, "5.5.1", "MAIL first"));
        };
        let reply = if transaction.chunked {
            Reply::new(503, "5.5.1", "RCPT not allowed after BDAT")
        } else if to.flags != 0 || to.orcpt.is_some() || to.rrvs != 0 {
            Reply::new(555, "5.5.4", "Unsupported parameter")
        } else {
            match address::check(&to.address, transaction.smtputf8) {
                Err(AddressFault::Syntax) => Reply::new(501, "5.1.3", "Invalid recipient address"),
                Err(AddressFault::NeedsSmtpUtf8) => Reply::new(
                    553,
                    "5.6.7",
                    "Non-ASCII recipient address requires SMTPUTF8",
                ),
                Ok(()) if transaction.recipients.len() >= max => {
                    Reply::new(452, "4.5.3", "Too many recipients")
                }
                Ok(()) => {
                    transaction.recipients.push(to.address.to_string());
                    Reply::new(250, "2.1.5", "Recipient OK")
                }
            }
        };
        self.reply(reply)
    }
}

fn mail_parameters_offered(from: &MailFrom<Cow<'_, str>>) -> bool {
    from.flags & UNOFFERED_MAIL_FLAGS == 0
        && from.trans_id.is_none()
        && from.env_id.is_none()
        && from.solicit.is_none()
        && from.mtrk.is_none()
        && from.by == 0
        && from.hold_for == 0
        && from.hold_until == 0
        && from.mt_priority == 0
}
