//! One SMTP transaction (MAIL, RCPT, DATA) on an open verified-TLS connection, with
//! one outcome per recipient.

use super::connection::SmtpConnection;
use super::outcome::{FailureReason, OutboundMessage, RecipientOutcome, SmtpStage};
use super::wire::{Capabilities, data_bytes};

impl SmtpConnection {
    /// Runs one transaction: MAIL, RCPT for each recipient, DATA. Pipelined when the
    /// server offers PIPELINING (RFC 2920).
    pub async fn send(&mut self, message: &OutboundMessage) -> Transaction {
        let mut transaction = Transaction::new(message);
        if message.recipients.is_empty() {
            return transaction;
        }
        if self.broken {
            transaction.fail_pending(network(SmtpStage::MailFrom, "connection no longer usable"));
            return transaction;
        }
        if let Err(reason) = check_sendable(message, &self.caps) {
            transaction.settle_pending(RecipientOutcome::PermanentFailure { reason });
            return transaction;
        }

        let result = if self.caps.pipelining {
            self.pipelined(message, &mut transaction).await
        } else {
            self.stepwise(message, &mut transaction).await
        };
        if let Err(reason) = result {
            self.broken = true;
            transaction.fail_pending(reason);
        }
        transaction
    }

    async fn pipelined(
        &mut self,
        message: &OutboundMessage,
        tx: &mut Transaction,
    ) -> Result<(), FailureReason> {
        let mut batch = String::new();
        batch.push_str(&mail_command(message, &self.caps));
        for recipient in &message.recipients {
            batch.push_str(&format!("RCPT TO:<{recipient}>\r\n"));
        }
        batch.push_str("DATA\r\n");
        self.wire
            .send(batch.as_bytes(), SmtpStage::MailFrom)
            .await?;

        let mail = self.wire.reply(SmtpStage::MailFrom).await?;
        let mut rcpt_replies = Vec::with_capacity(message.recipients.len());
        for _ in &message.recipients {
            rcpt_replies.push(self.wire.reply(SmtpStage::RcptTo).await?);
        }
        let data = self.wire.reply(SmtpStage::Data).await?;

        let mut accepted = Vec::new();
        if mail.is_positive() {
            for (index, reply) in rcpt_replies.iter().enumerate() {
                if reply.is_positive() {
                    accepted.push(index);
                } else {
                    tx.settle(
                        index,
                        RecipientOutcome::from_reply(SmtpStage::RcptTo, reply),
                    );
                }
            }
        } else {
            tx.settle_pending(RecipientOutcome::from_reply(SmtpStage::MailFrom, &mail));
        }
        if data.code != 354 {
            tx.settle_pending(RecipientOutcome::from_reply(SmtpStage::Data, &data));
            return self.reset().await;
        }
        if accepted.is_empty() || !mail.is_positive() {
            // RFC 2920 §3.1: DATA was accepted with no recipient; send an empty message
            // and discard it.
            self.wire.send(b".\r\n", SmtpStage::DataEnd).await?;
            let _ = self.wire.reply(SmtpStage::DataEnd).await?;
            return self.reset().await;
        }
        self.finish_data(message, tx).await
    }

    async fn stepwise(
        &mut self,
        message: &OutboundMessage,
        tx: &mut Transaction,
    ) -> Result<(), FailureReason> {
        let mail_line = mail_command(message, &self.caps);
        let mail = self
            .wire
            .command(mail_line.trim_end(), SmtpStage::MailFrom)
            .await?;
        if !mail.is_positive() {
            tx.settle_pending(RecipientOutcome::from_reply(SmtpStage::MailFrom, &mail));
            return self.reset().await;
        }
        let mut any_accepted = false;
        for (index, recipient) in message.recipients.iter().enumerate() {
            let reply = self
                .wire
                .command(&format!("RCPT TO:<{recipient}>"), SmtpStage::RcptTo)
                .await?;
            if reply.is_positive() {
                any_accepted = true;
            } else {
                tx.settle(
                    index,
                    RecipientOutcome::from_reply(SmtpStage::RcptTo, &reply),
                );
            }
        }
        if !any_accepted {
            return self.reset().await;
        }
        let data = self.wire.command("DATA", SmtpStage::Data).await?;
        if data.code != 354 {
            tx.settle_pending(RecipientOutcome::from_reply(SmtpStage::Data, &data));
            return self.reset().await;
        }
        self.finish_data(message, tx).await
    }

    async fn finish_data(
        &mut self,
        message: &OutboundMessage,
        tx: &mut Transaction,
    ) -> Result<(), FailureReason> {
        tx.data_sent = true;
        self.wire
            .send(&data_bytes(&message.content), SmtpStage::DataEnd)
            .await?;
        let end = self.wire.reply(SmtpStage::DataEnd).await?;
        tx.settle_pending(RecipientOutcome::from_reply(SmtpStage::DataEnd, &end));
        if !end.is_positive() {
            return self.reset().await;
        }
        Ok(())
    }

    async fn reset(&mut self) -> Result<(), FailureReason> {
        let reply = self.wire.command("RSET", SmtpStage::Reset).await?;
        if !reply.is_positive() {
            self.broken = true;
        }
        Ok(())
    }
}

/// The per-recipient results of one transaction.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// One entry per recipient of the message, in order.
    pub outcomes: Vec<(String, Option<RecipientOutcome>)>,
    /// Whether message data was (at least partly) transmitted. When `false`, recipients
    /// that failed with a network error may safely be retried on another MX at once.
    pub data_sent: bool,
}

impl Transaction {
    fn new(message: &OutboundMessage) -> Transaction {
        let outcomes = message
            .recipients
            .iter()
            .map(|r| (r.clone(), None))
            .collect();
        Transaction {
            outcomes,
            data_sent: false,
        }
    }

    fn settle(&mut self, index: usize, outcome: RecipientOutcome) {
        if let Some((_, slot @ None)) = self.outcomes.get_mut(index) {
            *slot = Some(outcome);
        }
    }

    fn settle_pending(&mut self, outcome: RecipientOutcome) {
        for (_, slot) in &mut self.outcomes {
            if slot.is_none() {
                *slot = Some(outcome.clone());
            }
        }
    }

    fn fail_pending(&mut self, reason: FailureReason) {
        self.settle_pending(RecipientOutcome::TemporaryFailure { reason });
    }

    /// Each recipient with its outcome (recipients never settled count as temporary).
    pub fn results(self) -> Vec<(String, RecipientOutcome)> {
        self.outcomes
            .into_iter()
            .map(|(recipient, outcome)| {
                let outcome = outcome.unwrap_or_else(|| RecipientOutcome::TemporaryFailure {
                    reason: network(SmtpStage::DataEnd, "no reply for this recipient"),
                });
                (recipient, outcome)
            })
            .collect()
    }
}

fn network(stage: SmtpStage, detail: &str) -> FailureReason {
    FailureReason::Network {
        stage,
        detail: detail.into(),
    }
}

fn mail_command(message: &OutboundMessage, caps: &Capabilities) -> String {
    let mut line = format!("MAIL FROM:<{}>", message.from);
    if caps.size.is_some() {
        line.push_str(&format!(" SIZE={}", message.content.len()));
    }
    if caps.eight_bit_mime && !message.content.is_ascii() {
        line.push_str(" BODY=8BITMIME");
    }
    if needs_smtputf8(message) {
        line.push_str(" SMTPUTF8");
    }
    line.push_str("\r\n");
    line
}

fn needs_smtputf8(message: &OutboundMessage) -> bool {
    !message.from.is_ascii() || message.recipients.iter().any(|r| !r.is_ascii())
}

fn check_sendable(message: &OutboundMessage, caps: &Capabilities) -> Result<(), FailureReason> {
    let addresses = std::iter::once(&message.from).chain(&message.recipients);
    for address in addresses {
        let unsafe_char = address
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>');
        if unsafe_char || address.len() > 320 {
            let detail = "an envelope address contains characters SMTP cannot carry".into();
            return Err(FailureReason::Unsendable { detail });
        }
    }
    if needs_smtputf8(message) && !caps.smtputf8 {
        let detail = "non-ASCII address but the server lacks SMTPUTF8 (RFC 6531)".into();
        return Err(FailureReason::Unsendable { detail });
    }
    if let Some(limit) = caps.size.filter(|limit| message.content.len() > *limit) {
        let detail = format!(
            "message of {} bytes exceeds the server's SIZE {limit}",
            message.content.len()
        );
        return Err(FailureReason::Unsendable { detail });
    }
    Ok(())
}
