use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;

async fn key(r: &Running, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    r.org
        .create_api_key(&AccessContext::system("test"), "test", &scopes)
        .await
        .unwrap()
        .token
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let r = start().await;
    let c = reqwest::Client::new();
    let h = c.get(url(&r, "/healthz")).send().await.unwrap();
    assert_eq!(h.status(), StatusCode::OK);
    let ready: Value = c
        .get(url(&r, "/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready, json!({ "status": "ready", "store": "sqlite" }));
    let m = c.get(url(&r, "/metrics")).send().await.unwrap();
    assert!(
        m.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = m.text().await.unwrap();
    assert!(text.contains("carepost_http_requests_total"), "{text}");
    assert!(text.contains(r#"route="/healthz""#), "{text}");
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let r = start().await;
    let c = reqwest::Client::new();
    let given = c
        .get(url(&r, "/healthz"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-request-id"], "abc-123");
    let made = c.get(url(&r, "/healthz")).send().await.unwrap();
    assert_eq!(made.headers()["x-request-id"].len(), 36);
    let insane = c
        .get(url(&r, "/nope"))
        .header("x-request-id", "a b\tc<script>")
        .send()
        .await
        .unwrap();
    assert_eq!(insane.status(), StatusCode::NOT_FOUND);
    assert_ne!(insane.headers()["x-request-id"], "a b\tc<script>");
    let body: Value = insane.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_found");
}

#[tokio::test]
async fn contacts_need_a_key_with_the_right_scope() {
    let r = start().await;
    let c = reqwest::Client::new();
    let body = json!({ "email": "maria@example.org" });
    let none = c
        .post(url(&r, "/api/v1/contacts"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let wrong = c
        .post(url(&r, "/api/v1/contacts"))
        .bearer_auth("cpk_0123456789abcdef_nope")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let dlp_only = key(&r, &["dlp:scan"]).await;
    let forbidden = c
        .post(url(&r, "/api/v1/contacts"))
        .bearer_auth(&dlp_only)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.org.contact_count().await.unwrap(), 0);
}

#[tokio::test]
async fn a_contact_created_over_the_api_is_read_back_and_audited() {
    let r = start().await;
    let c = reqwest::Client::new();
    let k = key(&r, &["contacts:read", "contacts:write"]).await;
    let body = json!({ "email": "maria@example.org", "given_name": "Maria", "attributes": { "risk": "high" } });
    let created = c
        .post(url(&r, "/api/v1/contacts"))
        .bearer_auth(&k)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let id = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let got: Value = c
        .get(url(&r, &format!("/api/v1/contacts/{id}")))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["email"], "maria@example.org");
    assert_eq!(got["attributes"]["risk"], "high");

    let records = r.org.audit_records(0, 100).await.unwrap();
    let read = records.iter().find(|x| x.action == "contact.read").unwrap();
    assert_eq!(read.actor.kind(), "api_key");
    assert_eq!(read.source.as_deref(), Some("127.0.0.1"));
    assert_eq!(read.object.id, id);

    let del = c
        .delete(url(&r, &format!("/api/v1/contacts/{id}")))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), StatusCode::NO_CONTENT);
    let gone = c
        .get(url(&r, &format!("/api/v1/contacts/{id}")))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    let bad_id = c
        .get(url(&r, "/api/v1/contacts/not-a-uuid"))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_id.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn malformed_bodies_get_a_400_naming_the_field_and_change_nothing() {
    let r = start().await;
    let c = reqwest::Client::new();
    let k = key(&r, &["contacts:write"]).await;
    let post = |body: String| {
        c.post(url(&r, "/api/v1/contacts"))
            .bearer_auth(&k)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    let resp = post(r#"{"email": "a@b.org", "given_name": 123456789}"#.into())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let e: Value = resp.json().await.unwrap();
    assert_eq!(e["error"]["code"], "invalid_body");
    assert_eq!(e["error"]["field"], "given_name");
    assert!(!e.to_string().contains("123456789"), "{e}");

    let e: Value = post(r#"{"given_name": "Maria"}"#.into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("missing field `email`"),
        "{e}"
    );

    let e: Value = post(r#"{"email": "a@b.org", "ssn": "123-45-6789"}"#.into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field `ssn`"),
        "{e}"
    );
    assert!(!e.to_string().contains("123-45-6789"), "{e}");

    let resp = post("{broken".into()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    let resp = post(r#"{"email": "not an address"}"#.into()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let e: Value = resp.json().await.unwrap();
    assert!(!e.to_string().contains("not an address"), "{e}");

    let big = format!(
        r#"{{"email": "a@b.org", "given_name": "{}"}}"#,
        "x".repeat(70_000)
    );
    assert_eq!(
        post(big).await.unwrap().status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );

    let form = c
        .post(url(&r, "/api/v1/contacts"))
        .bearer_auth(&k)
        .body("email=a@b.org")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    assert_eq!(r.org.contact_count().await.unwrap(), 0);
}

#[tokio::test]
async fn metrics_never_carry_phi() {
    let r = start().await;
    let c = reqwest::Client::new();
    let k = key(&r, &["contacts:read", "contacts:write"]).await;
    let body = json!({ "email": "zebulon.q@example.org", "family_name": "Quackenbush" });
    let id = c
        .post(url(&r, "/api/v1/contacts"))
        .bearer_auth(&k)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.get(url(&r, &format!("/api/v1/contacts/{id}")))
        .bearer_auth(&k)
        .send()
        .await
        .unwrap();
    let text = c
        .get(url(&r, "/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(r#"route="/api/v1/contacts/{id}""#), "{text}");
    for phi in ["zebulon", "Quackenbush", id.as_str()] {
        assert!(!text.contains(phi), "{phi} in metrics");
    }
}

#[tokio::test]
async fn readiness_works_on_postgres_too() {
    if carepost_store::testing::skip_postgres() {
        return;
    }
    let db = Arc::new(TestDb::new(Kind::Postgres).await);
    let r = start_with(db.clone(), Router::new(), None).await;
    let ready: Value = reqwest::get(url(&r, "/readyz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["store"], "postgres");
    drop(r);
    db.drop_db().await;
}

#[tokio::test]
async fn dlp_scan_finds_phi_with_code_point_offsets_and_audits_only_counts() {
    let r = start().await;
    let c = reqwest::Client::new();
    let body =
        json!({ "subject": "Your results", "text": "Café note: patient SSN 123-45-6789, A1C 8.1" });
    let denied = c
        .post(url(&r, "/api/v1/dlp/scan"))
        .bearer_auth(key(&r, &["contacts:read"]).await)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    let k = key(&r, &["dlp:scan"]).await;
    let resp = c
        .post(url(&r, "/api/v1/dlp/scan"))
        .bearer_auth(&k)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["contains_phi"], true);
    let ssn = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == "SSN")
        .expect("an SSN finding");
    // "Café" has a two-byte character: offsets count code points.
    assert_eq!(ssn["start"], 23);
    assert_eq!(ssn["end"], 34);
    assert!(v.get("action").is_some());

    let records = r.org.audit_records(0, 100).await.unwrap();
    let scan = records.iter().find(|x| x.action == "dlp.scan").unwrap();
    let detail = scan.detail.as_deref().unwrap();
    assert!(detail.contains(r#""SSN":1"#), "{detail}");
    assert!(!detail.contains("6789"), "{detail}");

    let bad = c
        .post(url(&r, "/api/v1/dlp/scan"))
        .bearer_auth(&k)
        .json(&json!({ "body": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}
