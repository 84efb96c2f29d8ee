//! The HTTP send API's message: validated field by field, then built into RFC 5322 text
//! with mail-builder. Every error names the field and never quotes its value.
//!
//! Header injection is refused outright: a CR or LF in any field that becomes a header
//! (addresses, names, subject, custom headers, attachment names) is a 400, not something
//! to clean up.

use std::borrow::Cow;

use base64::Engine;
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::text::Text;
use serde::Deserialize;

use crate::address;

/// The most attachments one message may carry.
pub const MAX_ATTACHMENTS: usize = 100;
/// The most custom headers.
pub const MAX_HEADERS: usize = 50;
/// The most tags.
pub const MAX_TAGS: usize = 20;

/// A recipient or sender: `"a@example.org"` or `{"email": "...", "name": "..."}`.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
pub enum Mailbox {
    /// A bare address.
    Address(String),
    /// An address with a display name.
    Named {
        /// The address.
        email: String,
        /// The display name.
        #[serde(default)]
        name: Option<String>,
    },
}

impl Mailbox {
    fn parts(&self) -> (&str, Option<&str>) {
        match self {
            Self::Address(a) => (a, None),
            Self::Named { email, name } => (email, name.as_deref()),
        }
    }
}

/// An attachment: content in base64.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct Attachment {
    /// File name shown to the recipient.
    pub filename: String,
    /// MIME type, e.g. `application/pdf` (default `application/octet-stream`).
    #[serde(default)]
    pub content_type: Option<String>,
    /// The bytes, base64-encoded (standard alphabet).
    pub content: String,
}

/// `POST /api/v1/messages`.
#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct SendRequest {
    /// The sender (From: and the return path).
    pub from: Mailbox,
    /// Recipients in To:.
    #[serde(default)]
    pub to: Vec<Mailbox>,
    /// Recipients in Cc:.
    #[serde(default)]
    pub cc: Vec<Mailbox>,
    /// Recipients that appear in no header.
    #[serde(default)]
    pub bcc: Vec<Mailbox>,
    /// Reply-To:.
    #[serde(default)]
    pub reply_to: Option<Mailbox>,
    /// Subject:.
    #[serde(default)]
    pub subject: Option<String>,
    /// The plain text body.
    #[serde(default)]
    pub text: Option<String>,
    /// The HTML body.
    #[serde(default)]
    pub html: Option<String>,
    /// Attachments.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Extra headers (names must not be ones carepost sets itself).
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
    /// Labels for reporting: letters, digits, `-`, `_`, `.`, `:`; up to 64 characters each.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Makes retries safe: a second request with the same key returns the first message.
    #[serde(default)]
    pub idempotency_key: Option<String>,
    /// `tls-verified` (default) or `tls-exclusive`.
    #[serde(default)]
    pub protection: Option<String>,
}

impl std::fmt::Debug for SendRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendRequest")
            .field(
                "recipients",
                &(self.to.len() + self.cc.len() + self.bcc.len()),
            )
            .field("attachments", &self.attachments.len())
            .finish_non_exhaustive()
    }
}

/// A field that failed validation: which one, and why (never its value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// The field, in JSON path form (`to[2]`, `headers.X-Campaign`).
    pub field: String,
    /// What is wrong and what to do.
    pub reason: String,
}

fn field_error(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

/// A message built from a [`SendRequest`].
pub struct Composed {
    /// The envelope sender.
    pub mail_from: String,
    /// Every envelope recipient (to, cc, bcc), without duplicates, in order.
    pub recipients: Vec<String>,
    /// The RFC 5322 message.
    pub content: Vec<u8>,
    /// Validated tags.
    pub tags: Vec<String>,
}

/// Headers carepost writes itself; the API may not set them.
const RESERVED_HEADERS: [&str; 14] = [
    "from",
    "to",
    "cc",
    "bcc",
    "reply-to",
    "subject",
    "date",
    "message-id",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "dkim-signature",
    "received",
    "return-path",
];

fn no_line_breaks(field: &str, value: &str) -> Result<(), FieldError> {
    if value.contains(['\r', '\n', '\0']) {
        return Err(field_error(
            field,
            "must not contain line breaks or NUL characters",
        ));
    }
    Ok(())
}

fn mailbox(field: &str, m: &Mailbox) -> Result<(String, Option<String>), FieldError> {
    let (email, name) = m.parts();
    let email = address::normalize(email).map_err(|e| field_error(field, e.to_string()))?;
    if let Some(name) = name {
        no_line_breaks(&format!("{field}.name"), name)?;
        if name.chars().count() > 200 {
            return Err(field_error(
                format!("{field}.name"),
                "must be at most 200 characters",
            ));
        }
    }
    Ok((
        email,
        name.map(str::to_owned).filter(|n| !n.trim().is_empty()),
    ))
}

fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 76
        && name.bytes().all(|b| (33..=126).contains(&b) && b != b':')
}

impl SendRequest {
    /// Validates every field and builds the message. `message_id_host` is the right-hand
    /// side of the generated Message-ID.
    pub fn compose(&self, max_size: usize) -> Result<Composed, FieldError> {
        let (from, from_name) = mailbox("from", &self.from)?;
        let mut recipients: Vec<String> = Vec::new();
        let mut listed =
            |field: &str, list: &[Mailbox]| -> Result<Vec<Address<'static>>, FieldError> {
                let mut out = Vec::with_capacity(list.len());
                for (i, m) in list.iter().enumerate() {
                    let (email, name) = mailbox(&format!("{field}[{i}]"), m)?;
                    if !recipients.iter().any(|r| r.eq_ignore_ascii_case(&email)) {
                        recipients.push(email.clone());
                    }
                    out.push(Address::new_address(
                        name.map(Cow::Owned),
                        Cow::Owned(email),
                    ));
                }
                Ok(out)
            };
        let to = listed("to", &self.to)?;
        let cc = listed("cc", &self.cc)?;
        listed("bcc", &self.bcc)?;
        if recipients.is_empty() {
            return Err(field_error(
                "to",
                "give at least one recipient in to, cc or bcc",
            ));
        }
        if recipients.len() > carepost_store::MAX_RECIPIENTS {
            return Err(field_error(
                "to",
                format!(
                    "at most {} recipients per message",
                    carepost_store::MAX_RECIPIENTS
                ),
            ));
        }
        if self.text.is_none() && self.html.is_none() && self.attachments.is_empty() {
            return Err(field_error(
                "text",
                "give a text or html body (or an attachment)",
            ));
        }
        let tags = self.tags()?;

        let from_domain = address::domain_of(&from).to_owned();
        let mut builder = MessageBuilder::new()
            .from(Address::new_address(
                from_name.map(Cow::Owned),
                Cow::Owned(from.clone()),
            ))
            .message_id(format!("{}@{from_domain}", uuid::Uuid::new_v4().simple()));
        if !to.is_empty() {
            builder = builder.to(Address::new_list(to));
        }
        if !cc.is_empty() {
            builder = builder.cc(Address::new_list(cc));
        }
        if let Some(r) = &self.reply_to {
            let (email, name) = mailbox("reply_to", r)?;
            builder = builder.reply_to(Address::new_address(
                name.map(Cow::Owned),
                Cow::Owned(email),
            ));
        }
        if let Some(subject) = &self.subject {
            no_line_breaks("subject", subject)?;
            if subject.chars().count() > 998 {
                return Err(field_error("subject", "must be at most 998 characters"));
            }
            builder = builder.subject(Text::new(subject.clone()));
        }
        if self.headers.len() > MAX_HEADERS {
            return Err(field_error(
                "headers",
                format!("at most {MAX_HEADERS} headers"),
            ));
        }
        for (name, value) in &self.headers {
            let field = format!("headers.{name}");
            if !header_name_ok(name) {
                return Err(field_error(
                    "headers",
                    "a header name is 1 to 76 printable ASCII characters without ':'",
                ));
            }
            if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                return Err(field_error(
                    field,
                    "carepost sets this header itself; use the matching field",
                ));
            }
            no_line_breaks(&field, value)?;
            builder = builder.header(name.clone(), Text::new(value.clone()));
        }
        if let Some(text) = &self.text {
            no_nul("text", text)?;
            builder = builder.text_body(text.clone());
        }
        if let Some(html) = &self.html {
            no_nul("html", html)?;
            builder = builder.html_body(html.clone());
        }
        if self.attachments.len() > MAX_ATTACHMENTS {
            return Err(field_error(
                "attachments",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        let mut total = 0usize;
        for (i, a) in self.attachments.iter().enumerate() {
            let field = format!("attachments[{i}]");
            no_line_breaks(&format!("{field}.filename"), &a.filename)?;
            if a.filename.is_empty() || a.filename.chars().count() > 255 {
                return Err(field_error(
                    format!("{field}.filename"),
                    "must be 1 to 255 characters",
                ));
            }
            let content_type = a
                .content_type
                .clone()
                .unwrap_or_else(|| "application/octet-stream".into());
            if !content_type_ok(&content_type) {
                return Err(field_error(
                    format!("{field}.content_type"),
                    "must be a MIME type like application/pdf",
                ));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(a.content.as_bytes())
                .map_err(|_| {
                    field_error(
                        format!("{field}.content"),
                        "must be base64 (standard alphabet, padded)",
                    )
                })?;
            total = total.saturating_add(bytes.len());
            if total > max_size {
                return Err(field_error(
                    format!("{field}.content"),
                    format!("attachments exceed the {max_size}-byte message limit"),
                ));
            }
            builder = builder.attachment(content_type, a.filename.clone(), bytes);
        }
        let content = builder
            .write_to_vec()
            .map_err(|_| field_error("", "the message could not be built"))?;
        if content.len() > max_size {
            return Err(field_error(
                "",
                format!("the message is larger than the {max_size}-byte limit"),
            ));
        }
        Ok(Composed {
            mail_from: from,
            recipients,
            content,
            tags,
        })
    }

    fn tags(&self) -> Result<Vec<String>, FieldError> {
        if self.tags.len() > MAX_TAGS {
            return Err(field_error("tags", format!("at most {MAX_TAGS} tags")));
        }
        for (i, t) in self.tags.iter().enumerate() {
            let ok = (1..=64).contains(&t.len())
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
            if !ok {
                return Err(field_error(
                    format!("tags[{i}]"),
                    "a tag is 1 to 64 letters, digits, '-', '_', '.' or ':'",
                ));
            }
        }
        Ok(self.tags.clone())
    }
}

fn no_nul(field: &str, value: &str) -> Result<(), FieldError> {
    if value.contains('\0') {
        return Err(field_error(field, "must not contain NUL characters"));
    }
    Ok(())
}

fn content_type_ok(ct: &str) -> bool {
    let Some((top, sub)) = ct.split_once('/') else {
        return false;
    };
    let token = |s: &str| {
        !s.is_empty()
            && s.len() <= 127
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    token(top) && token(sub)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(json: serde_json::Value) -> SendRequest {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_full_request_builds_a_message_with_bcc_only_in_the_envelope() {
        let r = request(serde_json::json!({
            "from": {"email": "clinic@Sender.Example", "name": "Valley Clinic"},
            "to": ["maria@dest.example"],
            "cc": [{"email": "care@dest.example"}],
            "bcc": ["audit@sender.example", "maria@dest.example"],
            "subject": "Your appointment",
            "text": "See you Tuesday.",
            "html": "<p>See you Tuesday.</p>",
            "headers": {"X-Campaign": "reminders"},
            "attachments": [{"filename": "visit.txt", "content_type": "text/plain", "content": "aGVsbG8="}],
            "tags": ["reminder"]
        }));
        let m = r.compose(1 << 20).unwrap();
        assert_eq!(m.mail_from, "clinic@sender.example");
        assert_eq!(
            m.recipients,
            [
                "maria@dest.example",
                "care@dest.example",
                "audit@sender.example"
            ]
        );
        let text = String::from_utf8(m.content).unwrap();
        assert!(text.contains("Subject: Your appointment"));
        assert!(text.contains("X-Campaign: reminders"));
        assert!(text.contains("Message-ID: <"));
        assert!(!text.to_lowercase().contains("bcc"), "{text}");
        assert!(!text.contains("audit@sender.example"));
        let parsed = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        assert_eq!(parsed.attachment_count(), 1);
    }

    #[test]
    fn line_breaks_in_header_fields_are_refused_naming_the_field() {
        for (json, field) in [
            (
                serde_json::json!({"from": "a@x.example", "to": ["b@y.example"], "subject": "hi\r\nBcc: e@evil.example", "text": "x"}),
                "subject",
            ),
            (
                serde_json::json!({"from": "a@x.example", "to": [{"email": "b@y.example", "name": "B\nX-Evil: 1"}], "text": "x"}),
                "to[0].name",
            ),
            (
                serde_json::json!({"from": "a@x.example", "to": ["b@y.example"], "headers": {"X-A": "1\r\nBcc: e@evil.example"}, "text": "x"}),
                "headers.X-A",
            ),
            (
                serde_json::json!({"from": "a@x.example", "to": ["b@y.example\r\nRCPT TO:<e@evil.example>"], "text": "x"}),
                "to[0]",
            ),
            (
                serde_json::json!({"from": "a@x.example", "to": ["b@y.example"], "headers": {"From": "e@evil.example"}, "text": "x"}),
                "headers.From",
            ),
        ] {
            let err = request(json).compose(1 << 20).err().unwrap();
            assert_eq!(err.field, field);
            assert!(
                !err.to_string().contains("evil"),
                "errors never quote values: {err}"
            );
        }
    }

    #[test]
    fn requests_without_recipients_body_or_valid_attachments_are_refused() {
        let e = request(serde_json::json!({"from": "a@x.example", "text": "x"}))
            .compose(1 << 20)
            .err()
            .unwrap();
        assert_eq!(e.field, "to");
        let e = request(serde_json::json!({"from": "a@x.example", "to": ["b@y.example"]}))
            .compose(1 << 20)
            .err()
            .unwrap();
        assert_eq!(e.field, "text");
        let e = request(serde_json::json!({"from": "a@x.example", "to": ["b@y.example"], "attachments": [{"filename": "a", "content": "***"}]}))
            .compose(1 << 20)
            .err()
            .unwrap();
        assert_eq!(e.field, "attachments[0].content");
        let e = request(serde_json::json!({"from": "a@x.example", "to": ["b@y.example"], "text": "x".repeat(2000)})).compose(1000).err().unwrap();
        assert!(e.reason.contains("limit"));
        let e = request(serde_json::json!({"from": "a@x.example", "to": ["b@y.example"], "text": "x", "tags": ["has space"]})).compose(1 << 20).err().unwrap();
        assert_eq!(e.field, "tags[0]");
    }
}
