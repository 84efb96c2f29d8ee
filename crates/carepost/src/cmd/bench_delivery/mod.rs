//! `carepost bench delivery`: end-to-end delivery speed of a real `carepost serve`.
//!
//! The benchmark starts a TLS SMTP sink on loopback (certificate from a CA made for the
//! run), writes a configuration that routes `sink.test` to it in `direct` mode, creates an
//! SMTP credential and an RSA-2048 DKIM key, and starts `carepost serve` as a child
//! process. Several clients then submit messages over implicit-TLS SMTP. Each message is
//! durable (group-committed, encrypted) before its `250`, DKIM-signed when it leaves, and
//! delivered over verified TLS to the sink. Reported: messages/s from the first submission
//! to the last delivery, latency from `250` to the sink's acceptance (p50, p99), and the
//! server process's CPU time per message (from /proc, in USER_HZ = 100 ticks/s).

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use carepost_config::Config;
use carepost_core::{AccessContext, DEFAULT_ORGANIZATION};
use carepost_gateway::dkim::{DkimAlgorithm, generate};
use carepost_gateway::testpeer::{
    PeerConfig, SubmissionClient, TestCa, TestPeer, client_tls_trusting,
};
use carepost_store::NewDkimKey;
use zeroize::Zeroizing;

use crate::context;

/// What to run.
pub struct Options {
    pub messages: usize,
    pub clients: usize,
    pub size: usize,
    pub database_url: Option<String>,
}

const SENDER: &str = "care@clinic.test";
const SMTP_USER: &str = "bench";
/// The submission server's limit per connection; clients reconnect after it.
const PER_CONNECTION: usize = 100;

pub async fn run(backend: &str, options: Options) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let ca = TestCa::new("carepost bench CA");
    let sink = TestPeer::start(PeerConfig::new(Some(ca.issue(&["mx.sink.test"]))))
        .await
        .context("cannot start the SMTP sink")?;
    let config_path = write_config(
        dir.path(),
        &ca,
        sink.address(),
        options.database_url.as_deref(),
    )?;
    let config = Config::load(Some(&config_path))?;
    let password = prepare_store(&config).await?;

    let mut server = start_server(&config_path)?;
    let result = measure(&options, &server, &sink, &password, dir.path()).await;
    stop(&mut server.child);
    let report = result?;
    println!("{backend} {report}");
    Ok(())
}

fn write_config(
    dir: &Path,
    ca: &TestCa,
    sink: SocketAddr,
    database_url: Option<&str>,
) -> anyhow::Result<std::path::PathBuf> {
    let ca_file = dir.join("sink-ca.pem");
    std::fs::write(&ca_file, ca.pem())?;
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])?;
    let (cert, key) = (dir.join("smtp-cert.pem"), dir.join("smtp-key.pem"));
    std::fs::write(&cert, certified.cert.pem())?;
    std::fs::write(&key, certified.signing_key.serialize_pem())?;
    let database = database_url.map_or_else(String::new, |u| format!("database_url = {u:?}\n"));
    let text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\
         [store]\ndata_dir = {data:?}\n{database}\
         [log]\nlevel = \"warn\"\n\
         [delivery]\nmode = \"direct\"\nhostname = \"bench.carepost.test\"\ntrust_ca_file = {ca:?}\ndns = \"none\"\n\
         [delivery.routes]\n\"sink.test\" = {{ mx = \"mx.sink.test\", address = \"{sink}\" }}\n\
         [smtp]\nlisten = \"127.0.0.1:0\"\ntls_listen = \"127.0.0.1:0\"\ntls_cert = {cert:?}\ntls_key = {key:?}\n",
        data = dir.join("data"),
        ca = ca_file,
    );
    let path = dir.join("carepost.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}

/// Creates the organization, the SMTP credential and the DKIM key; returns the password.
async fn prepare_store(config: &Config) -> anyhow::Result<String> {
    std::fs::create_dir_all(&config.store.data_dir)?;
    let keys = context::load_keys(config, true)?;
    let store = context::open_store(config, keys.provider).await?;
    let by = AccessContext::system("bench");
    let (org, _) = store.ensure_organization(DEFAULT_ORGANIZATION, &by).await?;
    let scope = store.org(org.id).await?;
    let user = scope
        .create_smtp_user(&by, SMTP_USER, &["clinic.test".to_owned()])
        .await?;
    let key = generate(DkimAlgorithm::Rsa2048, "clinic.test", "bench")?;
    scope
        .add_dkim_key(
            &by,
            NewDkimKey {
                domain: key.domain.clone(),
                selector: key.selector.clone(),
                algorithm: DkimAlgorithm::Rsa2048.as_str().to_owned(),
                private_key: Zeroizing::new(key.private_key.pkcs8_der().to_vec()),
                public_key: key.public_key.clone(),
            },
        )
        .await?;
    Ok(user.password)
}

struct Server {
    child: Child,
    smtps: SocketAddr,
}

fn start_server(config: &Path) -> anyhow::Result<Server> {
    use std::io::BufRead;
    let mut child = Command::new(std::env::current_exe()?)
        .arg("--config")
        .arg(config)
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .context("cannot start carepost serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = std::io::BufReader::new(stdout).lines();
    let mut smtps = None;
    for line in lines.by_ref() {
        let line = line?;
        if let Some(rest) = line.trim().strip_prefix("smtps:") {
            smtps = rest.split_whitespace().next().and_then(|a| a.parse().ok());
        }
        if line.trim().starts_with("organization:") {
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    match smtps {
        Some(smtps) => Ok(Server { child, smtps }),
        None => {
            stop(&mut child);
            bail!("carepost serve did not report its implicit-TLS submission address")
        }
    }
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// Process CPU time (user + system) of `pid`, from /proc (USER_HZ is 100 on Linux).
fn cpu_time(pid: u32) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("bad /proc stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> anyhow::Result<u64> {
        Ok(fields.get(i).context("short /proc stat")?.parse()?)
    };
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after ')'.
    Ok(Duration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

fn message(seq: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Clinic <{SENDER}>\r\nTo: <patient{seq}@sink.test>\r\nSubject: Appointment reminder\r\n\
         Message-ID: <bench-{seq}@clinic.test>\r\nX-Bench-Seq: {seq}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n"
    );
    let line =
        "Your appointment at the clinic is confirmed; reply to this message to change it.\r\n";
    while m.len() + line.len() < size {
        m.push_str(line);
    }
    m.into_bytes()
}

struct Report {
    messages: usize,
    clients: usize,
    size: usize,
    elapsed: Duration,
    submit_elapsed: Duration,
    latencies: Vec<Duration>,
    cpu: Duration,
    signed: usize,
    tls: usize,
}

async fn measure(
    options: &Options,
    server: &Server,
    sink: &TestPeer,
    password: &str,
    dir: &Path,
) -> anyhow::Result<Report> {
    let tls = client_tls_trusting(&std::fs::read(dir.join("smtp-cert.pem"))?)?;
    let n = options.messages;
    let clients = options.clients.clamp(1, n.max(1));
    let accepted: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n]));
    let cpu_before = cpu_time(server.child.id())?;
    let start = Instant::now();

    let mut tasks = Vec::new();
    for c in 0..clients {
        let (tls, accepted, password) = (tls.clone(), accepted.clone(), password.to_owned());
        let (address, size) = (server.smtps, options.size);
        tasks.push(tokio::spawn(async move {
            let mine: Vec<usize> = (c..n).step_by(clients).collect();
            for chunk in mine.chunks(PER_CONNECTION) {
                let mut conn = SubmissionClient::connect(
                    address,
                    "localhost",
                    tls.clone(),
                    SMTP_USER,
                    &password,
                )
                .await?;
                for &seq in chunk {
                    let to = format!("patient{seq}@sink.test");
                    conn.send(SENDER, &to, &message(seq, size)).await?;
                    let at = Instant::now();
                    if let Ok(mut a) = accepted.lock()
                        && let Some(slot) = a.get_mut(seq)
                    {
                        *slot = Some(at);
                    }
                }
                conn.quit().await;
            }
            anyhow::Ok(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let submit_elapsed = start.elapsed();

    let deadline = Instant::now() + Duration::from_secs(120 + (n / 50) as u64);
    while sink.received_count() < n {
        if Instant::now() > deadline {
            bail!(
                "only {} of {n} messages reached the sink in time",
                sink.received_count()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let received = sink.received_since(0);
    let elapsed = received
        .iter()
        .map(|m| m.received_at)
        .max()
        .map_or(start.elapsed(), |last| last - start);
    let cpu = cpu_time(server.child.id())?.saturating_sub(cpu_before);

    let accepted = accepted.lock().map(|a| a.clone()).unwrap_or_default();
    let mut latencies = Vec::with_capacity(n);
    let (mut signed, mut tls_count) = (0, 0);
    for m in &received {
        let text = String::from_utf8_lossy(&m.data);
        signed += usize::from(text.starts_with("DKIM-Signature:"));
        tls_count += usize::from(m.tls_version.is_some());
        let seq = text
            .split("X-Bench-Seq: ")
            .nth(1)
            .and_then(|r| r.split("\r\n").next())
            .and_then(|s| s.trim().parse::<usize>().ok());
        if let Some(at) = seq.and_then(|s| accepted.get(s).copied().flatten()) {
            latencies.push(m.received_at.saturating_duration_since(at));
        }
    }
    latencies.sort();
    Ok(Report {
        messages: n,
        clients,
        size: options.size,
        elapsed,
        submit_elapsed,
        latencies,
        cpu,
        signed,
        tls: tls_count,
    })
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |p: f64| {
            let i = ((self.latencies.len() as f64 * p).ceil() as usize).saturating_sub(1);
            self.latencies
                .get(i)
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        writeln!(
            f,
            "delivery: {} messages of ~{} bytes, {} SMTP clients (implicit TLS, AUTH, pipelining)",
            self.messages, self.size, self.clients
        )?;
        writeln!(
            f,
            "  end to end:   {:.0} messages/s ({:.2} s from the first submission to the last delivery)",
            self.messages as f64 / secs,
            secs
        )?;
        writeln!(
            f,
            "  submission:   {:.0} messages/s (each durable before its 250)",
            self.messages as f64 / self.submit_elapsed.as_secs_f64().max(1e-9)
        )?;
        writeln!(
            f,
            "  latency 250 → delivered: p50 {:.1} ms, p99 {:.1} ms",
            pct(0.50),
            pct(0.99)
        )?;
        writeln!(
            f,
            "  server CPU:   {:.2} ms per message ({:.2} s in all)",
            self.cpu.as_secs_f64() * 1000.0 / self.messages.max(1) as f64,
            self.cpu.as_secs_f64()
        )?;
        write!(
            f,
            "  checked:      {} of {} DKIM-signed, {} of {} over verified TLS",
            self.signed, self.messages, self.tls, self.messages
        )
    }
}
