//! The text layer of a PDF.
//!
//! A deliberately small extractor instead of a PDF crate: the PDF crates on crates.io
//! either pull in a large dependency tree (font, image and encryption stacks) for a job
//! that needs none of it, or parse whole object graphs into memory. Scanning needs only
//! the strings shown by text operators: this reads content streams (raw or
//! FlateDecode), keeps the literal and hex strings inside `BT … ET` blocks, and stops at
//! fixed byte limits. Text drawn with custom font encodings comes out unreadable; such a
//! PDF is reported as having no usable text layer, so the policy can decide.

use std::io::Read;

use super::Limits;

/// What reading a PDF's text layer produced. `Debug` shows the text's length only.
#[derive(PartialEq, Eq)]
pub(crate) enum PdfText {
    /// The readable text.
    Text(String),
    /// The document is encrypted.
    Encrypted,
    /// No readable text was found (a scan, or fonts with custom encodings).
    NoTextLayer,
    /// A stream inflated past the limits.
    TooLarge,
}

impl std::fmt::Debug for PdfText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PdfText::Text(text) => write!(f, "Text({} bytes)", text.len()),
            PdfText::Encrypted => f.write_str("Encrypted"),
            PdfText::NoTextLayer => f.write_str("NoTextLayer"),
            PdfText::TooLarge => f.write_str("TooLarge"),
        }
    }
}

/// Extracts the text layer of `pdf`.
pub(crate) fn extract(pdf: &[u8], limits: &Limits) -> PdfText {
    if memchr::memmem::find(pdf, b"/Encrypt").is_some() {
        return PdfText::Encrypted;
    }
    let mut text = String::new();
    let mut budget = limits.max_expanded_bytes;
    let mut pos = 0;
    while let Some(found) = memchr::memmem::find(pdf.get(pos..).unwrap_or_default(), b"stream") {
        let keyword = pos + found;
        let dict_start = keyword.saturating_sub(512);
        let dict = pdf.get(dict_start..keyword).unwrap_or_default();
        let mut body = keyword + b"stream".len();
        if pdf.get(body) == Some(&b'\r') {
            body += 1;
        }
        if pdf.get(body) == Some(&b'\n') {
            body += 1;
        }
        let rest = pdf.get(body..).unwrap_or_default();
        let Some(len) = memchr::memmem::find(rest, b"endstream") else {
            break;
        };
        pos = body + len + b"endstream".len();
        if is_end_keyword(pdf, keyword) || !is_content_stream(dict) {
            continue;
        }
        let data = rest.get(..len).unwrap_or_default();
        let decoded = if memchr::memmem::find(dict, b"FlateDecode").is_some() {
            match inflate(data, budget) {
                Some(d) => d,
                None => return PdfText::TooLarge,
            }
        } else {
            data.to_vec()
        };
        budget = budget.saturating_sub(decoded.len());
        text_operators(&decoded, &mut text);
        if text.len() > limits.max_text_bytes {
            break;
        }
    }
    let readable = text.chars().filter(|c| c.is_ascii_alphanumeric()).count();
    if readable < 3 {
        PdfText::NoTextLayer
    } else {
        PdfText::Text(text)
    }
}

/// Whether the "stream" at `at` is the tail of "endstream".
fn is_end_keyword(pdf: &[u8], at: usize) -> bool {
    at >= 3 && pdf.get(at - 3..at) == Some(b"end")
}

/// Streams that cannot hold page text: images, fonts, metadata, ICC profiles.
fn is_content_stream(dict: &[u8]) -> bool {
    let tail = dict.rsplit(|b| *b == b'o').next().unwrap_or(dict);
    ![
        "/Image",
        "/FontFile",
        "/Length1",
        "/Metadata",
        "/ICCBased",
        "/XRef",
        "/ObjStm",
        "/N 3",
    ]
    .iter()
    .any(|k| memchr::memmem::find(tail, k.as_bytes()).is_some())
}

fn inflate(data: &[u8], budget: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let limit = u64::try_from(budget).unwrap_or(u64::MAX).saturating_add(1);
    let mut decoder = flate2::read::ZlibDecoder::new(data).take(limit);
    // A damaged stream keeps what was decoded before the damage.
    let _ = decoder.read_to_end(&mut out);
    (out.len() <= budget).then_some(out)
}

/// Appends the strings drawn between `BT` and `ET` in a content stream.
fn text_operators(content: &[u8], out: &mut String) {
    let mut i = 0;
    let mut in_text = false;
    while let Some(&b) = content.get(i) {
        match b {
            b'(' if in_text => i = literal_string(content, i + 1, out),
            b'<' if in_text && content.get(i + 1) != Some(&b'<') => {
                i = hex_string(content, i + 1, out)
            }
            b'B' if content.get(i + 1) == Some(&b'T') && is_delimited(content, i, 2) => {
                in_text = true;
                i += 2;
            }
            b'E' if content.get(i + 1) == Some(&b'T') && is_delimited(content, i, 2) => {
                in_text = false;
                out.push('\n');
                i += 2;
            }
            b'T' if in_text && matches!(content.get(i + 1), Some(b'd' | b'D' | b'*')) => {
                out.push(' ');
                i += 2;
            }
            _ => i += 1,
        }
    }
}

fn is_delimited(content: &[u8], at: usize, len: usize) -> bool {
    let before = at.checked_sub(1).and_then(|p| content.get(p));
    let after = content.get(at + len);
    !before.is_some_and(u8::is_ascii_alphanumeric) && !after.is_some_and(u8::is_ascii_alphanumeric)
}

/// Reads a literal string starting after its "(", returning the index after its ")".
fn literal_string(content: &[u8], mut i: usize, out: &mut String) -> usize {
    let mut depth = 1;
    while let Some(&b) = content.get(i) {
        i += 1;
        match b {
            b'\\' => {
                let Some(&e) = content.get(i) else { break };
                i += 1;
                match e {
                    b'n' | b'r' => out.push('\n'),
                    b't' => out.push(' '),
                    b'0'..=b'7' => {
                        let mut code = u32::from(e - b'0');
                        for _ in 0..2 {
                            match content.get(i) {
                                Some(&d @ b'0'..=b'7') => {
                                    code = code * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => break,
                            }
                        }
                        out.push(char::from_u32(code).unwrap_or(' '));
                    }
                    other => out.push(char::from(other)),
                }
            }
            b'(' => {
                depth += 1;
                out.push('(');
            }
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return i;
                }
                out.push(')');
            }
            other => out.push(char::from(other)),
        }
    }
    i
}

/// Reads a hex string starting after its "<" (single-byte codes), returning the index
/// after its ">".
fn hex_string(content: &[u8], mut i: usize, out: &mut String) -> usize {
    let mut high: Option<u8> = None;
    while let Some(&b) = content.get(i) {
        i += 1;
        if b == b'>' {
            break;
        }
        let Some(v) = char::from(b).to_digit(16) else {
            continue;
        };
        let v = u8::try_from(v).unwrap_or(0);
        match high.take() {
            Some(h) => {
                let byte = h * 16 + v;
                if byte.is_ascii_graphic() || byte == b' ' {
                    out.push(char::from(byte));
                }
            }
            None => high = Some(v),
        }
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf_with(content: &[u8], compress: bool) -> Vec<u8> {
        let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Length 99".to_vec();
        let body = if compress {
            pdf.extend_from_slice(b" /Filter /FlateDecode");
            let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut e, content).unwrap();
            e.finish().unwrap()
        } else {
            content.to_vec()
        };
        pdf.extend_from_slice(b" >>\nstream\n");
        pdf.extend_from_slice(&body);
        pdf.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
        pdf
    }

    #[test]
    fn extracts_text_from_plain_and_compressed_content_streams() {
        let content = b"BT /F1 12 Tf 72 712 Td (Patient SSN: 524-71-3302) Tj ET";
        for compress in [false, true] {
            match extract(&pdf_with(content, compress), &Limits::default()) {
                PdfText::Text(t) => assert!(t.contains("SSN: 524-71-3302"), "{compress}"),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn reports_encrypted_and_textless_pdfs() {
        assert_eq!(
            extract(b"%PDF-1.7 trailer << /Encrypt 5 0 R >>", &Limits::default()),
            PdfText::Encrypted
        );
        assert_eq!(
            extract(&pdf_with(b"q 1 0 0 1 0 0 cm Q", false), &Limits::default()),
            PdfText::NoTextLayer
        );
    }
}
