//! The SMTP side of the test peer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use smtp_proto::Request;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use super::certs::ServerIdentity;
use super::stream::PeerStream;

/// Where the peer answers with a configured [`Rejection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerStage {
    /// At MAIL FROM.
    Mail,
    /// At every RCPT TO.
    Rcpt,
    /// At the DATA command.
    Data,
    /// After the message data.
    DataEnd,
}

/// A reply the peer gives instead of accepting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Where.
    pub stage: PeerStage,
    /// Reply code, e.g. 451 or 550.
    pub code: u16,
    /// Reply text, may start with an enhanced status code.
    pub text: String,
}

/// How the peer behaves.
#[derive(Debug, Clone)]
pub struct PeerConfig {
    /// Host name in the greeting.
    pub hostname: String,
    /// Certificate for STARTTLS; `None` withholds STARTTLS.
    pub identity: Option<ServerIdentity>,
    /// Announce STARTTLS even without an identity (then refuse it with 454).
    pub announce_starttls_without_identity: bool,
    /// Announce PIPELINING.
    pub pipelining: bool,
    /// Reject at some stage.
    pub rejection: Option<Rejection>,
    /// Recipients refused with 550 5.1.1 at RCPT.
    pub unknown_recipients: Vec<String>,
    /// Close the connection after reading the first chunk of message data.
    pub close_mid_data: bool,
    /// Wait this long before every reply (for "slow server" scenarios).
    pub delay: Duration,
    /// Act as a relay that requires AUTH PLAIN (after TLS) with this user name and
    /// password before MAIL.
    pub auth: Option<(String, String)>,
}

impl PeerConfig {
    /// A well-behaved peer presenting `identity` (or none: no STARTTLS).
    pub fn new(identity: Option<ServerIdentity>) -> PeerConfig {
        PeerConfig {
            hostname: "peer.test".into(),
            identity,
            announce_starttls_without_identity: false,
            pipelining: true,
            rejection: None,
            unknown_recipients: Vec::new(),
            close_mid_data: false,
            delay: Duration::ZERO,
            auth: None,
        }
    }
}

/// A message the peer accepted (250 after the data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMessage {
    /// Envelope sender.
    pub from: String,
    /// Accepted envelope recipients.
    pub recipients: Vec<String>,
    /// Message data, dot-unstuffed, without the final dot line.
    pub data: Vec<u8>,
    /// TLS version of the connection, `None` for plaintext.
    pub tls_version: Option<String>,
    /// When the peer accepted it (just before its `250`).
    pub received_at: std::time::Instant,
    /// The user name the client authenticated as, if it did.
    pub authenticated_as: Option<String>,
}

#[derive(Default)]
struct Record {
    messages: Vec<ReceivedMessage>,
    connections: usize,
    plaintext_commands_after_ehlo: usize,
}

/// A running peer; stops when dropped.
pub struct TestPeer {
    address: SocketAddr,
    record: Arc<Mutex<Record>>,
    task: JoinHandle<()>,
}

impl TestPeer {
    /// Listens on an ephemeral loopback port.
    pub async fn start(config: PeerConfig) -> std::io::Result<TestPeer> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let record = Arc::new(Mutex::new(Record::default()));
        let config = Arc::new(config);
        let task_record = record.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                // Replies are small writes; without this, Nagle's algorithm and the
                // client's delayed ACKs stall each pipelined reply by tens of ms.
                let _ = stream.set_nodelay(true);
                lock(&task_record).connections += 1;
                let (config, record) = (config.clone(), task_record.clone());
                tokio::spawn(async move {
                    let _ = Session::new(config, record).run(stream).await;
                });
            }
        });
        Ok(TestPeer {
            address,
            record,
            task,
        })
    }

    /// The listening address.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Messages accepted so far.
    pub fn received(&self) -> Vec<ReceivedMessage> {
        lock(&self.record).messages.clone()
    }

    /// How many messages were accepted so far (without copying them).
    pub fn received_count(&self) -> usize {
        lock(&self.record).messages.len()
    }

    /// Messages accepted after the first `skip` (to follow a long run cheaply).
    pub fn received_since(&self, skip: usize) -> Vec<ReceivedMessage> {
        lock(&self.record)
            .messages
            .get(skip..)
            .map(<[ReceivedMessage]>::to_vec)
            .unwrap_or_default()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        lock(&self.record).connections
    }

    /// MAIL, RCPT or DATA commands received without TLS (should stay 0 with carepost).
    pub fn plaintext_transactions(&self) -> usize {
        lock(&self.record).plaintext_commands_after_ehlo
    }
}

impl Drop for TestPeer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(record: &Mutex<Record>) -> std::sync::MutexGuard<'_, Record> {
    record.lock().unwrap_or_else(|p| p.into_inner())
}

struct Session {
    config: Arc<PeerConfig>,
    record: Arc<Mutex<Record>>,
    from: Option<String>,
    recipients: Vec<String>,
    authenticated: Option<String>,
}

enum Next {
    Continue,
    StartTls,
    Close,
}

impl Session {
    fn new(config: Arc<PeerConfig>, record: Arc<Mutex<Record>>) -> Session {
        Session {
            config,
            record,
            from: None,
            recipients: Vec::new(),
            authenticated: None,
        }
    }

    async fn run(mut self, stream: TcpStream) -> std::io::Result<()> {
        let mut io = BufReader::new(PeerStream::Plain(stream));
        let greeting = format!("220 {} ESMTP carepost test peer", self.config.hostname);
        self.reply(&mut io, &greeting).await?;
        loop {
            let mut line = Vec::new();
            if (&mut io).take(4096).read_until(b'\n', &mut line).await? == 0 {
                return Ok(());
            }
            match self.handle(&mut io, &line).await? {
                Next::Continue => {}
                Next::Close => return Ok(()),
                Next::StartTls => {
                    let Some(identity) = self.config.identity.clone() else {
                        continue;
                    };
                    // Anything the client pipelined after STARTTLS is discarded here.
                    let PeerStream::Plain(tcp) = io.into_inner() else {
                        return Ok(());
                    };
                    let tls = TlsAcceptor::from(identity.server_config())
                        .accept(tcp)
                        .await?;
                    io = BufReader::new(PeerStream::Tls(Box::new(tls)));
                    self.from = None;
                    self.recipients.clear();
                }
            }
        }
    }

    async fn handle(
        &mut self,
        io: &mut BufReader<PeerStream>,
        line: &[u8],
    ) -> std::io::Result<Next> {
        let request = Request::parse(&mut line.iter()).map(Request::into_owned);
        let tls = io.get_ref().tls_version().is_some();
        match request {
            Ok(Request::Ehlo { .. }) => {
                let ehlo = self.ehlo_reply(tls);
                self.reply(io, &ehlo).await?;
            }
            Ok(Request::StartTls) if !tls && self.config.identity.is_some() => {
                self.reply(io, "220 2.0.0 Ready to start TLS").await?;
                return Ok(Next::StartTls);
            }
            Ok(Request::StartTls) => self.reply(io, "454 4.7.0 TLS not available").await?,
            Ok(Request::Auth {
                initial_response, ..
            }) => {
                let reply = self.auth(tls, &initial_response);
                self.reply(io, reply).await?;
            }
            Ok(Request::Mail { .. })
                if self.config.auth.is_some() && self.authenticated.is_none() =>
            {
                self.reply(io, "530 5.7.0 Authentication required").await?;
            }
            Ok(Request::Mail { from }) => {
                self.count_plaintext(tls);
                if let Some(text) = self.rejection(PeerStage::Mail) {
                    return self.reply(io, &text).await.map(|()| Next::Continue);
                }
                self.from = Some(from.address);
                self.recipients.clear();
                self.reply(io, "250 2.1.0 Sender ok").await?;
            }
            Ok(Request::Rcpt { to }) => self.rcpt(io, to.address, tls).await?,
            Ok(Request::Data) => return self.data(io).await,
            Ok(Request::Rset) => {
                self.from = None;
                self.recipients.clear();
                self.reply(io, "250 2.0.0 Reset").await?;
            }
            Ok(Request::Quit) => {
                self.reply(io, "221 2.0.0 Bye").await?;
                return Ok(Next::Close);
            }
            Ok(Request::Noop { .. }) => self.reply(io, "250 2.0.0 OK").await?,
            Ok(_) => self.reply(io, "502 5.5.1 Command not implemented").await?,
            Err(_) => self.reply(io, "500 5.5.2 Syntax error").await?,
        }
        Ok(Next::Continue)
    }

    async fn rcpt(
        &mut self,
        io: &mut BufReader<PeerStream>,
        address: String,
        tls: bool,
    ) -> std::io::Result<()> {
        self.count_plaintext(tls);
        if self.from.is_none() {
            return self.reply(io, "503 5.5.1 MAIL first").await;
        }
        if let Some(text) = self.rejection(PeerStage::Rcpt) {
            return self.reply(io, &text).await;
        }
        if self
            .config
            .unknown_recipients
            .iter()
            .any(|r| r.eq_ignore_ascii_case(&address))
        {
            return self.reply(io, "550 5.1.1 No such user here").await;
        }
        self.recipients.push(address);
        self.reply(io, "250 2.1.5 Recipient ok").await
    }

    async fn data(&mut self, io: &mut BufReader<PeerStream>) -> std::io::Result<Next> {
        self.count_plaintext(io.get_ref().tls_version().is_some());
        if let Some(text) = self.rejection(PeerStage::Data) {
            self.reply(io, &text).await?;
            return Ok(Next::Continue);
        }
        if self.from.is_none() || self.recipients.is_empty() {
            self.reply(io, "554 5.5.1 No valid recipients").await?;
            return Ok(Next::Continue);
        }
        self.reply(io, "354 Go ahead").await?;

        let mut data = Vec::new();
        loop {
            let mut line = Vec::new();
            if (&mut *io)
                .take(1 << 20)
                .read_until(b'\n', &mut line)
                .await?
                == 0
            {
                return Ok(Next::Close);
            }
            if self.config.close_mid_data {
                return Ok(Next::Close);
            }
            if line == b".\r\n" || line == b".\n" {
                break;
            }
            let unstuffed = line
                .strip_prefix(b".")
                .filter(|_| line.starts_with(b".."))
                .unwrap_or(&line);
            data.extend_from_slice(unstuffed);
        }

        if let Some(text) = self.rejection(PeerStage::DataEnd) {
            self.reply(io, &text).await?;
            return Ok(Next::Continue);
        }
        let message = ReceivedMessage {
            from: self.from.take().unwrap_or_default(),
            recipients: std::mem::take(&mut self.recipients),
            data,
            tls_version: io.get_ref().tls_version(),
            received_at: std::time::Instant::now(),
            authenticated_as: self.authenticated.clone(),
        };
        lock(&self.record).messages.push(message);
        self.reply(io, "250 2.0.0 Message accepted").await?;
        Ok(Next::Continue)
    }

    fn auth(&mut self, tls: bool, initial_response: &str) -> &'static str {
        use base64::Engine;
        let Some((user, password)) = &self.config.auth else {
            return "502 5.5.1 AUTH not offered";
        };
        if !tls {
            return "538 5.7.11 Encryption required for requested authentication mechanism";
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(initial_response.trim())
            .unwrap_or_default();
        if decoded == format!("\0{user}\0{password}").into_bytes() {
            self.authenticated = Some(user.clone());
            "235 2.7.0 Authentication successful"
        } else {
            "535 5.7.8 Authentication credentials invalid"
        }
    }

    fn ehlo_reply(&self, tls: bool) -> String {
        let mut lines = vec![format!("{} greets you", self.config.hostname)];
        if self.config.pipelining {
            lines.push("PIPELINING".into());
        }
        lines.push("SIZE 10485760".into());
        lines.push("8BITMIME".into());
        lines.push("ENHANCEDSTATUSCODES".into());
        let starttls =
            self.config.identity.is_some() || self.config.announce_starttls_without_identity;
        if !tls && starttls {
            lines.push("STARTTLS".into());
        }
        if tls && self.config.auth.is_some() {
            lines.push("AUTH PLAIN".into());
        }
        let last = lines.len() - 1;
        lines
            .iter()
            .enumerate()
            .map(|(i, l)| format!("250{}{l}", if i == last { ' ' } else { '-' }))
            .collect::<Vec<_>>()
            .join("\r\n")
    }

    fn rejection(&self, stage: PeerStage) -> Option<String> {
        let rejection = self
            .config
            .rejection
            .as_ref()
            .filter(|r| r.stage == stage)?;
        Some(format!("{} {}", rejection.code, rejection.text))
    }

    fn count_plaintext(&self, tls: bool) {
        if !tls {
            lock(&self.record).plaintext_commands_after_ehlo += 1;
        }
    }

    async fn reply(&self, io: &mut BufReader<PeerStream>, text: &str) -> std::io::Result<()> {
        if !self.config.delay.is_zero() {
            tokio::time::sleep(self.config.delay).await;
        }
        let stream = io.get_mut();
        stream.write_all(text.as_bytes()).await?;
        stream.write_all(b"\r\n").await?;
        stream.flush().await
    }
}
