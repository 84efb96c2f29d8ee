//! One verified-TLS SMTP connection to one MX address.
//!
//! Written directly over tokio-rustls rather than with mail-send: the engine needs every
//! recipient's own reply out of a pipelined transaction (mail-send stops at the first
//! refused RCPT), must refuse bytes buffered before the TLS handshake, and must read
//! the TLS session and the verifier's decision for the evidence.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls_pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::outcome::{
    AttemptEvidence, FailureReason, RecipientOutcome, SmtpStage, TlsFailure, TlsSession,
};
use super::plan::PlannedHost;
use super::tls::{CertificateVerification, DestinationVerifier, TlsSetupError, TrustStore};
use super::wire::{Capabilities, Timeouts, Wire};

/// Client settings shared by all connections.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The name sent with EHLO (this server's public host name).
    pub ehlo_name: String,
    /// Time limits.
    pub timeouts: Timeouts,
    /// Credentials to authenticate with after TLS (smarthost mode); never sent before
    /// the certificate verified.
    pub auth: Option<SmtpAuth>,
}

impl ClientOptions {
    /// Options with default time limits.
    pub fn new(ehlo_name: impl Into<String>) -> ClientOptions {
        ClientOptions {
            ehlo_name: ehlo_name.into(),
            timeouts: Timeouts::default(),
            auth: None,
        }
    }
}

/// A user name and password for AUTH PLAIN (RFC 4616) to a relay. `Debug` hides the
/// password.
#[derive(Clone)]
pub struct SmtpAuth {
    /// The user name.
    pub username: String,
    /// The password, wiped from memory when dropped.
    pub password: zeroize::Zeroizing<String>,
}

impl std::fmt::Debug for SmtpAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpAuth")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// AUTH PLAIN over the verified TLS connection; anything but 235 refuses the relay.
async fn authenticate<S>(wire: &mut Wire<S>, auth: &SmtpAuth) -> Result<(), FailureReason>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use base64::Engine;
    let token = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(format!(
        "\0{}\0{}",
        auth.username,
        auth.password.as_str()
    )));
    let line = zeroize::Zeroizing::new(format!("AUTH PLAIN {}", token.as_str()));
    let reply = wire.command(&line, SmtpStage::Auth).await?;
    if reply.code == 235 {
        Ok(())
    } else {
        Err(FailureReason::Rejected {
            stage: SmtpStage::Auth,
            reply,
        })
    }
}

/// A failed connection attempt; nothing was sent.
#[derive(Debug, Clone)]
pub struct ConnectFailure {
    /// Why.
    pub reason: FailureReason,
    /// The TLS session, if the handshake completed.
    pub tls: Option<TlsSession>,
    /// The certificate decision, if a certificate was seen.
    pub certificate: Option<CertificateVerification>,
}

/// The plaintext phase: greeting and first EHLO.
pub(crate) async fn open_plain(
    address: SocketAddr,
    options: &ClientOptions,
) -> Result<(Wire<TcpStream>, Capabilities), FailureReason> {
    let connect = TcpStream::connect(address);
    let stream = match tokio::time::timeout(options.timeouts.connect, connect).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            return Err(FailureReason::Network {
                stage: SmtpStage::Connect,
                detail: e.to_string(),
            });
        }
        Err(_) => {
            return Err(FailureReason::Network {
                stage: SmtpStage::Connect,
                detail: "timed out".into(),
            });
        }
    };
    let _ = stream.set_nodelay(true);
    let mut wire = Wire::new(stream, options.timeouts);

    let greeting = wire.reply(SmtpStage::Greeting).await?;
    if greeting.code != 220 {
        return Err(FailureReason::Rejected {
            stage: SmtpStage::Greeting,
            reply: greeting,
        });
    }
    let caps = ehlo(&mut wire, &options.ehlo_name).await?;
    Ok((wire, caps))
}

async fn ehlo<S>(wire: &mut Wire<S>, name: &str) -> Result<Capabilities, FailureReason>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let reply = wire
        .command(&format!("EHLO {name}"), SmtpStage::Ehlo)
        .await?;
    if !reply.is_positive() {
        return Err(FailureReason::Rejected {
            stage: SmtpStage::Ehlo,
            reply,
        });
    }
    Ok(Capabilities::from_ehlo(&reply))
}

/// STARTTLS and the handshake. Refuses when STARTTLS is absent, refused, or when the
/// server sent anything after its 220 (those bytes would otherwise be read as if they
/// had come over TLS).
pub(crate) async fn start_tls(
    mut wire: Wire<TcpStream>,
    caps: &Capabilities,
    config: Arc<rustls::ClientConfig>,
    verifier: &DestinationVerifier,
    mx_host: ServerName<'static>,
    mx_name: &str,
) -> Result<Wire<TlsStream<TcpStream>>, ConnectFailure> {
    let unmet = |failure| ConnectFailure {
        reason: FailureReason::TlsRequirementUnmet {
            mx_host: mx_name.into(),
            failure,
        },
        tls: None,
        certificate: verifier.outcome(),
    };
    if !caps.starttls {
        let _ = wire.command("QUIT", SmtpStage::Reset).await;
        return Err(unmet(TlsFailure::StartTlsNotOffered));
    }
    let reply = wire
        .command("STARTTLS", SmtpStage::StartTls)
        .await
        .map_err(|reason| ConnectFailure {
            reason,
            tls: None,
            certificate: None,
        })?;
    if reply.code != 220 {
        let _ = wire.command("QUIT", SmtpStage::Reset).await;
        return Err(unmet(TlsFailure::StartTlsRejected { reply }));
    }
    if !wire.io.buffer().is_empty() {
        return Err(unmet(TlsFailure::DataBeforeHandshake));
    }

    let timeouts = wire.timeouts;
    let tcp = wire.io.into_inner();
    let handshake = TlsConnector::from(config).connect(mx_host, tcp);
    match tokio::time::timeout(timeouts.command, handshake).await {
        Ok(Ok(stream)) => Ok(Wire::new(stream, timeouts)),
        Ok(Err(error)) => Err(handshake_failure(mx_name, verifier, error.to_string())),
        Err(_) => Err(handshake_failure(mx_name, verifier, "timed out".into())),
    }
}

fn handshake_failure(
    mx_name: &str,
    verifier: &DestinationVerifier,
    detail: String,
) -> ConnectFailure {
    let certificate = verifier.outcome();
    let failure = match &certificate {
        Some(verification) if !verification.verified => TlsFailure::CertificateRefused {
            verification: verification.clone(),
        },
        _ => TlsFailure::Handshake { detail },
    };
    ConnectFailure {
        reason: FailureReason::TlsRequirementUnmet {
            mx_host: mx_name.into(),
            failure,
        },
        tls: None,
        certificate,
    }
}

pub(crate) fn session_of(stream: &TlsStream<TcpStream>) -> Option<TlsSession> {
    let (_, connection) = stream.get_ref();
    let version = match connection.protocol_version()? {
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_owned(),
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_owned(),
        other => format!("{other:?}"),
    };
    let suite = connection.negotiated_cipher_suite()?;
    let cipher_suite = suite
        .suite()
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{:?}", suite.suite()));
    Some(TlsSession {
        version,
        cipher_suite,
    })
}

/// An open SMTP session over verified TLS, ready for transactions.
pub struct SmtpConnection {
    pub(super) wire: Wire<TlsStream<TcpStream>>,
    pub(super) caps: Capabilities,
    pub(super) host: PlannedHost,
    address: SocketAddr,
    pub(super) tls: TlsSession,
    pub(super) certificate: CertificateVerification,
    pub(super) broken: bool,
}

impl SmtpConnection {
    /// Connects to `address` of `host` and establishes verified TLS. Nothing is ever sent
    /// unless this returns `Ok`.
    pub async fn connect(
        trust: &TrustStore,
        options: &ClientOptions,
        host: &PlannedHost,
        address: SocketAddr,
    ) -> Result<SmtpConnection, ConnectFailure> {
        let requirement = host.requirement.clone().map_err(|failure| ConnectFailure {
            reason: FailureReason::TlsRequirementUnmet {
                mx_host: host.mx.name.clone(),
                failure,
            },
            tls: None,
            certificate: None,
        })?;
        let server_name = server_name(&host.mx.name).map_err(|reason| plain_failure(*reason))?;
        let (config, verifier) = trust
            .client_config(server_name.clone(), requirement)
            .map_err(|e: TlsSetupError| {
                plain_failure(FailureReason::Unsendable {
                    detail: e.to_string(),
                })
            })?;

        let (wire, caps) = open_plain(address, options).await.map_err(plain_failure)?;
        let mut wire =
            start_tls(wire, &caps, config, &verifier, server_name, &host.mx.name).await?;

        let tls = session_of(wire.io.get_ref());
        let certificate = verifier.outcome();
        let (Some(tls), Some(certificate)) = (tls, certificate.filter(|c| c.verified)) else {
            // Unreachable with rustls, but never send without both facts recorded.
            let detail = "TLS established without a recorded certificate decision".into();
            return Err(handshake_failure(&host.mx.name, &verifier, detail));
        };
        let caps = ehlo(&mut wire, &options.ehlo_name)
            .await
            .map_err(|reason| ConnectFailure {
                reason,
                tls: Some(tls.clone()),
                certificate: Some(certificate.clone()),
            })?;
        if let Some(auth) = &options.auth {
            authenticate(&mut wire, auth)
                .await
                .map_err(|reason| ConnectFailure {
                    reason,
                    tls: Some(tls.clone()),
                    certificate: Some(certificate.clone()),
                })?;
        }
        tracing::debug!(mx = %host.mx.name, %address, version = %tls.version, method = ?certificate.method, "verified TLS established");
        Ok(SmtpConnection {
            wire,
            caps,
            host: host.clone(),
            address,
            tls,
            certificate,
            broken: false,
        })
    }

    /// Whether the connection can carry another transaction.
    pub fn is_usable(&self) -> bool {
        !self.broken
    }

    /// The negotiated TLS session.
    pub fn tls(&self) -> &TlsSession {
        &self.tls
    }

    /// Evidence of this connection for `recipient` with `outcome`.
    pub fn evidence(&self, recipient: &str, outcome: RecipientOutcome) -> AttemptEvidence {
        AttemptEvidence {
            recipient: recipient.to_owned(),
            mx_host: self.host.mx.name.clone(),
            ip: Some(self.address.ip()),
            port: Some(self.address.port()),
            tls: Some(self.tls.clone()),
            certificate: Some(self.certificate.clone()),
            mta_sts: self.host.mta_sts.clone(),
            dane: self.host.dane.clone(),
            outcome,
        }
    }

    /// Sends QUIT and closes.
    pub async fn quit(mut self) {
        if !self.broken {
            let _ = self.wire.command("QUIT", SmtpStage::Reset).await;
        }
    }
}

fn plain_failure(reason: FailureReason) -> ConnectFailure {
    ConnectFailure {
        reason,
        tls: None,
        certificate: None,
    }
}

pub(crate) fn server_name(mx_host: &str) -> Result<ServerName<'static>, Box<FailureReason>> {
    ServerName::try_from(mx_host.to_owned()).map_err(|_| {
        Box::new(FailureReason::Dns {
            detail: format!("{mx_host:?} is not a valid host name"),
        })
    })
}
