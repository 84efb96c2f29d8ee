//! Fetching `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.3).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use thiserror::Error;

use super::policy::{MAX_POLICY_SIZE, StsPolicy, StsPolicyError};

/// Where and how policies are fetched. The defaults follow RFC 8461.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// HTTPS port of the policy host (443; tests use a local port).
    pub port: u16,
    /// Fixed addresses for policy hosts (`mta-sts.<domain>` → address), bypassing DNS.
    pub resolve: HashMap<String, SocketAddr>,
    /// Overall time limit for one fetch.
    pub timeout: Duration,
}

impl Default for FetchConfig {
    fn default() -> FetchConfig {
        FetchConfig {
            port: 443,
            resolve: HashMap::new(),
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why a policy could not be fetched.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The HTTP client could not be built.
    #[error("cannot set up the MTA-STS HTTPS client: {0}")]
    Setup(String),
    /// Connection, TLS (including certificate verification) or timeout failure.
    #[error("fetching the MTA-STS policy of {domain} failed: {detail}")]
    Transport {
        /// The policy domain.
        domain: String,
        /// What failed.
        detail: String,
    },
    /// Any status other than 200 (redirects are not followed, RFC 8461 §3.3).
    #[error("the MTA-STS policy server of {domain} answered HTTP {status}; expected 200")]
    Status {
        /// The policy domain.
        domain: String,
        /// The HTTP status.
        status: u16,
    },
    /// The response was not `text/plain`.
    #[error("the MTA-STS policy of {domain} is served as {content_type:?}; expected text/plain")]
    ContentType {
        /// The policy domain.
        domain: String,
        /// The received media type.
        content_type: String,
    },
    /// The body was not a valid policy.
    #[error("the MTA-STS policy of {domain} is invalid: {source}")]
    Policy {
        /// The policy domain.
        domain: String,
        /// The parse error.
        source: StsPolicyError,
    },
}

/// Fetches policy files over HTTPS with a verified certificate, without redirects,
/// within a size and time limit.
#[derive(Debug, Clone)]
pub struct MtaStsFetcher {
    client: reqwest::Client,
    port: u16,
}

impl MtaStsFetcher {
    /// A fetcher trusting `roots` (the WebPKI roots, plus any operator CAs).
    pub fn new(
        roots: Arc<RootCertStore>,
        config: FetchConfig,
    ) -> Result<MtaStsFetcher, FetchError> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| FetchError::Setup(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();

        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .no_proxy()
            .timeout(config.timeout)
            .user_agent("carepost-mta-sts");
        for (host, address) in &config.resolve {
            builder = builder.resolve(host, *address);
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Setup(e.to_string()))?;
        Ok(MtaStsFetcher {
            client,
            port: config.port,
        })
    }

    /// Fetches and parses the policy of `domain`.
    pub async fn fetch(&self, domain: &str) -> Result<StsPolicy, FetchError> {
        let url = match self.port {
            443 => format!("https://mta-sts.{domain}/.well-known/mta-sts.txt"),
            port => format!("https://mta-sts.{domain}:{port}/.well-known/mta-sts.txt"),
        };
        let transport = |e: reqwest::Error| FetchError::Transport {
            domain: domain.into(),
            detail: error_chain(&e),
        };

        let mut response = self.client.get(url).send().await.map_err(transport)?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(FetchError::Status {
                domain: domain.into(),
                status,
            });
        }
        check_content_type(domain, response.headers())?;

        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_POLICY_SIZE {
                let source = StsPolicyError::TooLarge;
                return Err(FetchError::Policy {
                    domain: domain.into(),
                    source,
                });
            }
            body.extend_from_slice(&chunk);
        }
        StsPolicy::parse(&body).map_err(|source| FetchError::Policy {
            domain: domain.into(),
            source,
        })
    }
}

fn check_content_type(
    domain: &str,
    headers: &reqwest::header::HeaderMap,
) -> Result<(), FetchError> {
    let value = headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let media_type = value.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("text/plain") {
        return Ok(());
    }
    Err(FetchError::ContentType {
        domain: domain.into(),
        content_type: value.into(),
    })
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
