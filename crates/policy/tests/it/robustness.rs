//! Random input through the scanner and the MIME walker: no panic, bounded output.
//! A deterministic stand-in for the fuzz targets, so CI exercises them without cargo-fuzz.

use carepost_policy::mime::{Limits, walk_with};
use carepost_policy::{PatientNameIndex, assess};

use super::support::{Lcg, scanner};

const ROUNDS: usize = 400;

/// Pieces that steer random input towards the interesting paths.
const PIECES: &[&[u8]] = &[
    b"SSN 524-71-3302",
    b"DOB: 1/2/1950",
    b"Dear Maria Lopez",
    b"Content-Type: multipart/mixed; boundary=\"b\"\r\n",
    b"--b\r\n",
    b"Content-Transfer-Encoding: base64\r\n",
    b"PK\x03\x04",
    b"%PDF-1.4 stream\n",
    b"endstream",
    b"BT (x) Tj ET",
    b"<html><script>",
    b"&#x1F600;",
    b"\r\n\r\n",
    b"name,dob,mrn\n",
    b"\xff\xfe\xc3",
    b"Z\xcc\x81",
    b"https://x.example/patients/123456",
    b"4111 1111 1111 1111",
    b"MRN 00482913",
    b"\xe2\x80\x94",
];

fn random_input(rng: &mut Lcg) -> Vec<u8> {
    let mut data = Vec::new();
    let len = rng.below(4096);
    while data.len() < len {
        if rng.below(4) == 0 {
            data.extend_from_slice(PIECES[rng.below(PIECES.len())]);
        } else {
            data.push(rng.next_u8());
        }
    }
    data
}

#[test]
fn scans_random_text_without_panicking_and_with_valid_offsets() {
    let scanner = scanner();
    let names = PatientNameIndex::new(["Maria Lopez", "Zoë Núñez"]).unwrap();
    let mut rng = Lcg(0x00c0_ffee);
    for _ in 0..ROUNDS {
        let text = String::from_utf8_lossy(&random_input(&mut rng)).into_owned();
        let result = scanner.scan(&text, &names);
        let _ = assess(&result);
        for f in &result.findings {
            assert!(text.is_char_boundary(f.bytes.start) && text.is_char_boundary(f.bytes.end));
            assert_eq!(text[..f.bytes.start].chars().count(), f.chars.start);
            assert!(
                f.bytes.start < f.bytes.end
                    && f.chars.end - f.chars.start <= f.bytes.end - f.bytes.start
            );
        }
    }
}

#[test]
fn walks_random_messages_without_panicking_and_within_limits() {
    let limits = Limits {
        max_text_bytes: 8192,
        max_attachment_bytes: 1 << 16,
        ..Limits::default()
    };
    let mut rng = Lcg(0x0bad_5eed);
    for _ in 0..ROUNDS {
        let mut raw =
            b"Subject: x\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n".to_vec();
        raw.extend(random_input(&mut rng));
        let walked = walk_with(&raw, &limits);
        let total: usize = walked.parts.iter().map(|p| p.text.len()).sum();
        assert!(total <= limits.max_text_bytes);
    }
}

#[test]
fn scans_adversarial_text_in_bounded_time() {
    let scanner = scanner();
    let names = PatientNameIndex::new(["Maria Lopez"]).unwrap();
    let inputs = [
        "1/1/2000,".repeat(60_000),
        "name,dob,mrn\n".to_owned() + &"1/1/2000,2/2/2001,12345678\n".repeat(20_000),
        "Maria Maria Maria ".repeat(30_000),
        "a".repeat(500_000),
        "524-71-3302 ".repeat(40_000),
        "Dear Dear Dear ".repeat(30_000),
        "<script>".repeat(60_000),
    ];
    for text in &inputs {
        let started = std::time::Instant::now();
        let result = scanner.scan(text, &names);
        let _ = assess(&result);
        let html = carepost_policy::mime::html::visible_text(text);
        assert!(html.len() <= text.len() * 2);
        let elapsed = started.elapsed();
        assert!(
            elapsed < std::time::Duration::from_secs(20),
            "{} bytes took {elapsed:?}",
            text.len()
        );
    }
}
