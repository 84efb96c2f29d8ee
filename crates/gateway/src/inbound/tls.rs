//! TLS for the submission listeners: a server configuration from PEM, and what the driver
//! records about a negotiated session.
//!
//! rustls implements TLS 1.2 and 1.3 only, so any `rustls::ServerConfig` given to
//! [`SubmissionServer::new`](super::SubmissionServer::new) meets the TLS 1.2+ requirement.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::handler::TlsInfo;

/// Why a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// The certificate PEM holds no readable certificate.
    #[error("submission TLS certificate: {0}")]
    Certificate(String),
    /// The key PEM holds no readable private key.
    #[error("submission TLS private key: {0}")]
    Key(String),
    /// rustls refused the pair.
    #[error("submission TLS configuration refused: {0}; does the key belong to the certificate?")]
    Rustls(#[from] rustls::Error),
}

/// A server configuration presenting `cert_pem` (leaf first, then intermediates) with the
/// key in `key_pem`: TLS 1.2 and 1.3, the aws-lc-rs provider, no client certificates.
pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsConfigError::Certificate(e.to_string()))?;
    if chain.is_empty() {
        return Err(TlsConfigError::Certificate(
            "no certificate in the PEM".into(),
        ));
    }
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsConfigError::Key(e.to_string()))?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    Ok(Arc::new(config))
}

/// The version and cipher suite of an established server connection.
pub(super) fn session_info(connection: &rustls::ServerConnection) -> TlsInfo {
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_owned(),
    };
    let cipher_suite = connection.negotiated_cipher_suite().map_or_else(
        || "unknown".to_owned(),
        |suite| {
            suite
                .suite()
                .as_str()
                .map_or_else(|| format!("{:?}", suite.suite()), str::to_owned)
        },
    );
    TlsInfo {
        version,
        cipher_suite,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_a_configuration_from_pem_and_refuses_garbage() {
        let certified =
            rcgen::generate_simple_self_signed(vec!["mail.clinic.test".to_owned()]).unwrap();
        let cert = certified.cert.pem();
        let key = certified.signing_key.serialize_pem();
        assert!(server_config(cert.as_bytes(), key.as_bytes()).is_ok());

        let refused = server_config(b"not a certificate", key.as_bytes());
        assert!(matches!(refused, Err(TlsConfigError::Certificate(_))));
        let refused = server_config(cert.as_bytes(), b"");
        assert!(matches!(refused, Err(TlsConfigError::Key(_))));
        let other = rcgen::generate_simple_self_signed(vec!["x.test".to_owned()]).unwrap();
        let mismatched = server_config(
            cert.as_bytes(),
            other.signing_key.serialize_pem().as_bytes(),
        );
        assert!(matches!(mismatched, Err(TlsConfigError::Rustls(_))));
    }
}
