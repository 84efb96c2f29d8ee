//! A pipelining SMTP submission client for benchmarks and crash tests: implicit TLS,
//! AUTH PLAIN, then MAIL, RCPT and DATA sent together (RFC 2920) for each message.
//!
//! Written here rather than taken from a crate because callers need exactly the moment
//! of each `250` and a plain error when the server goes away; it trusts only the roots
//! it is given.

use std::io::{Error, ErrorKind};
use std::net::SocketAddr;
use std::sync::Arc;

use base64::Engine;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

type Stream = TlsStream<TcpStream>;

/// One authenticated submission connection.
pub struct SubmissionClient {
    reader: BufReader<ReadHalf<Stream>>,
    writer: WriteHalf<Stream>,
    line: String,
}

impl SubmissionClient {
    /// Connects to `address` over implicit TLS (the certificate must be valid for
    /// `server_name` under `tls`'s roots), reads the greeting, says EHLO and authenticates.
    pub async fn connect(
        address: SocketAddr,
        server_name: &str,
        tls: Arc<rustls::ClientConfig>,
        user: &str,
        password: &str,
    ) -> std::io::Result<SubmissionClient> {
        let tcp = TcpStream::connect(address).await?;
        tcp.set_nodelay(true)?;
        let name = ServerName::try_from(server_name.to_owned())
            .map_err(|e| Error::new(ErrorKind::InvalidInput, e))?;
        let stream = TlsConnector::from(tls).connect(name, tcp).await?;
        let (read, writer) = tokio::io::split(stream);
        let mut client = SubmissionClient {
            reader: BufReader::new(read),
            writer,
            line: String::new(),
        };
        client.expect(220).await?;
        client.writer.write_all(b"EHLO client.test\r\n").await?;
        client.expect(250).await?;
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("\0{user}\0{password}"));
        let auth = format!("AUTH PLAIN {token}\r\n");
        client.writer.write_all(auth.as_bytes()).await?;
        client.expect(235).await?;
        Ok(client)
    }

    /// Submits one message (`data` with CRLF line ends, no line starting with a dot);
    /// returns once its `250` arrived, or an error naming the reply or the broken
    /// connection.
    pub async fn send(&mut self, from: &str, to: &str, data: &[u8]) -> std::io::Result<()> {
        let envelope = format!("MAIL FROM:<{from}>\r\nRCPT TO:<{to}>\r\nDATA\r\n");
        self.writer.write_all(envelope.as_bytes()).await?;
        self.writer.flush().await?;
        self.expect(250).await?;
        self.expect(250).await?;
        self.expect(354).await?;
        self.writer.write_all(data).await?;
        if !data.ends_with(b"\r\n") {
            self.writer.write_all(b"\r\n").await?;
        }
        self.writer.write_all(b".\r\n").await?;
        self.writer.flush().await?;
        self.expect(250).await
    }

    /// Says QUIT (the reply is not awaited).
    pub async fn quit(mut self) {
        let _ = self.writer.write_all(b"QUIT\r\n").await;
        let _ = self.writer.shutdown().await;
    }

    /// Reads one (possibly multi-line) reply and checks its code.
    async fn expect(&mut self, code: u16) -> std::io::Result<()> {
        loop {
            self.line.clear();
            if self.reader.read_line(&mut self.line).await? == 0 {
                return Err(Error::new(
                    ErrorKind::UnexpectedEof,
                    "the server closed the connection",
                ));
            }
            let line = self.line.trim_end();
            let got: u16 = line.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
            if got != code {
                return Err(Error::other(format!("expected {code}, got: {line}")));
            }
            if line.as_bytes().get(3) != Some(&b'-') {
                return Ok(());
            }
        }
    }
}

/// A client configuration trusting exactly the certificates in `pem` (TLS 1.2+).
pub fn client_tls_trusting(pem: &[u8]) -> std::io::Result<Arc<rustls::ClientConfig>> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| Error::new(ErrorKind::InvalidData, e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| Error::new(ErrorKind::InvalidData, e))?;
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
