//! Certificates for tests, made with rcgen.

use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A certificate authority created for one test.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    certificate: CertificateDer<'static>,
    pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa")
    }
}

/// A server certificate chain and its private key.
#[derive(Clone)]
pub struct ServerIdentity {
    /// Leaf first, then the CA certificate if any.
    pub chain: Vec<CertificateDer<'static>>,
    key: Arc<PrivatePkcs8KeyDer<'static>>,
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("chain", &self.chain.len())
            .finish()
    }
}

impl TestCa {
    /// A new CA named `name`.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = generate_key();
        let certificate = params
            .self_signed(&key)
            .unwrap_or_else(|e| panic!("test CA: {e}"));
        let pem = certificate.pem();
        let certificate = certificate.der().clone();
        TestCa {
            issuer: Issuer::new(params, key),
            certificate,
            pem,
        }
    }

    /// The CA certificate in PEM (for `trust_ca_file`).
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate in DER.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.certificate
    }

    /// A currently valid certificate for `names`.
    pub fn issue(&self, names: &[&str]) -> ServerIdentity {
        self.issue_with(names, false)
    }

    /// A certificate for `names` that expired in 2021.
    pub fn issue_expired(&self, names: &[&str]) -> ServerIdentity {
        self.issue_with(names, true)
    }

    fn issue_with(&self, names: &[&str], expired: bool) -> ServerIdentity {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).unwrap_or_else(|e| panic!("test cert: {e}"));
        params
            .distinguished_name
            .push(DnType::CommonName, "carepost test server");
        if expired {
            params.not_before = rcgen::date_time_ymd(2020, 1, 1);
            params.not_after = rcgen::date_time_ymd(2021, 1, 1);
        }
        let key = generate_key();
        let certificate = params
            .signed_by(&key, &self.issuer)
            .unwrap_or_else(|e| panic!("test cert: {e}"));
        ServerIdentity {
            chain: vec![certificate.der().clone(), self.certificate.clone()],
            key: Arc::new(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

/// A self-signed certificate for `names` (trusted by nobody, but usable with DANE-EE).
pub fn self_signed(names: &[&str]) -> ServerIdentity {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let params = CertificateParams::new(names).unwrap_or_else(|e| panic!("test cert: {e}"));
    let key = generate_key();
    let certificate = params
        .self_signed(&key)
        .unwrap_or_else(|e| panic!("test cert: {e}"));
    ServerIdentity {
        chain: vec![certificate.der().clone()],
        key: Arc::new(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

impl ServerIdentity {
    /// The leaf certificate.
    pub fn leaf(&self) -> &CertificateDer<'static> {
        &self.chain[0]
    }

    /// A rustls server configuration presenting this identity (TLS 1.2 and 1.3).
    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let key = PrivateKeyDer::Pkcs8(self.key.as_ref().clone_key());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| {
                b.with_no_client_auth()
                    .with_single_cert(self.chain.clone(), key)
            })
            .unwrap_or_else(|e| panic!("test server TLS config: {e}"));
        Arc::new(config)
    }
}

fn generate_key() -> KeyPair {
    KeyPair::generate().unwrap_or_else(|e| panic!("test key: {e}"))
}
