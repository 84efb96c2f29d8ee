//! Acknowledged means kept: clients submit 10,000 messages over SMTP and HTTP while the
//! server is killed with SIGKILL several times and restarted on the same data. At the
//! sink, every message that got its `250` or `201` arrived at least once, and duplicates
//! are bounded by what can be in flight at a kill.
//!
//! The kills happen at fixed counts of acknowledged messages, not at times, so the test
//! does not depend on the machine's speed.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use carepost_gateway::testpeer::{
    PeerConfig, SubmissionClient, TestCa, TestPeer, client_tls_trusting,
};
use tokio::sync::watch;

use super::{Server, run, text};

const MESSAGES: usize = 10_000;
const SMTP_CLIENTS: usize = 3;
const HTTP_CLIENTS: usize = 2;
/// Acknowledged counts at which the server is killed.
const KILL_AT: [usize; 4] = [1_300, 3_700, 6_100, 8_600];
/// Recipients one runner round claims (`RunnerSettings::batch`): at most this many can be
/// delivered but not yet recorded when the process dies.
const RUNNER_BATCH: usize = 256;

#[derive(Clone)]
struct Endpoints {
    smtps: SocketAddr,
    http: String,
}

struct Shared {
    acked: Mutex<HashSet<usize>>,
    endpoints: watch::Receiver<Endpoints>,
    smtp_password: String,
    token: String,
    tls: Arc<rustls::ClientConfig>,
}

fn endpoints(server: &Server) -> Endpoints {
    Endpoints {
        smtps: server.smtps.expect("the banner names the smtps listener"),
        http: server.base.clone(),
    }
}

fn write_config(dir: &Path, ca: &TestCa, sink: SocketAddr) {
    std::fs::write(dir.join("sink-ca.pem"), ca.pem()).unwrap();
    let config = format!(
        "[delivery]\nmode = \"direct\"\nhostname = \"carepost.test\"\ntrust_ca_file = \"sink-ca.pem\"\ndns = \"none\"\n\
         [delivery.routes]\n\"sink.test\" = {{ mx = \"mx.sink.test\", address = \"{sink}\" }}\n"
    );
    std::fs::write(dir.join("carepost.toml"), config).unwrap();
}

fn seq_of(data: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(data);
    let rest = text.split("X-Crash-Seq: ").nth(1)?;
    rest.split("\r\n").next()?.trim().parse().ok()
}

fn smtp_message(seq: usize) -> String {
    format!(
        "From: Clinic <care@clinic.test>\r\nTo: <patient{seq}@sink.test>\r\n\
         Subject: Appointment reminder\r\nX-Crash-Seq: {seq}\r\n\r\n\
         Your appointment is confirmed.\r\n"
    )
}

async fn smtp_client(shared: Arc<Shared>, seqs: Vec<usize>) {
    let mut conn: Option<SubmissionClient> = None;
    let mut sent_on_conn = 0;
    for seq in seqs {
        loop {
            if conn.is_none() || sent_on_conn >= 100 {
                if let Some(c) = conn.take() {
                    c.quit().await;
                }
                let at = shared.endpoints.borrow().smtps;
                match SubmissionClient::connect(
                    at,
                    "localhost",
                    shared.tls.clone(),
                    "crash",
                    &shared.smtp_password,
                )
                .await
                {
                    Ok(c) => (conn, sent_on_conn) = (Some(c), 0),
                    Err(_) => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                }
            }
            let Some(c) = conn.as_mut() else { continue };
            let to = format!("patient{seq}@sink.test");
            match c
                .send("care@clinic.test", &to, smtp_message(seq).as_bytes())
                .await
            {
                Ok(()) => {
                    sent_on_conn += 1;
                    shared.acked.lock().unwrap().insert(seq);
                    break;
                }
                // The server died (or refused for a moment): reconnect and send again.
                Err(_) => conn = None,
            }
        }
    }
}

async fn http_client(shared: Arc<Shared>, seqs: Vec<usize>) {
    let client = reqwest::Client::new();
    for seq in seqs {
        loop {
            let base = shared.endpoints.borrow().http.clone();
            let body = serde_json::json!({
                "from": "care@clinic.test",
                "to": [format!("patient{seq}@sink.test")],
                "subject": "Appointment reminder",
                "text": "Your appointment is confirmed.",
                "headers": { "X-Crash-Seq": seq.to_string() },
                "idempotency_key": format!("crash-{seq}"),
            });
            let sent = client
                .post(format!("{base}/api/v1/messages"))
                .bearer_auth(&shared.token)
                .json(&body)
                .send()
                .await;
            match sent {
                Ok(r) if r.status() == 201 || r.status() == 200 => {
                    shared.acked.lock().unwrap().insert(seq);
                    break;
                }
                _ => tokio::time::sleep(Duration::from_millis(20)).await,
            }
        }
    }
}

fn secret(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn no_acknowledged_message_is_lost_when_the_server_is_killed_repeatedly() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let ca = TestCa::new("crash test CA");
        let sink = TestPeer::start(PeerConfig::new(Some(ca.issue(&["mx.sink.test"]))))
            .await
            .unwrap();
        write_config(dir.path(), &ca, sink.address());
        let path = dir.path().to_owned();
        let mut server = tokio::task::spawn_blocking(move || Server::start(&path, &[]))
            .await
            .unwrap();
        assert!(
            server.banner.contains("delivery:     direct"),
            "{}",
            server.banner
        );
        let smtp_password = secret(
            dir.path(),
            &[
                "smtp-user",
                "create",
                "crash",
                "--from-domain",
                "clinic.test",
            ],
        );
        let token = secret(
            dir.path(),
            &["apikey", "create", "--scope", "messages:send"],
        );
        let cert = std::fs::read(dir.path().join("carepost-data/smtp-tls/cert.pem")).unwrap();

        let (publish, endpoints_rx) = watch::channel(endpoints(&server));
        let shared = Arc::new(Shared {
            acked: Mutex::new(HashSet::new()),
            endpoints: endpoints_rx,
            smtp_password,
            token,
            tls: client_tls_trusting(&cert).unwrap(),
        });
        let clients = SMTP_CLIENTS + HTTP_CLIENTS;
        let mut tasks = Vec::new();
        for c in 0..clients {
            let seqs: Vec<usize> = (c..MESSAGES).step_by(clients).collect();
            let shared = shared.clone();
            tasks.push(if c < SMTP_CLIENTS {
                tokio::spawn(smtp_client(shared, seqs))
            } else {
                tokio::spawn(http_client(shared, seqs))
            });
        }

        // Kill at fixed acknowledgement counts; restart on the same data each time.
        for point in KILL_AT {
            while shared.acked.lock().unwrap().len() < point {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            server.child.kill().unwrap(); // SIGKILL
            server.child.wait().unwrap();
            let path = dir.path().to_owned();
            server = tokio::task::spawn_blocking(move || Server::start(&path, &[]))
                .await
                .unwrap();
            publish.send(endpoints(&server)).unwrap();
        }
        for t in tasks {
            t.await.unwrap();
        }
        let acked = shared.acked.lock().unwrap().clone();
        assert_eq!(
            acked.len(),
            MESSAGES,
            "every message was eventually acknowledged"
        );

        // Every acknowledged message reaches the sink (the queue runner retries after
        // the restarts); wait for it, with a generous bound.
        let mut counts: HashMap<usize, usize> = HashMap::new();
        let mut seen = 0;
        for _ in 0..6000 {
            for m in sink.received_since(seen) {
                seen += 1;
                if let Some(seq) = seq_of(&m.data) {
                    *counts.entry(seq).or_default() += 1;
                }
            }
            if acked.iter().all(|s| counts.contains_key(s)) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let missing: Vec<_> = acked.iter().filter(|s| !counts.contains_key(s)).collect();
        assert!(
            missing.is_empty(),
            "{} acknowledged messages never arrived, e.g. {:?}",
            missing.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
        let duplicates: usize = counts.values().map(|n| n - 1).sum();
        let bound = KILL_AT.len() * (RUNNER_BATCH + clients);
        assert!(
            duplicates <= bound,
            "{duplicates} duplicates; at most {bound} can be in flight at {} kills",
            KILL_AT.len()
        );
        assert_eq!(
            sink.plaintext_transactions(),
            0,
            "nothing travelled without TLS"
        );
        println!(
            "crash test: {MESSAGES} acknowledged, {} kills, all arrived, {duplicates} duplicates",
            KILL_AT.len()
        );
        let status = tokio::task::spawn_blocking(move || server.stop())
            .await
            .unwrap();
        assert!(status.success());
    });
}
