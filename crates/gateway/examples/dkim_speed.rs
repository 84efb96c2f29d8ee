//! Measures DKIM signing speed: `cargo run --release -p carepost-gateway --example dkim_speed`.

use std::time::Instant;

use carepost_gateway::dkim::{DkimAlgorithm, DkimError, Signer, generate};

fn main() -> Result<(), DkimError> {
    let mut message = String::from(
        "From: Clinic <no-reply@clinic.example>\r\nTo: pat@dest.test\r\nSubject: Your lab results\r\nDate: Thu, 3 Dec 2026 10:00:00 +0000\r\nMessage-ID: <bench@clinic.example>\r\n\r\n",
    );
    while message.len() < 5 * 1024 {
        message.push_str(
            "Your results are available in the patient portal. Please log in to view them.\r\n",
        );
    }

    for algorithm in [DkimAlgorithm::Rsa2048, DkimAlgorithm::Ed25519] {
        let key = generate(algorithm, "clinic.example", "bench")?;
        let signer = Signer::new("clinic.example", "bench", algorithm, &key.private_key)?;
        let rounds = 2_000;
        let start = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(signer.sign(message.as_bytes())?);
        }
        let seconds = start.elapsed().as_secs_f64();
        println!(
            "{algorithm:?}: {:.0} signatures/s on one core ({:.3} ms each, 5 KiB message)",
            f64::from(rounds) / seconds,
            seconds * 1000.0 / f64::from(rounds)
        );
    }
    Ok(())
}
