//! Runs one [`Session`] over a TCP connection, with TLS from the start or after STARTTLS.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::timeout;
use tokio_rustls::TlsAcceptor;
use tracing::Instrument;
use zeroize::Zeroizing;

use super::config::SubmissionConfig;
use super::handler::SubmissionHandler;
use super::limiter::{ConnectionLimiter, Refusal};
use super::session::{Event, Session};
use super::tls::session_info;

/// Octets read from the socket at a time.
const READ_CHUNK: usize = 16 * 1024;

/// What every connection of a server shares.
pub(super) struct Context<H> {
    pub(super) config: Arc<SubmissionConfig>,
    pub(super) acceptor: TlsAcceptor,
    pub(super) handler: Arc<H>,
    pub(super) limiter: Arc<ConnectionLimiter>,
}

/// Which listener a connection came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Listener {
    /// Plaintext greeting, STARTTLS offered.
    StartTls,
    /// TLS handshake first (RFC 8314).
    ImplicitTls,
}

/// How a conversation over one stream ended.
enum Transition {
    Closed,
    StartTls,
}

/// Serves one connection until it closes. Errors are logged, never returned.
pub(super) async fn serve_connection<H: SubmissionHandler>(
    context: Arc<Context<H>>,
    tcp: TcpStream,
    peer: SocketAddr,
    listener: Listener,
    shutdown: watch::Receiver<bool>,
) {
    let id = session_id();
    let span = tracing::info_span!("smtp_submission", session = %id, peer_ip = %peer.ip());
    async move {
        let _permit = match context.limiter.acquire(peer.ip()) {
            Ok(permit) => permit,
            Err(refusal) => return refuse(tcp, listener, refusal).await,
        };
        tracing::info!(?listener, "connection opened");
        let mut shutdown = ShutdownSignal::new(shutdown);
        let result = match listener {
            Listener::StartTls => run_starttls(&context, tcp, peer, &id, &mut shutdown).await,
            Listener::ImplicitTls => run_implicit(&context, tcp, peer, &id, &mut shutdown).await,
        };
        match result {
            Ok(()) => tracing::info!("connection closed"),
            Err(error) => tracing::info!(%error, "connection ended"),
        }
    }
    .instrument(span)
    .await;
}

async fn run_starttls<H: SubmissionHandler>(
    context: &Context<H>,
    mut tcp: TcpStream,
    peer: SocketAddr,
    id: &str,
    shutdown: &mut ShutdownSignal,
) -> io::Result<()> {
    let mut session = Session::new(context.config.clone(), id, peer, None);
    if let Transition::Closed = converse(context, &mut session, &mut tcp, shutdown).await? {
        return Ok(());
    }

    // Nothing was read past the STARTTLS line but what the session discarded, so the
    // handshake starts on exactly the client's next octets.
    let limit = context.config.limits.handshake_timeout;
    let mut tls = timeout(limit, context.acceptor.accept(tcp))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
    let info = session_info(tls.get_ref().1);
    tracing::info!(tls_version = %info.version, cipher = %info.cipher_suite, "STARTTLS done");
    session.finish_tls(info);
    converse(context, &mut session, &mut tls, shutdown).await?;
    Ok(())
}

async fn run_implicit<H: SubmissionHandler>(
    context: &Context<H>,
    tcp: TcpStream,
    peer: SocketAddr,
    id: &str,
    shutdown: &mut ShutdownSignal,
) -> io::Result<()> {
    let limit = context.config.limits.handshake_timeout;
    let mut tls = timeout(limit, context.acceptor.accept(tcp))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "TLS handshake timed out"))??;
    let info = session_info(tls.get_ref().1);
    tracing::info!(tls_version = %info.version, cipher = %info.cipher_suite, "TLS established");
    let mut session = Session::new(context.config.clone(), id, peer, Some(info));
    converse(context, &mut session, &mut tls, shutdown).await?;
    Ok(())
}

/// Runs the session over `stream` until it closes or asks for TLS.
async fn converse<H, S>(
    context: &Context<H>,
    session: &mut Session,
    stream: &mut S,
    shutdown: &mut ShutdownSignal,
) -> io::Result<Transition>
where
    H: SubmissionHandler,
    S: AsyncRead + AsyncWrite + Unpin,
{
    let write_limit = context.config.limits.command_timeout;
    let mut buffer = Zeroizing::new(vec![0u8; READ_CHUNK]);
    loop {
        match session.next_event(SystemTime::now()) {
            Event::NeedInput => {
                flush(session, stream, write_limit).await?;
                tokio::select! {
                    read = stream.read(buffer.as_mut_slice()) => {
                        let read = read?;
                        if read == 0 {
                            tracing::debug!("client closed the connection");
                            return Ok(Transition::Closed);
                        }
                        session.receive(buffer.get(..read).unwrap_or_default());
                    }
                    () = tokio::time::sleep(session.read_timeout()) => session.timed_out(),
                    () = shutdown.triggered() => session.shutdown(),
                }
            }
            Event::Authenticate(credentials) => {
                flush(session, stream, write_limit).await?;
                let handler = &context.handler;
                let result = handler
                    .authenticate(credentials.username(), credentials.password())
                    .await;
                session.finish_authentication(result);
            }
            Event::Accept(message) => {
                flush(session, stream, write_limit).await?;
                let result = context.handler.accept(*message).await;
                session.finish_accept(result);
            }
            Event::StartTls => {
                flush(session, stream, write_limit).await?;
                return Ok(Transition::StartTls);
            }
            Event::Close => {
                flush(session, stream, write_limit).await?;
                let _ = timeout(Duration::from_secs(1), stream.shutdown()).await;
                return Ok(Transition::Closed);
            }
            Event::Waiting => {
                return Err(io::Error::other("session event left unfinished"));
            }
        }
    }
}

/// Writes the session's pending replies.
async fn flush<S: AsyncWrite + Unpin>(
    session: &mut Session,
    stream: &mut S,
    limit: Duration,
) -> io::Result<()> {
    let output = session.take_output();
    if output.is_empty() {
        return Ok(());
    }
    let write = async {
        stream.write_all(&output).await?;
        stream.flush().await
    };
    timeout(limit, write)
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "client does not read replies"))?
}

/// Refuses a connection over a limit: `421` on the STARTTLS listener; on the implicit-TLS
/// listener the connection is closed without a handshake, which would cost more than the
/// refusal is worth.
async fn refuse(mut tcp: TcpStream, listener: Listener, refusal: Refusal) {
    tracing::info!(?refusal, reply = 421, "connection refused: limit reached");
    if listener == Listener::StartTls {
        let reply: &[u8] = match refusal {
            Refusal::Total => b"421 4.3.2 Too many connections, try again later\r\n",
            Refusal::PerIp => b"421 4.7.0 Too many connections from your address\r\n",
        };
        let _ = timeout(Duration::from_secs(5), tcp.write_all(reply)).await;
    }
}

/// A random id for one session (logs, `Received:`, [`SubmittedMessage`]).
///
/// [`SubmittedMessage`]: super::SubmittedMessage
fn session_id() -> String {
    let mut bytes = [0u8; 8];
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos as u64).to_be_bytes();
    }
    hex::encode(bytes)
}

/// The server's shutdown signal, seen once per connection.
struct ShutdownSignal {
    receiver: watch::Receiver<bool>,
    seen: bool,
}

impl ShutdownSignal {
    fn new(receiver: watch::Receiver<bool>) -> ShutdownSignal {
        ShutdownSignal {
            receiver,
            seen: false,
        }
    }

    /// Completes once when shutdown begins (or the server is gone), then never again.
    async fn triggered(&mut self) {
        if !self.seen {
            loop {
                if *self.receiver.borrow_and_update() {
                    break;
                }
                if self.receiver.changed().await.is_err() {
                    break;
                }
            }
            self.seen = true;
            return;
        }
        std::future::pending::<()>().await;
    }
}
