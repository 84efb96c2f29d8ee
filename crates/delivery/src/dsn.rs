//! Delivery status notifications (RFC 3464) to the sender when a recipient bounces or
//! expires: a `multipart/report` with a readable explanation and a
//! `message/delivery-status` part. The notice names the recipient and the reason (the
//! sender needs both) and travels under the same protection as any PHI message; its
//! subject is fixed text and carries no PHI.

use std::borrow::Cow;

use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::{BodyPart, MimePart};

/// One failed (or, for a delay notice, not yet delivered) recipient of a notice.
#[derive(Debug, Clone)]
pub struct Failed {
    /// The recipient address.
    pub recipient: String,
    /// `bounced`, `expired`, `failed` or `delayed`.
    pub action: &'static str,
    /// The RFC 3463 status, e.g. `5.7.10` (TLS required) or `4.4.7` (expired).
    pub status: String,
    /// What happened, for people.
    pub explanation: String,
    /// The remote server's reply, if any (`smtp; 550 5.1.1 ...`).
    pub diagnostic: Option<String>,
}

/// The notice about `message`'s `failed` recipients, ready to queue, or `None` when no
/// notice is due (no sender, or the message is itself a notice: never a notice about a
/// notice).
pub fn notice(
    reporting_host: &str,
    message: &carepost_store::QueuedMessage,
    failed: &[Failed],
    max_age: std::time::Duration,
) -> Option<carepost_store::NewMessage> {
    use carepost_core::{Actor, MessageSource, Phi, Protection};
    let sender = message.envelope.mail_from.expose();
    if sender.is_empty() || message.source == MessageSource::System || failed.is_empty() {
        return None;
    }
    let postmaster = format!("postmaster@{}", crate::address::domain_of(sender));
    let delayed = failed.iter().all(|f| f.action == "delayed");
    let id = message.id.to_string();
    let (raw, key) = if delayed {
        let until = message.expires_at.to_rfc2822();
        let raw = build_delayed(reporting_host, &postmaster, sender, &id, &until, failed);
        // One delay notice per message: a later deferral finds this key and adds nothing.
        (raw, format!("dsn-delay:{id}"))
    } else {
        let raw = build(reporting_host, &postmaster, sender, &id, failed);
        (raw, format!("dsn:{id}:{}", recipients_key(failed)))
    };
    Some(carepost_store::NewMessage {
        source: MessageSource::System,
        submitter: Actor::system("delivery"),
        protection: Protection::TlsVerified,
        requiretls: false,
        idempotency_key: Some(key),
        tags: vec!["dsn".into()],
        envelope: carepost_store::Envelope {
            mail_from: Phi::new(String::new()),
            recipients: vec![Phi::new(sender.clone())],
        },
        content: Phi::new(raw),
        max_age,
        policy: None,
        hold: None,
    })
}

/// Identifies a set of failed recipients, so that the notice about one set is queued
/// once (a retried round finds it) and a later failure of other recipients of the same
/// message gets its own notice.
fn recipients_key(failed: &[Failed]) -> String {
    let mut recipients: Vec<String> = failed.iter().map(|f| f.recipient.to_lowercase()).collect();
    recipients.sort();
    let digest = carepost_crypto::sha256(recipients.join("\n").as_bytes());
    hex::encode(&digest[..16])
}

/// Builds the delay notice from `postmaster` to `sender`: message `message_id` is not
/// delivered yet to the `pending` recipients, and carepost keeps trying until `until`.
pub fn build_delayed(
    reporting_host: &str,
    postmaster: &str,
    sender: &str,
    message_id: &str,
    until: &str,
    pending: &[Failed],
) -> Vec<u8> {
    let (human, status) = report(
        reporting_host,
        message_id,
        &format!(
            "has not been delivered yet to the following recipients.\r\n\
             carepost keeps trying until {until}; you do not need to send it again."
        ),
        "Nothing is sent to these recipients over an unprotected connection.",
        &format!("Action: delayed\r\nWill-Retry-Until: {until}"),
        pending,
    );
    assemble(
        postmaster,
        sender,
        "Delivery delayed: still trying",
        human,
        status,
    )
}

/// Builds the notice from `postmaster` to `sender` about message `message_id`.
pub fn build(
    reporting_host: &str,
    postmaster: &str,
    sender: &str,
    message_id: &str,
    failed: &[Failed],
) -> Vec<u8> {
    let (human, status) = report(
        reporting_host,
        message_id,
        "could not be delivered to the following recipients:",
        "Nothing was sent to these recipients over an unprotected connection.",
        "Action: failed",
        failed,
    );
    assemble(
        postmaster,
        sender,
        "Undelivered mail returned to sender",
        human,
        status,
    )
}

/// The readable part and the `message/delivery-status` part (RFC 3464) of a notice:
/// `what` says what happened to the message, `action` holds the per-recipient fields
/// besides the recipient, its status and the diagnostic.
fn report(
    reporting_host: &str,
    message_id: &str,
    what: &str,
    closing: &str,
    action: &str,
    recipients: &[Failed],
) -> (String, String) {
    let mut human = format!(
        "This is the carepost delivery system at {reporting_host}.\r\n\r\n\
         Your message {message_id} {what}\r\n\r\n"
    );
    for f in recipients {
        human.push_str(&format!("  {}\r\n    {}\r\n", f.recipient, f.explanation));
    }
    human.push_str(&format!("\r\n{closing}\r\n"));

    let mut status =
        format!("Reporting-MTA: dns; {reporting_host}\r\nX-Carepost-Message-Id: {message_id}\r\n");
    for f in recipients {
        status.push_str(&format!(
            "\r\nFinal-Recipient: rfc822; {}\r\n{action}\r\nStatus: {}\r\n",
            f.recipient, f.status
        ));
        if let Some(d) = &f.diagnostic {
            let one_line: String = d
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            status.push_str(&format!("Diagnostic-Code: {one_line}\r\n"));
        }
    }
    (human, status)
}

/// The `multipart/report` message around the two parts; the subject is fixed text.
fn assemble(
    postmaster: &str,
    sender: &str,
    subject: &str,
    human: String,
    status: String,
) -> Vec<u8> {
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new("text/plain", BodyPart::Text(Cow::Owned(human))),
            MimePart::new(
                "message/delivery-status",
                BodyPart::Text(Cow::Owned(status)),
            ),
        ],
    );
    MessageBuilder::new()
        .from(Address::new_address(
            Some("Mail Delivery System"),
            postmaster.to_owned(),
        ))
        .to(Address::new_address(None::<&str>, sender.to_owned()))
        .subject(subject.to_owned())
        .header(
            "Auto-Submitted",
            mail_builder::headers::raw::Raw::new("auto-replied"),
        )
        .body(report)
        .write_to_vec()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(recipient: &str) -> Failed {
        Failed {
            recipient: recipient.into(),
            action: "bounced",
            status: "5.1.1".into(),
            explanation: "no such user".into(),
            diagnostic: None,
        }
    }

    #[test]
    fn notices_about_different_recipients_of_one_message_get_different_keys() {
        let a = recipients_key(&[failed("a@x.test")]);
        assert_ne!(a, recipients_key(&[failed("b@x.test")]));
        assert_eq!(
            a,
            recipients_key(&[failed("A@x.test")]),
            "case does not matter"
        );
        assert_eq!(
            recipients_key(&[failed("a@x.test"), failed("b@x.test")]),
            recipients_key(&[failed("b@x.test"), failed("a@x.test")]),
            "order does not matter"
        );
    }

    #[test]
    fn a_notice_is_a_delivery_status_report_naming_each_failed_recipient() {
        let raw = build(
            "mx.carepost.example",
            "postmaster@clinic.example",
            "clinic@clinic.example",
            "0190f0e0-0000-7000-8000-000000000000",
            &[Failed {
                recipient: "maria@dest.example".into(),
                action: "bounced",
                status: "5.7.10".into(),
                explanation: "verified TLS with mx.dest.example impossible: the server did not offer STARTTLS".into(),
                diagnostic: None,
            }],
        );
        let text = String::from_utf8(raw).unwrap();
        assert!(text.contains("multipart/report"));
        assert!(text.contains("report-type"));
        assert!(text.contains("Final-Recipient: rfc822; maria@dest.example"));
        assert!(text.contains("Status: 5.7.10"));
        assert!(text.contains("Subject: Undelivered mail returned to sender"));
        let parsed = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        assert_eq!(
            parsed.subject(),
            Some("Undelivered mail returned to sender")
        );
    }
}
