//! A submission server on loopback with an in-memory handler, and a raw SMTP client.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use carepost_gateway::inbound::{
    HandlerError, SubmissionConfig, SubmissionHandler, SubmissionServer, SubmittedMessage,
    Submitter,
};
use carepost_gateway::testpeer::TestCa;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

pub const HOST: &str = "mail.clinic.test";
pub const USER: &str = "clinic-app";
pub const PASSWORD: &str = "correct horse battery";
pub const DOMAIN: &str = "clinic.test";

/// How the test handler answers `accept`.
#[derive(Clone)]
pub enum AcceptMode {
    Keep,
    /// Keep, but only once the test adds a permit to the semaphore.
    Gated(Arc<Semaphore>),
    Temporary,
    Permanent(&'static str),
}

/// One credential (`USER`/`PASSWORD`, allowed domain `DOMAIN`); messages kept in memory.
pub struct TestHandler {
    messages: Mutex<Vec<SubmittedMessage>>,
    mode: Mutex<AcceptMode>,
    auth_calls: AtomicUsize,
}

impl TestHandler {
    fn new() -> TestHandler {
        TestHandler {
            messages: Mutex::new(Vec::new()),
            mode: Mutex::new(AcceptMode::Keep),
            auth_calls: AtomicUsize::new(0),
        }
    }

    pub fn set_mode(&self, mode: AcceptMode) {
        *self.mode.lock().unwrap() = mode;
    }

    pub fn auth_calls(&self) -> usize {
        self.auth_calls.load(Ordering::SeqCst)
    }
}

impl SubmissionHandler for TestHandler {
    async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<Submitter>, HandlerError> {
        self.auth_calls.fetch_add(1, Ordering::SeqCst);
        Ok(
            (username == USER && password == PASSWORD).then(|| Submitter {
                name: "Clinic EHR".into(),
                allowed_from_domains: vec![DOMAIN.into()],
                id: "cred-1".into(),
            }),
        )
    }

    async fn accept(&self, message: SubmittedMessage) -> Result<String, HandlerError> {
        let mode = self.mode.lock().unwrap().clone();
        match mode {
            AcceptMode::Keep => {}
            AcceptMode::Gated(gate) => gate.acquire().await.unwrap().forget(),
            AcceptMode::Temporary => return Err(HandlerError::Temporary("store down".into())),
            AcceptMode::Permanent(reason) => return Err(HandlerError::Permanent(reason.into())),
        }
        let mut messages = self.messages.lock().unwrap();
        messages.push(message);
        Ok(format!("msg-{}", messages.len()))
    }
}

/// Both listeners of one server on ephemeral loopback ports.
pub struct Server {
    pub starttls: SocketAddr,
    pub implicit: SocketAddr,
    pub handler: Arc<TestHandler>,
    ca: TestCa,
    ca_file: tempfile::NamedTempFile,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl Server {
    pub async fn start() -> Server {
        Server::with(|_| {}).await
    }

    /// A server whose configuration `adjust` changed first.
    pub async fn with(adjust: impl FnOnce(&mut SubmissionConfig)) -> Server {
        let ca = TestCa::new("carepost inbound test CA");
        let identity = ca.issue(&[HOST, "127.0.0.1"]);
        let ca_file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(ca_file.path(), ca.pem()).unwrap();

        let mut config = SubmissionConfig::new(HOST).unwrap();
        config.shutdown_grace = Duration::from_secs(5);
        adjust(&mut config);
        let handler = Arc::new(TestHandler::new());
        let server = Arc::new(SubmissionServer::new(
            config,
            identity.server_config(),
            handler.clone(),
        ));

        let plain = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tls = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (starttls, implicit) = (plain.local_addr().unwrap(), tls.local_addr().unwrap());
        let (stop, stopped) = watch::channel(false);
        let signal = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|stop| *stop).await;
        };
        let (first, second) = (signal(stopped.clone()), signal(stopped));
        let task = tokio::spawn(async move {
            tokio::join!(
                server.serve_starttls(plain, first),
                server.serve_implicit_tls(tls, second)
            );
        });
        Server {
            starttls,
            implicit,
            handler,
            ca,
            ca_file,
            stop,
            task: Some(task),
        }
    }

    /// Messages the handler kept.
    pub fn received(&self) -> Vec<SubmittedMessage> {
        self.handler.messages.lock().unwrap().clone()
    }

    /// The test CA in a PEM file, for the outside clients.
    pub fn ca_path(&self) -> &Path {
        self.ca_file.path()
    }

    /// Starts the shutdown and returns at once.
    pub fn begin_shutdown(&self) {
        self.stop.send_replace(true);
    }

    /// Waits until both listeners returned.
    pub async fn stopped(&mut self) {
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("server stops within its grace")
                .unwrap();
        }
    }

    pub fn client_tls(&self) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca.certificate().clone()).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }

    /// Connected to the STARTTLS listener, greeting read.
    pub async fn plain_client(&self) -> Client {
        let mut client = Client::connect(self.starttls, self.client_tls()).await;
        client.expect(220, "").await;
        client
    }

    /// Connected to the implicit-TLS listener, greeting read.
    pub async fn tls_client(&self) -> Client {
        let tcp = TcpStream::connect(self.implicit).await.unwrap();
        let tls = self.client_tls();
        let stream = TlsConnector::from(tls.clone())
            .connect(ServerName::try_from(HOST).unwrap(), tcp)
            .await
            .unwrap();
        let mut client = Client::new(Conn::Tls(Box::new(stream)), tls);
        client.expect(220, "").await;
        client
    }

    /// After STARTTLS, EHLO and AUTH PLAIN: ready for MAIL.
    pub async fn authenticated_client(&self) -> Client {
        let mut client = self.plain_client().await;
        client.ehlo().await;
        client.starttls().await;
        client.ehlo().await;
        client
            .command(&format!("AUTH PLAIN {}", plain_token(USER, PASSWORD)))
            .await;
        client.expect(235, "2.7.0").await;
        client
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}

pub fn plain_token(user: &str, password: &str) -> String {
    STANDARD.encode(format!("\0{user}\0{password}"))
}

/// A message with this header `From:` and a line that needs dot-stuffing.
pub fn message(from_header: &str) -> String {
    format!(
        "From: {from_header}\r\nTo: pat@example.org\r\nSubject: Lab results\r\n\r\n\
         Your results are ready.\r\n.a line starting with a dot\r\n"
    )
}

/// `message` dot-stuffed and terminated for DATA.
pub fn data_of(message: &str) -> String {
    format!("{}.\r\n", message.replace("\r\n.", "\r\n.."))
}

/// One reply: its code and its lines without the code.
#[derive(Debug)]
pub struct Reply {
    pub code: u16,
    pub lines: Vec<String>,
}

impl Reply {
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }
}

pub enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

/// A scripted SMTP client that reads replies line by line.
pub struct Client {
    conn: Option<Conn>,
    buffer: Vec<u8>,
    tls: Arc<rustls::ClientConfig>,
}

/// How long a reply may take before the test fails.
const REPLY_WAIT: Duration = Duration::from_secs(10);

impl Client {
    pub fn new(conn: Conn, tls: Arc<rustls::ClientConfig>) -> Client {
        Client {
            conn: Some(conn),
            buffer: Vec::new(),
            tls,
        }
    }

    pub async fn connect(address: SocketAddr, tls: Arc<rustls::ClientConfig>) -> Client {
        Client::new(Conn::Plain(TcpStream::connect(address).await.unwrap()), tls)
    }

    /// Writes raw octets.
    pub async fn send(&mut self, bytes: &[u8]) {
        match self.conn.as_mut().unwrap() {
            Conn::Plain(s) => s.write_all(bytes).await.unwrap(),
            Conn::Tls(s) => s.write_all(bytes).await.unwrap(),
        }
    }

    /// Writes `line` and CRLF.
    pub async fn command(&mut self, line: &str) {
        self.send(format!("{line}\r\n").as_bytes()).await;
    }

    /// Reads more octets; 0 at end of stream.
    async fn fill(&mut self) -> usize {
        let mut chunk = [0u8; 4096];
        let read = match self.conn.as_mut().unwrap() {
            Conn::Plain(s) => s.read(&mut chunk).await,
            Conn::Tls(s) => s.read(&mut chunk).await,
        };
        let read = read.unwrap_or(0);
        self.buffer.extend_from_slice(&chunk[..read]);
        read
    }

    /// The next reply, or `None` at end of stream.
    pub async fn next_reply(&mut self) -> Option<Reply> {
        let mut lines = Vec::new();
        loop {
            while let Some(end) = self.buffer.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8(self.buffer.drain(..end + 2).collect()).unwrap();
                let code = line[..3].parse().unwrap();
                lines.push(line[4..line.len() - 2].to_owned());
                if line.as_bytes()[3] == b' ' {
                    return Some(Reply { code, lines });
                }
            }
            let read = tokio::time::timeout(REPLY_WAIT, self.fill())
                .await
                .expect("a reply within 10 s");
            if read == 0 {
                return None;
            }
        }
    }

    pub async fn reply(&mut self) -> Reply {
        self.next_reply().await.expect("a reply, not end of stream")
    }

    /// Reads a reply and checks its code and that every line carries `status`.
    pub async fn expect(&mut self, code: u16, status: &str) -> Reply {
        let reply = self.reply().await;
        assert_eq!(reply.code, code, "unexpected reply {reply:?}");
        for line in &reply.lines {
            assert!(line.starts_with(status), "{status} missing in {reply:?}");
        }
        reply
    }

    /// Sends `line` and expects `code` and `status`.
    pub async fn exchange(&mut self, line: &str, code: u16, status: &str) -> Reply {
        self.command(line).await;
        self.expect(code, status).await
    }

    /// EHLO; returns the extension keywords.
    pub async fn ehlo(&mut self) -> Vec<String> {
        let reply = self.exchange("EHLO client.clinic.test", 250, "").await;
        reply.lines[1..].to_vec()
    }

    /// STARTTLS and the handshake, verifying the certificate for `HOST`.
    pub async fn starttls(&mut self) {
        self.exchange("STARTTLS", 220, "2.0.0").await;
        assert!(self.buffer.is_empty(), "nothing after the 220");
        self.handshake().await;
    }

    /// The client side of the TLS handshake on the current plaintext connection.
    pub async fn handshake(&mut self) {
        let Some(Conn::Plain(tcp)) = self.conn.take() else {
            panic!("TLS already active");
        };
        let stream = TlsConnector::from(self.tls.clone())
            .connect(ServerName::try_from(HOST).unwrap(), tcp)
            .await
            .unwrap();
        self.conn = Some(Conn::Tls(Box::new(stream)));
    }

    /// MAIL, RCPT and DATA for `message`; returns the final reply.
    pub async fn submit(&mut self, from: &str, to: &[&str], message: &str) -> Reply {
        self.exchange(&format!("MAIL FROM:<{from}>"), 250, "2.1.0")
            .await;
        for rcpt in to {
            self.exchange(&format!("RCPT TO:<{rcpt}>"), 250, "2.1.5")
                .await;
        }
        self.exchange("DATA", 354, "").await;
        self.send(data_of(message).as_bytes()).await;
        self.reply().await
    }

    /// Whether the server closes the connection (after any replies) within `wait`.
    pub async fn closed_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let Ok(read) = tokio::time::timeout_at(deadline, self.fill()).await else {
                return false;
            };
            if read == 0 {
                return true;
            }
        }
    }

    /// Whether no octet arrives within `wait`.
    pub async fn silent_for(&mut self, wait: Duration) -> bool {
        self.buffer.is_empty() && tokio::time::timeout(wait, self.fill()).await.is_err()
    }
}
