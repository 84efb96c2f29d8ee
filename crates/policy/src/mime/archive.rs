//! Zip archives and the DOCX documents built on them.
//!
//! Every entry is checked against the limits before it is read: the declared size, the
//! compression ratio (a zip bomb inflates a few kilobytes into gigabytes), the number of
//! entries and the nesting depth. Reads are capped at the declared size, so an entry that
//! lies about its size cannot exceed the budget either.

use std::io::{Cursor, Read};

use quick_xml::events::Event;

use super::{AttachmentOutcome, Extracted, Limits, extract_attachment};

/// Whether `data` starts like a zip archive.
pub(crate) fn is_zip(data: &[u8]) -> bool {
    data.starts_with(b"PK\x03\x04") || data.starts_with(b"PK\x05\x06")
}

/// Reads a zip archive (or a DOCX) and extracts the text of its entries.
pub(crate) fn extract_zip(
    data: &[u8],
    depth: usize,
    limits: &Limits,
    out: &mut Extracted,
) -> AttachmentOutcome {
    if depth > limits.max_archive_depth {
        return AttachmentOutcome::TooDeep;
    }
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(data)) else {
        return AttachmentOutcome::Malformed;
    };
    out.entries = out.entries.saturating_add(archive.len());
    // The entry limit holds per archive and, ten times over, for all nested archives of
    // a message together, so nesting cannot multiply it.
    if archive.len() > limits.max_archive_entries
        || out.entries > limits.max_archive_entries.saturating_mul(10)
    {
        return AttachmentOutcome::TooManyEntries;
    }
    if archive.index_for_name("word/document.xml").is_some() {
        return docx(&mut archive, limits, out);
    }
    let mut worst = AttachmentOutcome::Inspected;
    for index in 0..archive.len() {
        let entry = match read_entry(&mut archive, index, limits, out.expanded) {
            Ok(Some(entry)) => entry,
            Ok(None) => continue,
            Err(outcome) => return outcome,
        };
        out.expanded += entry.len();
        let outcome = extract_attachment(&entry, None, depth + 1, limits, out);
        if outcome != AttachmentOutcome::Inspected && worst == AttachmentOutcome::Inspected {
            worst = outcome;
        }
    }
    worst
}

/// Reads one entry within the limits; `None` for directories.
fn read_entry(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    index: usize,
    limits: &Limits,
    expanded: usize,
) -> Result<Option<Vec<u8>>, AttachmentOutcome> {
    let entry = archive.by_index(index).map_err(|e| match e {
        zip::result::ZipError::UnsupportedArchive(zip::result::ZipError::PASSWORD_REQUIRED)
        | zip::result::ZipError::InvalidPassword => AttachmentOutcome::Encrypted,
        zip::result::ZipError::UnsupportedArchive(_)
        | zip::result::ZipError::CompressionMethodNotSupported(_) => AttachmentOutcome::Unsupported,
        _ => AttachmentOutcome::Malformed,
    })?;
    if entry.encrypted() {
        return Err(AttachmentOutcome::Encrypted);
    }
    if entry.is_dir() {
        return Ok(None);
    }
    let size = usize::try_from(entry.size()).unwrap_or(usize::MAX);
    let packed = usize::try_from(entry.compressed_size())
        .unwrap_or(usize::MAX)
        .max(1);
    if size / packed > limits.max_compression_ratio {
        return Err(AttachmentOutcome::ArchiveBomb);
    }
    if size > limits.max_attachment_bytes
        || expanded.saturating_add(size) > limits.max_expanded_bytes
    {
        return Err(AttachmentOutcome::TooLarge);
    }
    let mut data = Vec::with_capacity(size.min(1 << 20));
    let cap = u64::try_from(size).unwrap_or(0).saturating_add(1);
    entry
        .take(cap)
        .read_to_end(&mut data)
        .map_err(|_| AttachmentOutcome::Malformed)?;
    if data.len() > size {
        return Err(AttachmentOutcome::ArchiveBomb);
    }
    Ok(Some(data))
}

/// The paragraphs of a DOCX body, headers and footers.
fn docx(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    limits: &Limits,
    out: &mut Extracted,
) -> AttachmentOutcome {
    let parts: Vec<usize> = (0..archive.len())
        .filter(|&i| {
            archive
                .name_for_index(i)
                .and_then(Result::ok)
                .is_some_and(|n| {
                    n == "word/document.xml"
                        || (n.starts_with("word/")
                            && (n.contains("header") || n.contains("footer")))
                })
        })
        .collect();
    for index in parts {
        match read_entry(archive, index, limits, out.expanded) {
            Ok(Some(xml)) => {
                out.expanded += xml.len();
                match docx_text(&xml) {
                    Some(text) => out.push_text(text, limits),
                    None => return AttachmentOutcome::Malformed,
                }
            }
            Ok(None) => {}
            Err(outcome) => return outcome,
        }
    }
    AttachmentOutcome::Inspected
}

/// The text of `<w:t>` runs, one line per `<w:p>` paragraph.
fn docx_text(xml: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut text = String::new();
    let mut in_run_text = false;
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_event_into(&mut buf).ok()? {
            Event::Start(e) if e.local_name().as_ref() == b"t" => in_run_text = true,
            Event::End(e) if e.local_name().as_ref() == b"t" => in_run_text = false,
            Event::End(e) if e.local_name().as_ref() == b"p" => text.push('\n'),
            Event::Empty(e) if matches!(e.local_name().as_ref(), b"tab" | b"br") => text.push(' '),
            Event::Text(t) if in_run_text => {
                let raw = String::from_utf8_lossy(t.as_ref()).into_owned();
                text.push_str(&super::html::visible_text(&raw));
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    pub(crate) fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    #[test]
    fn reads_docx_paragraphs() {
        let xml = br#"<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>SSN 524-71-3302</w:t></w:r></w:p></w:body></w:document>"#;
        let docx = zip_of(&[("word/document.xml", xml)]);
        let mut out = Extracted::default();
        assert_eq!(
            extract_zip(&docx, 0, &Limits::default(), &mut out),
            AttachmentOutcome::Inspected
        );
        assert!(out.texts[0].contains("524-71-3302"));
    }

    #[test]
    fn refuses_zip_bombs_by_ratio() {
        let zeros = vec![0u8; 4 * 1024 * 1024];
        let bomb = zip_of(&[("zeros.txt", &zeros)]);
        let mut out = Extracted::default();
        assert_eq!(
            extract_zip(&bomb, 0, &Limits::default(), &mut out),
            AttachmentOutcome::ArchiveBomb
        );
    }

    #[test]
    fn refuses_archives_nested_too_deep() {
        let mut nested = zip_of(&[("a.txt", b"hello")]);
        for _ in 0..5 {
            nested = zip_of(&[("inner.zip", &nested)]);
        }
        let mut out = Extracted::default();
        assert_eq!(
            extract_zip(&nested, 0, &Limits::default(), &mut out),
            AttachmentOutcome::TooDeep
        );
    }
}
