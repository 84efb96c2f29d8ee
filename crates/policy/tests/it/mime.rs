//! The MIME walker and the evaluation of raw messages.

use std::io::{Cursor, Write};

use carepost_policy::PatientNameIndex;
use carepost_policy::message::evaluate_message;
use carepost_policy::mime::{AttachmentOutcome, Limits, Origin, walk, walk_with};
use carepost_policy::rules::{Disposition, MessageFacts, RuleSet};

use super::support::scanner;

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if out.len() % 77 == 76 {
            out.push_str("\r\n");
        }
    }
    out
}

fn message(subject: &str, parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut raw = format!(
        "From: clinic@example.org\r\nTo: Maria Lopez <maria@example.net>\r\nSubject: {subject}\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
    );
    for (content_type, name, body) in parts {
        raw.push_str("--b1\r\n");
        raw.push_str(&format!("Content-Type: {content_type}\r\n"));
        if name.is_empty() {
            raw.push_str(&format!("\r\n{}\r\n", String::from_utf8_lossy(body)));
        } else {
            raw.push_str(&format!(
                "Content-Disposition: attachment; filename=\"{name}\"\r\n\
                 Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                base64(body)
            ));
        }
    }
    raw.push_str("--b1--\r\n");
    raw.into_bytes()
}

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

fn pdf_with_text(text: &str) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 712 Td ({text}) Tj ET");
    format!(
        "%PDF-1.4\n1 0 obj\n<< /Length {} >>\nstream\n{content}\nendstream\nendobj\ntrailer << >>\n%%EOF\n",
        content.len()
    )
    .into_bytes()
}

fn docx_with_text(text: &str) -> Vec<u8> {
    let xml = format!(
        "<?xml version=\"1.0\"?><w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    );
    zip_of(&[
        ("[Content_Types].xml", b"<Types/>"),
        ("word/document.xml", xml.as_bytes()),
    ])
}

fn attachment_text(raw: &[u8]) -> String {
    walk(raw)
        .parts
        .iter()
        .filter(|p| matches!(p.origin, Origin::Attachment(_)))
        .map(|p| p.text.clone())
        .collect()
}

#[test]
fn extracts_subject_recipient_names_plain_and_visible_html_text() {
    let raw = message(
        "Your results",
        &[
            (
                "text/plain; charset=utf-8",
                "",
                b"Plain body with SSN 524-71-3302",
            ),
            (
                "text/html; charset=utf-8",
                "",
                b"<p>HTML&nbsp;body</p><script>var hidden=1</script>",
            ),
        ],
    );
    let walked = walk(&raw);
    let origin_text = |o: Origin| {
        walked
            .parts
            .iter()
            .find(|p| p.origin == o)
            .map(|p| p.text.clone())
    };
    assert_eq!(
        origin_text(Origin::Subject).as_deref(),
        Some("Your results")
    );
    assert!(origin_text(Origin::Header).unwrap().contains("Maria Lopez"));
    assert!(
        origin_text(Origin::PlainBody)
            .unwrap()
            .contains("524-71-3302")
    );
    let html = origin_text(Origin::HtmlBody).unwrap();
    assert!(html.contains("HTML body") && !html.contains("hidden"));
    assert!(!walked.malformed && walked.attachments.is_empty());
}

#[test]
fn reads_csv_html_pdf_and_docx_attachments() {
    let raw = message(
        "files",
        &[
            ("text/csv", "list.csv", b"name,ssn\nAnn Lee,524-71-3302\n"),
            (
                "text/html",
                "page.html",
                b"<html><body><b>DOB</b>: 01/02/1950</body></html>",
            ),
            (
                "application/pdf",
                "lab.pdf",
                &pdf_with_text("Potassium 6.1 for MRN 00482913"),
            ),
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "note.docx",
                &docx_with_text("Dx E11.9"),
            ),
        ],
    );
    let walked = walk(&raw);
    assert!(
        walked
            .attachments
            .iter()
            .all(|a| a.outcome == AttachmentOutcome::Inspected),
        "{walked:?}"
    );
    let text = attachment_text(&raw);
    for needle in [
        "524-71-3302",
        "DOB : 01/02/1950",
        "MRN 00482913",
        "Dx E11.9",
    ] {
        assert!(text.contains(needle), "missing {needle}");
    }
    let extensions: Vec<_> = walked
        .attachments
        .iter()
        .map(|a| a.extension.clone().unwrap())
        .collect();
    assert_eq!(extensions, [".csv", ".html", ".pdf", ".docx"]);
}

#[test]
fn reads_zip_archives_and_nested_messages() {
    let inner = b"From: a@example.org\r\nSubject: inner\r\n\r\nSSN 524-71-3302\r\n";
    let raw = message(
        "archive",
        &[
            (
                "application/zip",
                "records.zip",
                &zip_of(&[("a.txt", b"MRN 00482913"), ("dir/b.csv", b"x,y\n1,2")]),
            ),
            ("message/rfc822", "", inner),
        ],
    );
    let walked = walk(&raw);
    assert_eq!(walked.attachments[0].outcome, AttachmentOutcome::Inspected);
    let all: String = walked.parts.iter().map(|p| p.text.as_str()).collect();
    assert!(all.contains("MRN 00482913") && all.contains("SSN 524-71-3302"));
}

#[test]
fn reports_zip_bombs_deep_nesting_and_entry_floods() {
    let bomb = zip_of(&[("zeros", &vec![0u8; 8 << 20])]);
    let mut nested = zip_of(&[("a.txt", b"hello")]);
    for _ in 0..6 {
        nested = zip_of(&[("inner.zip", &nested)]);
    }
    let names: Vec<String> = (0..30).map(|i| format!("f{i}.txt")).collect();
    let flood_entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let flood = zip_of(&flood_entries);
    let raw = message(
        "z",
        &[
            ("application/zip", "bomb.zip", &bomb),
            ("application/zip", "deep.zip", &nested),
            ("application/zip", "flood.zip", &flood),
        ],
    );
    let limits = Limits {
        max_archive_entries: 20,
        ..Limits::default()
    };
    let outcomes: Vec<_> = walk_with(&raw, &limits)
        .attachments
        .iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [
            AttachmentOutcome::ArchiveBomb,
            AttachmentOutcome::TooDeep,
            AttachmentOutcome::TooManyEntries
        ]
    );
}

#[test]
fn reports_encrypted_unknown_textless_and_oversized_attachments() {
    let mut encrypted = zip_of(&[("secret.txt", b"SSN 524-71-3302")]);
    // Set the "encrypted" flag in the local and central headers.
    for signature in [&b"PK\x03\x04"[..], b"PK\x01\x02"] {
        let at = encrypted.windows(4).position(|w| w == signature).unwrap();
        let flag = at + if signature[2] == 3 { 6 } else { 8 };
        encrypted[flag] |= 1;
    }
    let png =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00";
    let scanned_pdf =
        b"%PDF-1.4\n1 0 obj\n<< /Length 9 >>\nstream\nq 1 0 0 Q\nendstream\nendobj\n%%EOF";
    let pgp = b"-----BEGIN PGP MESSAGE-----\nhQEMA...\n-----END PGP MESSAGE-----\n";
    let raw = message(
        "x",
        &[
            ("application/zip", "e.zip", &encrypted),
            ("image/png", "scan.png", png),
            ("application/pdf", "scan.pdf", scanned_pdf),
            ("application/pgp-encrypted", "m.asc", pgp),
            ("application/pdf", "big.pdf", &vec![b'%'; 2048]),
        ],
    );
    let limits = Limits {
        max_attachment_bytes: 1024,
        ..Limits::default()
    };
    let outcomes: Vec<_> = walk_with(&raw, &limits)
        .attachments
        .iter()
        .map(|a| a.outcome)
        .collect();
    assert_eq!(
        outcomes,
        [
            AttachmentOutcome::Encrypted,
            AttachmentOutcome::Unsupported,
            AttachmentOutcome::NoTextLayer,
            AttachmentOutcome::Encrypted,
            AttachmentOutcome::TooLarge,
        ]
    );
}

#[test]
fn survives_malformed_messages_and_wrong_charsets() {
    let latin1 = b"Subject: caf\xe9\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nJos\xe9 SSN 524-71-3302\r\n";
    let walked = walk(latin1);
    assert!(walked.parts.iter().any(|p| p.text.contains("524-71-3302")));
    let broken = b"Content-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!notbase64\r\n";
    let _ = walk(broken);
    assert!(walk(b"").malformed || walk(b"").parts.is_empty());
}

#[test]
fn quarantines_messages_it_cannot_inspect_and_blocks_phi_subjects() {
    let rules = RuleSet::default();
    let names = PatientNameIndex::empty();
    let png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR";
    let raw = message(
        "Scan",
        &[
            ("text/plain", "", b"see attached"),
            ("image/png", "x.png", png),
        ],
    );
    let verdict = evaluate_message(&scanner(), &names, &rules, &raw, MessageFacts::default());
    assert_eq!(verdict.decision.disposition, Disposition::Quarantine);

    let raw = message("SSN 524-71-3302", &[("text/plain", "", b"hello")]);
    let verdict = evaluate_message(&scanner(), &names, &rules, &raw, MessageFacts::default());
    assert_eq!(verdict.decision.disposition, Disposition::Block);
    assert!(verdict.assessment.contains_phi);
    assert!(!format!("{verdict:?}").contains("524-71"));

    let raw = message(
        "Hello",
        &[(
            "text/plain",
            "",
            b"Dear Maria Lopez, your MRI of the knee was normal.",
        )],
    );
    let verdict = evaluate_message(&scanner(), &names, &rules, &raw, MessageFacts::default());
    assert_eq!(verdict.decision.disposition, Disposition::Deliver);
    assert!(verdict.decision.contains_phi);
}

#[test]
fn refuses_messages_over_the_size_limit_without_parsing_them() {
    let raw = message("x", &[("text/plain", "", &vec![b'a'; 4096])]);
    let walked = walk_with(
        &raw,
        &Limits {
            max_message_bytes: 1024,
            ..Limits::default()
        },
    );
    assert!(walked.too_large && walked.parts.is_empty());
}
