use std::path::PathBuf;
use std::process::Command;

use carepost_gateway::dkim::{DkimAlgorithm, Signer, generate};

const VERIFY: &str = r#"
import sys, dkim
message = open(sys.argv[1], 'rb').read()
records = {}
for line in open(sys.argv[2]).read().splitlines():
    name, value = line.split(' ', 1)
    records[name.encode()] = value.encode()
def dnsfunc(name, timeout=5):
    if isinstance(name, str):
        name = name.encode()
    return records.get(name.rstrip(b'.'))
count = message.count(b'DKIM-Signature:')
for index in range(count):
    if not dkim.DKIM(message).verify(idx=index, dnsfunc=dnsfunc):
        print('signature', index, 'failed')
        sys.exit(1)
print('verified', count)
"#;

/// A Python with dkimpy: `CAREPOST_PYTHON`, Debian's python3, or the first python3 on PATH.
fn python_with_dkimpy() -> Option<PathBuf> {
    let candidates = std::env::var_os("CAREPOST_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([PathBuf::from("/usr/bin/python3"), PathBuf::from("python3")]);
    candidates.into_iter().find(|python| {
        Command::new(python)
            .args(["-c", "import dkim, nacl"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn dkimpy_verifies_our_rsa_and_ed25519_signatures_including_bodies_ending_in_blank_lines() {
    let Some(python) = python_with_dkimpy() else {
        eprintln!(
            "\n\n*** SKIPPED: dkimpy is not installed; install python3-dkim (apt) to verify DKIM signatures ***\n\n"
        );
        return;
    };
    let rsa = generate(DkimAlgorithm::Rsa2048, "clinic.example", "rsa2026").unwrap();
    let ed = generate(DkimAlgorithm::Ed25519, "clinic.example", "ed2026").unwrap();
    let mut signer = Signer::new(
        "clinic.example",
        "rsa2026",
        DkimAlgorithm::Rsa2048,
        &rsa.private_key,
    )
    .unwrap();
    signer
        .add(
            "clinic.example",
            "ed2026",
            DkimAlgorithm::Ed25519,
            &ed.private_key,
        )
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let zone = dir.path().join("zone.txt");
    let zone_text = format!(
        "{} {}\n{} {}\n",
        rsa.dns_name(),
        rsa.dns_txt(),
        ed.dns_name(),
        ed.dns_txt()
    );
    std::fs::write(&zone, zone_text).unwrap();

    let messages: [&[u8]; 3] = [
        b"From: Clinic <no-reply@clinic.example>\r\nTo: pat@dest.test\r\nSubject: Results\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\nMessage-ID: <1@clinic.example>\r\n\r\nYour results are ready.\r\n",
        b"From: no-reply@clinic.example\r\nSubject:   spaced    subject \r\n\r\nLine with trailing space   \r\n\r\n \t \r\n   \r\n",
        b"From: no-reply@clinic.example\r\nSubject: dots\r\n\r\n.leading dot\r\n\r\n\r\nend\r\n\r\n\r\n",
    ];
    for (index, message) in messages.iter().enumerate() {
        let signed = signer.sign(message).unwrap();
        let path = dir.path().join(format!("message-{index}.eml"));
        std::fs::write(&path, &signed).unwrap();
        let output = Command::new(&python)
            .arg("-c")
            .arg(VERIFY)
            .arg(&path)
            .arg(&zone)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("verified 2"),
            "message {index}: {stdout} {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
