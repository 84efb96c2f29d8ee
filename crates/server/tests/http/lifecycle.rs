use std::sync::Arc;

use axum::routing::get;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use super::*;

#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let entered = Arc::new(Notify::new());
    let release = Arc::new(Notify::new());
    let (e, rel) = (entered.clone(), release.clone());
    let slow = Router::new().route(
        "/slow",
        get(move || {
            let (e, rel) = (e.clone(), rel.clone());
            async move {
                e.notify_one();
                rel.notified().await;
                "finished"
            }
        }),
    );
    let mut r = start_with(Arc::new(TestDb::new(Kind::Sqlite).await), slow, None).await;
    let request = tokio::spawn(reqwest::get(url(&r, "/slow")));
    entered.notified().await;
    r.stop.take().unwrap().send(()).unwrap();
    // Draining: the listener closes (new connections are refused, within a bounded wait)
    // while the request in flight keeps the server from returning.
    let mut refused = false;
    for _ in 0..500 {
        if tokio::net::TcpStream::connect(r.addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        refused,
        "the server kept accepting connections after the shutdown signal"
    );
    assert!(
        !r.done.is_finished(),
        "the server returned with a request still in flight"
    );
    release.notify_one();
    let resp = request.await.unwrap().unwrap();
    assert_eq!(resp.text().await.unwrap(), "finished");
    r.done.await.unwrap().unwrap();
}

fn test_cert(
    dir: &std::path::Path,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    rustls_pki_types::CertificateDer<'static>,
) {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.self_signed(&key).unwrap();
    let (c, k) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&c, cert.pem()).unwrap();
    std::fs::write(&k, key.serialize_pem()).unwrap();
    (c, k, cert.der().clone())
}

#[tokio::test]
async fn serves_https_with_tls_1_2_or_newer() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key, der) = test_cert(dir.path());
    let config = carepost_server::tls::server_config(&cert, &key).unwrap();
    let r = start_with(
        Arc::new(TestDb::new(Kind::Sqlite).await),
        Router::new(),
        Some(config),
    )
    .await;

    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let tcp = tokio::net::TcpStream::connect(r.addr).await.unwrap();
    let mut tls = connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    let version = tls.get_ref().1.protocol_version().unwrap();
    assert!(matches!(
        version,
        rustls::ProtocolVersion::TLSv1_3 | rustls::ProtocolVersion::TLSv1_2
    ));
    tls.write_all(b"GET /healthz HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut resp = String::new();
    tls.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains(r#"{"status":"ok"}"#), "{resp}");

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = reqwest::get(url(&r, "/healthz")).await;
    assert!(plain.is_err());
}

#[test]
fn a_key_that_does_not_match_the_certificate_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _key, _) = test_cert(dir.path());
    let other = dir.path().join("other.pem");
    std::fs::write(&other, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
    let err = carepost_server::tls::server_config(&cert, &other)
        .err()
        .unwrap();
    assert!(err.to_string().contains("key"), "{err}");
    let missing = carepost_server::tls::server_config(&dir.path().join("none.pem"), &other)
        .err()
        .unwrap();
    assert!(missing.to_string().contains("server.tls_cert"), "{missing}");
}
