//! Certificate verification for outbound SMTP: DANE when secure TLSA records exist,
//! otherwise WebPKI for the MX host name; every decision is recorded for the evidence.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::dane::{self, DaneMatch};
use crate::dns::TlsaRecord;

/// How a server certificate was (or was to be) authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationMethod {
    /// WebPKI chain to a trusted root, valid for the MX host name.
    WebPki,
    /// WebPKI, for an MX host listed by the domain's MTA-STS policy in enforce mode.
    MtaStsWebPki,
    /// DANE-EE(3) TLSA record matched the server's certificate or key.
    DaneEe,
    /// DANE-TA(2) TLSA record matched a trust anchor of a chain valid for the MX name.
    DaneTa,
    /// DANE TLSA records were required but did not match.
    Dane,
}

/// The result of verifying one server certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateVerification {
    /// Which method decided.
    pub method: VerificationMethod,
    /// Whether the certificate was accepted.
    pub verified: bool,
    /// Why it was refused (absent when verified).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What a server certificate must satisfy on one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertRequirement {
    /// Usable TLSA records from a DNSSEC-secure answer: DANE decides, WebPKI is not used.
    Dane(Vec<TlsaRecord>),
    /// WebPKI for the MX host name; `mta_sts` records that an enforced policy applies.
    WebPki {
        /// Whether an MTA-STS policy in enforce mode listed this MX host.
        mta_sts: bool,
    },
}

/// A problem with the operator's TLS trust configuration.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// The `trust_ca_file` could not be read.
    #[error("cannot read the trusted CA file {path}: {source}")]
    ReadCaFile {
        /// The configured path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The CA file holds no usable certificate.
    #[error("the trusted CA file contains no usable PEM certificate: {0}")]
    BadCaFile(String),
    /// rustls refused the configuration.
    #[error("TLS configuration error: {0}")]
    Rustls(String),
}

/// The trust roots for outbound TLS and the crypto provider (aws-lc-rs).
///
/// By default only the WebPKI roots (Mozilla's list, from `webpki-roots`) are trusted;
/// an operator may add private CAs (`delivery.trust_ca_file`).
#[derive(Clone)]
pub struct TrustStore {
    roots: Arc<RootCertStore>,
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl fmt::Debug for TrustStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustStore")
            .field("roots", &self.roots.len())
            .finish()
    }
}

impl TrustStore {
    /// Trusts the WebPKI roots only.
    pub fn webpki_roots() -> Result<TrustStore, TlsSetupError> {
        TrustStore::with_roots(webpki_root_store())
    }

    /// Trusts the WebPKI roots plus the CAs in PEM text `pem`.
    pub fn with_extra_ca_pem(pem: &[u8]) -> Result<TrustStore, TlsSetupError> {
        let mut roots = webpki_root_store();
        let mut added = 0;
        for certificate in CertificateDer::pem_slice_iter(pem) {
            let certificate = certificate.map_err(|e| TlsSetupError::BadCaFile(e.to_string()))?;
            roots
                .add(certificate)
                .map_err(|e| TlsSetupError::BadCaFile(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(TlsSetupError::BadCaFile(
                "no CERTIFICATE block found".into(),
            ));
        }
        TrustStore::with_roots(roots)
    }

    /// Trusts the WebPKI roots plus, if given, the CAs in the PEM file at `path`.
    pub fn from_config(trust_ca_file: Option<&Path>) -> Result<TrustStore, TlsSetupError> {
        let Some(path) = trust_ca_file else {
            return TrustStore::webpki_roots();
        };
        let pem = std::fs::read(path).map_err(|source| TlsSetupError::ReadCaFile {
            path: path.display().to_string(),
            source,
        })?;
        TrustStore::with_extra_ca_pem(&pem)
    }

    fn with_roots(roots: RootCertStore) -> Result<TrustStore, TlsSetupError> {
        let roots = Arc::new(roots);
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let webpki = WebPkiServerVerifier::builder_with_provider(roots.clone(), provider.clone())
            .build()
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?;
        Ok(TrustStore {
            roots,
            webpki,
            provider,
        })
    }

    /// The trusted roots (also used for the MTA-STS policy fetch).
    pub fn roots(&self) -> Arc<RootCertStore> {
        self.roots.clone()
    }

    /// The crypto provider.
    pub fn provider(&self) -> &Arc<CryptoProvider> {
        &self.provider
    }

    /// A rustls client configuration for one connection to `mx_host` under `requirement`,
    /// together with the verifier that records the decision. TLS 1.2 and 1.3 only;
    /// session resumption is off so that every connection verifies the certificate.
    pub fn client_config(
        &self,
        mx_host: ServerName<'static>,
        requirement: CertRequirement,
    ) -> Result<(Arc<ClientConfig>, Arc<DestinationVerifier>), TlsSetupError> {
        let verifier = Arc::new(DestinationVerifier::new(
            self.clone(),
            mx_host,
            requirement,
            false,
        ));
        let config = self.config_with(verifier.clone())?;
        Ok((config, verifier))
    }

    /// Like [`TrustStore::client_config`], but the handshake completes even when the
    /// certificate fails, so that a TLS check can report the TLS version and the reason.
    /// Never use it to send mail.
    pub(crate) fn danger_record_only_config(
        &self,
        mx_host: ServerName<'static>,
        requirement: CertRequirement,
    ) -> Result<(Arc<ClientConfig>, Arc<DestinationVerifier>), TlsSetupError> {
        let verifier = Arc::new(DestinationVerifier::new(
            self.clone(),
            mx_host,
            requirement,
            true,
        ));
        let config = self.config_with(verifier.clone())?;
        Ok((config, verifier))
    }

    fn config_with(
        &self,
        verifier: Arc<DestinationVerifier>,
    ) -> Result<Arc<ClientConfig>, TlsSetupError> {
        let mut config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| TlsSetupError::Rustls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        config.resumption = rustls::client::Resumption::disabled();
        Ok(Arc::new(config))
    }
}

fn webpki_root_store() -> RootCertStore {
    RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    }
}

/// A per-connection certificate verifier that applies a [`CertRequirement`] and
/// remembers its decision for the delivery evidence.
pub struct DestinationVerifier {
    trust: TrustStore,
    mx_host: ServerName<'static>,
    requirement: CertRequirement,
    record_only: bool,
    outcome: Mutex<Option<CertificateVerification>>,
}

impl fmt::Debug for DestinationVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DestinationVerifier")
            .field("mx_host", &self.mx_host)
            .finish()
    }
}

impl DestinationVerifier {
    fn new(
        trust: TrustStore,
        mx_host: ServerName<'static>,
        requirement: CertRequirement,
        record_only: bool,
    ) -> Self {
        DestinationVerifier {
            trust,
            mx_host,
            requirement,
            record_only,
            outcome: Mutex::new(None),
        }
    }

    /// The recorded decision, once the server's certificate has been seen.
    pub fn outcome(&self) -> Option<CertificateVerification> {
        self.outcome
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn decide(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        ocsp: &[u8],
        now: UnixTime,
    ) -> (VerificationMethod, Result<(), String>) {
        match &self.requirement {
            CertRequirement::Dane(records) => {
                let result = dane::verify(
                    records,
                    end_entity,
                    intermediates,
                    &self.mx_host,
                    now,
                    &self.trust.provider,
                );
                match result {
                    Ok(DaneMatch::DaneEe) => (VerificationMethod::DaneEe, Ok(())),
                    Ok(DaneMatch::DaneTa) => (VerificationMethod::DaneTa, Ok(())),
                    Err(error) => (VerificationMethod::Dane, Err(error.to_string())),
                }
            }
            CertRequirement::WebPki { mta_sts } => {
                let method = if *mta_sts {
                    VerificationMethod::MtaStsWebPki
                } else {
                    VerificationMethod::WebPki
                };
                let result = self.trust.webpki.verify_server_cert(
                    end_entity,
                    intermediates,
                    &self.mx_host,
                    ocsp,
                    now,
                );
                (method, result.map(|_| ()).map_err(|e| e.to_string()))
            }
        }
    }
}

impl ServerCertVerifier for DestinationVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The name to check is the MX host fixed at construction, never the SNI value.
        let (method, result) = self.decide(end_entity, intermediates, ocsp_response, now);
        let verification = CertificateVerification {
            method,
            verified: result.is_ok(),
            error: result.as_ref().err().cloned(),
        };
        *self.outcome.lock().unwrap_or_else(|p| p.into_inner()) = Some(verification);

        match result {
            Ok(()) => Ok(ServerCertVerified::assertion()),
            Err(_) if self.record_only => Ok(ServerCertVerified::assertion()),
            Err(error) => Err(rustls::Error::General(format!(
                "certificate refused: {error}"
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.trust.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.trust.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.trust
            .provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
