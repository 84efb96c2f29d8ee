//! The MIME walker: the scannable text of a raw RFC 5322 message.
//!
//! It extracts the subject, selected headers (recipient display names, comments,
//! keywords), text and HTML bodies (visible text only) and attachments (text, CSV,
//! HTML, PDF text layer, DOCX, zip archives, nested messages). Attachments it cannot read
//! are reported with a typed [`AttachmentOutcome`], so the policy can decide. Malformed
//! input gives a [`WalkedMessage`] flagged as such, never a panic; every size it handles is
//! bounded by [`Limits`].

mod archive;
pub mod html;
mod pdf;

use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde::Serialize;

/// Bounds on the work and memory the walker spends on one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Larger messages are not parsed (reported as [`WalkedMessage::too_large`]).
    pub max_message_bytes: usize,
    /// Larger attachments (or archive entries) are reported as too large, unread.
    pub max_attachment_bytes: usize,
    /// Total bytes inflated from archives and PDF streams for one message.
    pub max_expanded_bytes: usize,
    /// Total text extracted for scanning; the rest is cut (and flagged).
    pub max_text_bytes: usize,
    /// Archives nested deeper than this are reported as too deep.
    pub max_archive_depth: usize,
    /// Archives with more entries are refused.
    pub max_archive_entries: usize,
    /// Entries whose size exceeds their packed size by more than this factor are refused.
    pub max_compression_ratio: usize,
    /// MIME parts beyond this many are not inspected (and flagged).
    pub max_parts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 * 1024 * 1024,
            max_attachment_bytes: 32 * 1024 * 1024,
            max_expanded_bytes: 64 * 1024 * 1024,
            max_text_bytes: 16 * 1024 * 1024,
            max_archive_depth: 3,
            max_archive_entries: 1_000,
            max_compression_ratio: 100,
            max_parts: 500,
        }
    }
}

/// Where a piece of extracted text came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Origin {
    /// The Subject header.
    Subject,
    /// Selected other headers.
    Header,
    /// A text/plain body.
    PlainBody,
    /// A text/html body (visible text).
    HtmlBody,
    /// The attachment with this index in [`WalkedMessage::attachments`].
    Attachment(usize),
}

/// A piece of text to scan. Its `Debug` output shows the origin and length only.
#[derive(Clone, PartialEq, Eq)]
pub struct TextPart {
    /// Where it came from.
    pub origin: Origin,
    /// The text.
    pub text: String,
}

impl std::fmt::Debug for TextPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextPart")
            .field("origin", &self.origin)
            .field("bytes", &self.text.len())
            .finish()
    }
}

/// What happened to an attachment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum AttachmentOutcome {
    /// Its text was extracted and will be scanned.
    Inspected,
    /// A format the walker cannot read (images, office formats other than DOCX, …).
    Unsupported,
    /// Encrypted (password-protected zip or PDF, PGP, S/MIME).
    Encrypted,
    /// A PDF without a readable text layer (scanned pages, custom font encodings).
    NoTextLayer,
    /// Larger than the limits.
    TooLarge,
    /// An archive nested deeper than the limit.
    TooDeep,
    /// An archive with more entries than the limit.
    TooManyEntries,
    /// An archive entry whose compression ratio exceeds the limit.
    ArchiveBomb,
    /// Damaged beyond reading.
    Malformed,
}

impl AttachmentOutcome {
    /// Whether the attachment's content was read in full.
    pub fn inspected(self) -> bool {
        self == AttachmentOutcome::Inspected
    }
}

/// An attachment report: its media type, file extension and outcome (no file name:
/// names can identify patients).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttachmentReport {
    /// The declared media type, lower-cased (`application/pdf`).
    pub media_type: String,
    /// The file name's extension, lower-cased, with its dot (`.pdf`), when short.
    pub extension: Option<String>,
    /// What the walker could do with it.
    pub outcome: AttachmentOutcome,
}

/// The result of walking a message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WalkedMessage {
    /// Text to scan, by origin.
    pub parts: Vec<TextPart>,
    /// One report per attachment.
    pub attachments: Vec<AttachmentReport>,
    /// The message could not be parsed as MIME at all.
    pub malformed: bool,
    /// The message exceeded [`Limits::max_message_bytes`] and was not parsed.
    pub too_large: bool,
    /// Some text was left out because a limit was reached.
    pub truncated: bool,
}

impl WalkedMessage {
    /// How many attachments could not be inspected.
    pub fn uninspectable(&self) -> u32 {
        let count = self
            .attachments
            .iter()
            .filter(|a| !a.outcome.inspected())
            .count();
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

/// Text gathered while reading one attachment, with the running expansion budget.
#[derive(Default)]
pub(crate) struct Extracted {
    pub texts: Vec<String>,
    pub expanded: usize,
    /// Archive entries opened so far, at every nesting level.
    pub entries: usize,
    pub text_bytes: usize,
    pub truncated: bool,
}

impl Extracted {
    pub(crate) fn push_text(&mut self, mut text: String, limits: &Limits) {
        let room = limits.max_text_bytes.saturating_sub(self.text_bytes);
        if text.len() > room {
            let mut cut = room;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
            self.truncated = true;
        }
        self.text_bytes += text.len();
        if !text.is_empty() {
            self.texts.push(text);
        }
    }
}

/// Walks a raw message with the default [`Limits`].
pub fn walk(raw: &[u8]) -> WalkedMessage {
    walk_with(raw, &Limits::default())
}

/// Walks a raw message with explicit limits.
pub fn walk_with(raw: &[u8], limits: &Limits) -> WalkedMessage {
    let mut walked = WalkedMessage::default();
    if raw.len() > limits.max_message_bytes {
        walked.too_large = true;
        return walked;
    }
    let Some(message) = MessageParser::default().parse(raw) else {
        walked.malformed = true;
        return walked;
    };
    let mut budget = Extracted::default();
    walk_message(&message, 0, limits, &mut walked, &mut budget);
    walked.truncated |= budget.truncated;
    walked
}

fn walk_message(
    message: &mail_parser::Message<'_>,
    depth: usize,
    limits: &Limits,
    walked: &mut WalkedMessage,
    budget: &mut Extracted,
) {
    if let Some(subject) = message.subject() {
        push(walked, budget, limits, Origin::Subject, subject.to_owned());
    }
    push(
        walked,
        budget,
        limits,
        Origin::Header,
        selected_headers(message),
    );
    for (index, part) in message.parts.iter().enumerate() {
        if index >= limits.max_parts {
            walked.truncated = true;
            break;
        }
        let is_attachment = message
            .attachments
            .contains(&u32::try_from(index).unwrap_or(u32::MAX));
        match &part.body {
            PartType::Text(text) if !is_attachment => {
                push(walked, budget, limits, Origin::PlainBody, text.to_string());
            }
            PartType::Html(html) if !is_attachment => {
                push(
                    walked,
                    budget,
                    limits,
                    Origin::HtmlBody,
                    html::visible_text(html),
                );
            }
            PartType::Message(inner) if depth < limits.max_archive_depth => {
                walk_message(inner, depth + 1, limits, walked, budget);
            }
            PartType::Multipart(_) => {}
            _ => attachment(part, depth, limits, walked, budget),
        }
    }
}

/// Display names of recipients and free-text headers that people fill in.
fn selected_headers(message: &mail_parser::Message<'_>) -> String {
    let mut text = String::new();
    for list in [message.to(), message.cc()].into_iter().flatten() {
        for addr in list.iter() {
            if let Some(name) = addr.name() {
                text.push_str(name);
                text.push('\n');
            }
        }
    }
    for name in ["Comments", "Keywords", "Thread-Topic"] {
        if let Some(value) = message.header_raw(name) {
            text.push_str(value.trim());
            text.push('\n');
        }
    }
    text
}

fn push(
    walked: &mut WalkedMessage,
    budget: &mut Extracted,
    limits: &Limits,
    origin: Origin,
    text: String,
) {
    let before = budget.texts.len();
    budget.push_text(text, limits);
    if budget.texts.len() > before
        && let Some(text) = budget.texts.pop()
    {
        walked.parts.push(TextPart { origin, text });
    }
}

fn attachment(
    part: &mail_parser::MessagePart<'_>,
    depth: usize,
    limits: &Limits,
    walked: &mut WalkedMessage,
    budget: &mut Extracted,
) {
    let media_type = part
        .content_type()
        .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("")).to_ascii_lowercase())
        .unwrap_or_else(|| "application/octet-stream".into());
    let extension = part.attachment_name().and_then(|n| {
        let ext = n.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
        (ext.len() <= 8 && ext.bytes().all(|b| b.is_ascii_alphanumeric()))
            .then(|| format!(".{ext}"))
    });
    let index = walked.attachments.len();
    let data = part.contents();
    let outcome = if data.len() > limits.max_attachment_bytes {
        AttachmentOutcome::TooLarge
    } else {
        let mut extracted = Extracted {
            expanded: budget.expanded,
            text_bytes: budget.text_bytes,
            entries: budget.entries,
            ..Extracted::default()
        };
        let hint = Some(media_type.as_str()).filter(|_| extension.as_deref() != Some(".bin"));
        let outcome = extract_attachment(data, hint, depth, limits, &mut extracted);
        budget.expanded = extracted.expanded;
        budget.text_bytes = extracted.text_bytes;
        budget.entries = extracted.entries;
        walked.truncated |= extracted.truncated;
        for text in extracted.texts {
            walked.parts.push(TextPart {
                origin: Origin::Attachment(index),
                text,
            });
        }
        outcome
    };
    walked.attachments.push(AttachmentReport {
        media_type,
        extension,
        outcome,
    });
}

/// Extracts the text of one attachment or archive entry, sniffing its format from its
/// first bytes (the declared media type only breaks ties for text).
pub(crate) fn extract_attachment(
    data: &[u8],
    media_type: Option<&str>,
    depth: usize,
    limits: &Limits,
    out: &mut Extracted,
) -> AttachmentOutcome {
    let media_type = media_type.unwrap_or("");
    if data.starts_with(b"%PDF-") {
        return match pdf::extract(data, limits) {
            pdf::PdfText::Text(text) => {
                out.push_text(text, limits);
                AttachmentOutcome::Inspected
            }
            pdf::PdfText::Encrypted => AttachmentOutcome::Encrypted,
            pdf::PdfText::NoTextLayer => AttachmentOutcome::NoTextLayer,
            pdf::PdfText::TooLarge => AttachmentOutcome::TooLarge,
        };
    }
    if archive::is_zip(data) {
        return archive::extract_zip(data, depth, limits, out);
    }
    if is_encrypted(data, media_type) {
        return AttachmentOutcome::Encrypted;
    }
    let Some(text) = as_text(data) else {
        return AttachmentOutcome::Unsupported;
    };
    let looks_html = media_type.contains("html") || starts_like_html(&text);
    out.push_text(
        if looks_html {
            html::visible_text(&text)
        } else {
            text
        },
        limits,
    );
    AttachmentOutcome::Inspected
}

fn is_encrypted(data: &[u8], media_type: &str) -> bool {
    let head = data.get(..data.len().min(256)).unwrap_or_default();
    media_type.contains("pkcs7-mime")
        || media_type.contains("pgp-encrypted")
        || memchr::memmem::find(head, b"-----BEGIN PGP MESSAGE-----").is_some()
}

/// The data as text when it is UTF-8 (or Latin-1 without control characters) and not
/// binary: at most 1% control characters.
fn as_text(data: &[u8]) -> Option<String> {
    let controls = data
        .iter()
        .filter(|b| **b < 0x20 && !matches!(**b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    if controls * 100 > data.len() {
        return None;
    }
    match std::str::from_utf8(data) {
        Ok(text) => Some(text.to_owned()),
        Err(_) => {
            let high = data.iter().filter(|b| **b >= 0x80).count();
            (high * 10 <= data.len()).then(|| data.iter().map(|b| char::from(*b)).collect())
        }
    }
}

fn starts_like_html(text: &str) -> bool {
    let head: String = text
        .trim_start()
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype html") || head.starts_with("<html") || head.starts_with("<body")
}
