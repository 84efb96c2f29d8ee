//! The send API and the sandbox mailbox, on both backends: a message is sent over HTTP, a
//! queue runner in sandbox mode captures it, and the API reports and shows what was sent.
//! The runner's `run_once` stands in for time passing, so no test sleeps.

use carepost_core::{MessageId, SandboxId};
use carepost_delivery::{QueueRunner, RunnerSettings, Transport};
use carepost_store::both_backends;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::*;

/// Stands for PHI in requests: no error answer may repeat it.
const PATIENT: &str = "Maria Lopez";

/// A server over a fresh store, a queue runner that captures into the sandbox, and a client.
struct Mailroom {
    server: Running,
    runner: QueueRunner,
    client: reqwest::Client,
}

impl Mailroom {
    async fn open(db: Arc<TestDb>) -> Self {
        let server = start_with(db, Router::new(), None).await;
        let runner = QueueRunner::new(
            server.store.clone(),
            Transport::Sandbox,
            RunnerSettings::new("test-node", "mx.carepost.test"),
            Arc::new(Notify::new()),
        );
        Self {
            server,
            runner,
            client: reqwest::Client::new(),
        }
    }

    /// A key of the server's organization.
    async fn key(&self, scopes: &[&str]) -> String {
        key_of(&self.server.org, scopes).await
    }

    /// A second organization on the same server.
    async fn other_org(&self) -> OrgScope {
        let system = AccessContext::system("test");
        let org = self
            .server
            .store
            .create_organization("other-clinic", &system)
            .await
            .unwrap();
        self.server.store.org(org.id).await.unwrap()
    }

    fn url(&self, path: &str) -> String {
        url(&self.server, path)
    }

    async fn send(&self, key: &str, body: &Value) -> Response {
        self.send_with(key, body, None).await
    }

    async fn send_with(&self, key: &str, body: &Value, idempotency: Option<&str>) -> Response {
        let mut request = self
            .client
            .post(self.url("/api/v1/messages"))
            .bearer_auth(key)
            .json(body);
        if let Some(k) = idempotency {
            request = request.header("Idempotency-Key", k);
        }
        request.send().await.unwrap()
    }

    /// Sends `body`, expecting it to be accepted as new; returns the message id.
    async fn send_new(&self, key: &str, body: &Value) -> String {
        let resp = self.send(key, body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        resp.json::<Value>().await.unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn send_text(&self, key: &str, body: &str) -> Response {
        self.client
            .post(self.url("/api/v1/messages"))
            .bearer_auth(key)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .unwrap()
    }

    async fn get(&self, key: &str, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
    }

    /// `GET /api/v1/messages/{id}`, expecting 200.
    async fn status(&self, key: &str, id: &str) -> Value {
        let resp = self.get(key, &format!("/api/v1/messages/{id}")).await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    /// `GET /api/v1/sandbox/messages{query}`, expecting 200.
    async fn sandbox(&self, key: &str, query: &str) -> Value {
        let resp = self
            .get(key, &format!("/api/v1/sandbox/messages{query}"))
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        resp.json().await.unwrap()
    }

    /// One queue round: every recipient due is captured. Returns how many there were.
    async fn deliver(&self) -> usize {
        self.runner.run_once().await.unwrap()
    }
}

async fn key_of(org: &OrgScope, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| s.to_string()).collect();
    org.create_api_key(&AccessContext::system("test"), "test", &scopes)
        .await
        .unwrap()
        .token
}

/// A valid request with three recipients (to, cc, bcc).
fn appointment(subject: &str) -> Value {
    json!({
        "from": { "email": "frontdesk@valley-clinic.example", "name": "Valley Clinic" },
        "to": [{ "email": "maria.lopez@patients.example", "name": PATIENT }],
        "cc": ["care-team@valley-clinic.example"],
        "bcc": ["records@valley-clinic.example"],
        "subject": subject,
        "text": "Your appointment is on Tuesday at 9:00.",
    })
}

/// `base` with `field` set to `value`.
fn with(mut base: Value, field: &str, value: Value) -> Value {
    base[field] = value;
    base
}

/// Asserts a 400 with `code` naming `field` (or naming none) whose body repeats neither
/// the PHI stand-in nor the injected addresses. Returns the error object.
async fn assert_refused(resp: Response, code: &str, field: Option<&str>) -> Value {
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let text = resp.text().await.unwrap();
    assert!(!text.contains(PATIENT), "{text}");
    assert!(!text.contains("evil.example"), "{text}");
    let error = serde_json::from_str::<Value>(&text).unwrap()["error"].take();
    assert_eq!(error["code"], code, "{text}");
    assert_eq!(error["field"].as_str(), field, "{text}");
    error
}

fn recipient_states(status: &Value) -> Vec<&str> {
    status["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect()
}

fn subjects(listing: &Value) -> Vec<&str> {
    listing["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["subject"].as_str().unwrap())
        .collect()
}

both_backends!(
    a_sent_message_is_queued_then_delivered_into_the_sandbox_with_evidence,
    |db| async move {
        let m = Mailroom::open(db).await;
        let k = m.key(&["messages:send", "messages:read"]).await;

        let resp = m.send(&k, &appointment("Your appointment")).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let accepted: Value = resp.json().await.unwrap();
        let id = accepted["id"].as_str().unwrap().to_owned();
        assert!(id.parse::<MessageId>().is_ok(), "{accepted}");
        let expected = json!({ "id": id, "status": "queued", "recipients": 3, "duplicate": false });
        assert_eq!(accepted, expected);

        let queued = m.status(&k, &id).await;
        assert_eq!(queued["id"], id.as_str());
        assert_eq!(queued["from"], "frontdesk@valley-clinic.example");
        assert_eq!(recipient_states(&queued), ["queued"; 3]);
        let addresses: Vec<&str> = queued["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["address"].as_str().unwrap())
            .collect();
        assert_eq!(
            addresses,
            [
                "maria.lopez@patients.example",
                "care-team@valley-clinic.example",
                "records@valley-clinic.example"
            ]
        );

        assert_eq!(m.deliver().await, 3);
        let delivered = m.status(&k, &id).await;
        assert_eq!(recipient_states(&delivered), ["delivered"; 3]);
        let capture = m.sandbox(&k, "").await["messages"][0]["id"].take();
        for r in delivered["recipients"].as_array().unwrap() {
            let event = r["events"].as_array().unwrap().last().unwrap();
            assert_eq!(event["state"], "delivered", "{r}");
            assert_eq!(event["evidence"]["transport"], "sandbox", "{r}");
            assert_eq!(event["evidence"]["recipient"], r["address"], "{r}");
            assert_eq!(event["evidence"]["sandbox_id"], capture, "{r}");
        }

        // Nothing is left due.
        assert_eq!(m.deliver().await, 0);
    }
);

both_backends!(
    a_repeated_idempotency_key_returns_the_first_message_and_stores_nothing,
    |db| async move {
        let m = Mailroom::open(db).await;
        let k = m.key(&["messages:send"]).await;
        let body = appointment("Reminder");

        let first = m.send_with(&k, &body, Some("reminder-0001")).await;
        assert_eq!(first.status(), StatusCode::CREATED);
        let first: Value = first.json().await.unwrap();
        assert_eq!(first["duplicate"], false);

        let again = m.send_with(&k, &body, Some("reminder-0001")).await;
        assert_eq!(again.status(), StatusCode::OK);
        let again: Value = again.json().await.unwrap();
        assert_eq!(again["id"], first["id"]);
        assert_eq!(again["duplicate"], true);
        assert_eq!(again["status"], "queued");

        // The body field is the same key as the header.
        let in_body = with(body.clone(), "idempotency_key", json!("reminder-0001"));
        let third = m.send(&k, &in_body).await;
        assert_eq!(third.status(), StatusCode::OK);
        assert_eq!(third.json::<Value>().await.unwrap()["id"], first["id"]);

        // One message of three recipients was stored, so one capture.
        assert_eq!(m.deliver().await, 3);
        let listing = m.sandbox(&k, "").await;
        let captures = listing["messages"].as_array().unwrap();
        assert_eq!(captures.len(), 1, "{listing}");
        assert_eq!(captures[0]["message_id"], first["id"]);
    }
);

both_backends!(
    the_idempotency_key_header_wins_over_the_body_field_and_keys_are_per_organization,
    |db| async move {
        let m = Mailroom::open(db).await;
        let k = m.key(&["messages:send"]).await;
        let body = with(appointment("Reminder"), "idempotency_key", json!("key-a"));
        let first = m.send_new(&k, &body).await;

        let header_wins = m.send_with(&k, &body, Some("key-b")).await;
        assert_eq!(header_wins.status(), StatusCode::CREATED);
        let second: Value = header_wins.json().await.unwrap();
        assert_ne!(second["id"], first.as_str());
        assert_eq!(second["duplicate"], false);

        // Another organization's key-a is its own: a new message, not the first one's id.
        let other = m.other_org().await;
        let outsider = key_of(&other, &["messages:send"]).await;
        let elsewhere = m.send(&outsider, &body).await;
        assert_eq!(elsewhere.status(), StatusCode::CREATED);
        let elsewhere: Value = elsewhere.json().await.unwrap();
        assert_ne!(elsewhere["id"], first.as_str());
        assert_ne!(elsewhere["id"], second["id"]);

        assert_eq!(m.deliver().await, 9);
    }
);

both_backends!(
    the_recipient_count_in_the_answer_is_the_number_of_distinct_recipients,
    |db| async move {
        let m = Mailroom::open(db).await;
        let k = m.key(&["messages:send"]).await;
        let body = with(
            appointment("Results"),
            "bcc",
            json!(["maria.lopez@patients.example"]),
        );

        let resp = m.send(&k, &body).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let accepted: Value = resp.json().await.unwrap();
        let id = accepted["id"].as_str().unwrap().to_owned();
        let stored = m.status(&k, &id).await["recipients"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(stored, 2);
        assert_eq!(accepted["recipients"], stored, "{accepted}");
    }
);

both_backends!(
    line_breaks_in_header_fields_are_refused_naming_the_field_without_echoing_it,
    |db| async move {
        let m = Mailroom::open(db).await;
        let k = m.key(&["messages:send"]).await;
        let base = appointment("Results");

        for breaker in ["\r", "\n", "\r\n"] {
            let evil = format!("{PATIENT}{breaker}Bcc: harvest@evil.example");
            let named = json!({ "email": "maria.lopez@patients.example", "name": evil });
            let attachment = json!({ "filename": evil, "content": "aGVsbG8=" });
            let address = format!("maria.lopez@patients.example{breaker}Bcc: x@evil.example");
            for (field, body) in [
                ("subject", with(base.clone(), "subject", json!(evil))),
                (
                    "headers.X-Patient",
                    with(base.clone(), "headers", json!({ "X-Patient": evil })),
                ),
                (
                    "headers",
                    with(
                        base.clone(),
                        "headers",
                        json!({ format!("X-Evil{breaker}Bcc"): "x@evil.example" }),
                    ),
                ),
                ("to[0].name", with(base.clone(), "to", json!([named]))),
                ("cc[0].name", with(base.clone(), "cc", json!([named]))),
                ("from.name", with(base.clone(), "from", named.clone())),
                (
                    "reply_to.name",
                    with(base.clone(), "reply_to", named.clone()),
                ),
                ("to[0]", with(base.clone(), "to", json!([address]))),
                (
                    "attachments[0].filename",
                    with(base.clone(), "attachments", json!([attachment])),
                ),
            ] {
                let resp = m.send(&k, &body).await;
                assert_refused(resp, "invalid_message", Some(field)).await;
            }
        }

        assert_eq!(m.deliver().await, 0);
        assert_eq!(m.sandbox(&k, "").await["messages"], json!([]));
    }
);

both_backends!(
    a_body_that_is_not_json_names_the_field_where_it_broke_or_none,
    |db| async move {
        let m = Mailroom::open(db).await;
        let k = m.key(&["messages:send"]).await;

        let truncated = r#"{"from": "frontdesk@valley-clinic.example", "subject": "Maria Lo"#;
        let resp = m.send_text(&k, truncated).await;
        let e = assert_refused(resp, "invalid_body", Some("subject")).await;
        assert!(
            e["message"].as_str().unwrap().contains("not valid JSON"),
            "{e}"
        );
        assert!(!e.to_string().contains("Maria Lo"), "{e}");

        // Broken before any key: there is no field to name (not a placeholder such as "?").
        let e = assert_refused(m.send_text(&k, "{broken").await, "invalid_body", None).await;
        assert!(
            e["message"].as_str().unwrap().contains("not valid JSON"),
            "{e}"
        );

        assert_eq!(m.deliver().await, 0);
    }
);

both_backends!(
    malformed_requests_are_refused_naming_the_field_and_store_nothing,
    |db| async move {
        let m = Mailroom::open(db).await;
        let k = m.key(&["messages:send"]).await;

        let unknown = with(appointment("Results"), "patient_name", json!(PATIENT));
        let e = assert_refused(
            m.send(&k, &unknown).await,
            "invalid_body",
            Some("patient_name"),
        )
        .await;
        let message = e["message"].as_str().unwrap();
        assert!(message.contains("unknown field `patient_name`"), "{e}");

        let mut no_from = appointment("Results");
        no_from.as_object_mut().unwrap().remove("from");
        let e = assert_refused(m.send(&k, &no_from).await, "invalid_body", None).await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("missing field `from`"),
            "{e}"
        );

        let not_a_mailbox = with(appointment("Results"), "to", json!([42]));
        assert_refused(
            m.send(&k, &not_a_mailbox).await,
            "invalid_body",
            Some("to[0]"),
        )
        .await;

        let base = appointment("Results");
        let nobody = json!({ "from": "frontdesk@valley-clinic.example", "text": "x" });
        let bad_address = format!("{PATIENT} <maria.lopez@patients.example>");
        for (field, body) in [
            ("to", nobody.clone()),
            ("to", with(nobody, "to", json!([]))),
            (
                "from",
                with(
                    base.clone(),
                    "from",
                    json!("frontdesk.valley-clinic.example"),
                ),
            ),
            ("to[0]", with(base.clone(), "to", json!([bad_address]))),
            (
                "bcc[1]",
                with(
                    base.clone(),
                    "bcc",
                    json!(["a@valley-clinic.example", "b@-x.example"]),
                ),
            ),
            (
                "headers.Bcc",
                with(base.clone(), "headers", json!({ "Bcc": "a@x.example" })),
            ),
            (
                "attachments[0].content",
                with(
                    base.clone(),
                    "attachments",
                    json!([{ "filename": "a.pdf", "content": "***" }]),
                ),
            ),
            (
                "protection",
                with(base.clone(), "protection", json!("tls-optional")),
            ),
            ("tags[0]", with(base.clone(), "tags", json!(["has space"]))),
        ] {
            assert_refused(m.send(&k, &body).await, "invalid_message", Some(field)).await;
        }
        let mut no_body = appointment("Results");
        no_body.as_object_mut().unwrap().remove("text");
        assert_refused(m.send(&k, &no_body).await, "invalid_message", Some("text")).await;

        for bad_key in [String::new(), "k".repeat(256)] {
            let resp = m
                .send_with(&k, &appointment("Results"), Some(&bad_key))
                .await;
            assert_refused(resp, "invalid_request", Some("Idempotency-Key")).await;
        }

        assert_eq!(m.deliver().await, 0);
        assert_eq!(m.sandbox(&k, "").await["messages"], json!([]));
    }
);

both_backends!(
    sending_needs_messages_send_and_status_is_only_visible_to_the_own_organization,
    |db| async move {
        let m = Mailroom::open(db).await;
        let sender = m.key(&["messages:send"]).await;
        let reader = m.key(&["messages:read"]).await;
        let unrelated = m.key(&["contacts:read"]).await;
        let body = appointment("Results");

        let anonymous = m
            .client
            .post(m.url("/api/v1/messages"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        let forbidden = m.send(&unrelated, &body).await;
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
        let e: Value = forbidden.json().await.unwrap();
        assert_eq!(e["error"]["code"], "forbidden");
        assert_eq!(m.send(&reader, &body).await.status(), StatusCode::FORBIDDEN);

        let id = m.send_new(&sender, &body).await;
        let path = format!("/api/v1/messages/{id}");
        let anonymous = m.client.get(m.url(&path)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(m.status(&reader, &id).await["id"], id.as_str());
        assert_eq!(m.status(&sender, &id).await["id"], id.as_str());
        assert_eq!(
            m.get(&unrelated, &path).await.status(),
            StatusCode::FORBIDDEN
        );

        // Another organization's key learns nothing, not even that the id exists.
        let other = m.other_org().await;
        let outsider = key_of(&other, &["messages:send", "messages:read"]).await;
        let unknown = format!("/api/v1/messages/{}", MessageId::new());
        for (key, path) in [
            (&outsider, path.as_str()),
            (&reader, unknown.as_str()),
            (&reader, "/api/v1/messages/not-a-uuid"),
        ] {
            let resp = m.get(key, path).await;
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
            let e: Value = resp.json().await.unwrap();
            assert_eq!(e["error"]["code"], "not_found", "{path}");
        }

        // Only the one accepted message was stored.
        assert_eq!(m.deliver().await, 3);
    }
);

both_backends!(
    the_sandbox_lists_captures_newest_first_in_pages,
    |db| async move {
        let m = Mailroom::open(db).await;
        let k = m.key(&["messages:send"]).await;
        let mut sent = Vec::new();
        for subject in ["First visit", "Second visit", "Third visit"] {
            sent.push(m.send_new(&k, &appointment(subject)).await);
            // One round per message, so the captures are made in this order.
            assert_eq!(m.deliver().await, 3);
        }
        let reader = m.key(&["contacts:read"]).await;

        let all = m.sandbox(&reader, "").await;
        assert_eq!(
            subjects(&all),
            ["Third visit", "Second visit", "First visit"]
        );
        assert_eq!(all["next_before"], Value::Null);
        let newest = &all["messages"][0];
        assert_eq!(newest["message_id"], sent[2].as_str());
        assert_eq!(newest["from"], json!(["frontdesk@valley-clinic.example"]));
        assert_eq!(newest["to"], json!(["maria.lopez@patients.example"]));
        assert!(newest["size"].as_u64().unwrap() > 0, "{newest}");

        let first_page = m.sandbox(&reader, "?limit=2").await;
        assert_eq!(subjects(&first_page), ["Third visit", "Second visit"]);
        let cursor = first_page["next_before"].as_str().unwrap();
        assert_eq!(first_page["messages"][1]["id"], cursor);
        let second_page = m
            .sandbox(&reader, &format!("?limit=2&before={cursor}"))
            .await;
        assert_eq!(subjects(&second_page), ["First visit"]);
        assert_eq!(second_page["messages"][0]["message_id"], sent[0].as_str());
        assert_eq!(second_page["next_before"], Value::Null);

        // Another organization's sandbox is its own, and empty.
        let other = m.other_org().await;
        let outsider = key_of(&other, &["messages:send"]).await;
        assert_eq!(m.sandbox(&outsider, "").await["messages"], json!([]));

        let anonymous = m.client.get(m.url("/api/v1/sandbox/messages")).send();
        assert_eq!(anonymous.await.unwrap().status(), StatusCode::UNAUTHORIZED);

        let records = m.server.org.audit_records(0, 1000).await.unwrap();
        assert!(records.iter().any(|r| r.action == "sandbox.list"));
    }
);

both_backends!(
    the_sandbox_refuses_paging_parameters_out_of_range_naming_them,
    |db| async move {
        let m = Mailroom::open(db).await;
        let k = m.key(&["contacts:read"]).await;

        for (query, field) in [
            ("?limit=0", Some("limit")),
            ("?limit=501", Some("limit")),
            ("?limit=-1", Some("limit")),
            ("?before=garbage", Some("before")),
            ("?limit=ten", None),
            ("?colour=blue", None),
        ] {
            let resp = m.get(&k, &format!("/api/v1/sandbox/messages{query}")).await;
            assert_refused(resp, "invalid_request", field).await;
        }
        for query in ["?limit=1", "?limit=500"] {
            let resp = m.get(&k, &format!("/api/v1/sandbox/messages{query}")).await;
            assert_eq!(resp.status(), StatusCode::OK, "{query}");
        }
    }
);

both_backends!(
    any_key_of_the_organization_reads_a_capture_as_rfc_822_text_and_no_other_can,
    |db| async move {
        let m = Mailroom::open(db).await;
        let sender = m.key(&["messages:send"]).await;
        let id = m
            .send_new(&sender, &appointment("Your lab results are ready"))
            .await;
        assert_eq!(m.deliver().await, 3);
        let reader = m.key(&["contacts:read"]).await;
        let listed = m.sandbox(&reader, "").await["messages"][0].take();
        assert_eq!(listed["message_id"], id.as_str());
        let capture = listed["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/sandbox/messages/{capture}/raw");

        let resp = m.get(&reader, &path).await;
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "message/rfc822");
        let raw = resp.text().await.unwrap();
        assert!(
            raw.contains("Subject: Your lab results are ready\r\n"),
            "{raw}"
        );
        assert!(raw.contains("Message-ID: <"), "{raw}");
        assert!(
            !raw.contains("records@valley-clinic.example"),
            "Bcc leaked: {raw}"
        );
        let parsed = mail_parser::MessageParser::default()
            .parse(raw.as_bytes())
            .unwrap();
        let text = parsed.body_text(0).unwrap();
        assert_eq!(text.trim_end(), "Your appointment is on Tuesday at 9:00.");

        let records = m.server.org.audit_records(0, 1000).await.unwrap();
        let read = records.iter().find(|r| r.action == "sandbox.read").unwrap();
        assert_eq!(read.actor.kind(), "api_key");
        assert_eq!(read.object.id, capture);

        let other = m.other_org().await;
        let outsider = key_of(&other, &["messages:send", "messages:read"]).await;
        let unknown = format!("/api/v1/sandbox/messages/{}/raw", SandboxId::new());
        for (key, path) in [
            (&outsider, path.as_str()),
            (&reader, unknown.as_str()),
            (&reader, "/api/v1/sandbox/messages/garbage/raw"),
        ] {
            let resp = m.get(key, path).await;
            assert_eq!(resp.status(), StatusCode::NOT_FOUND, "{path}");
            let e: Value = resp.json().await.unwrap();
            assert_eq!(e["error"]["code"], "not_found", "{path}");
        }
        let anonymous = m.client.get(m.url(&path)).send().await.unwrap();
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }
);

both_backends!(
    the_send_api_refuses_phi_in_a_subject_with_422_and_the_rule_reason,
    |db| async move {
        let room = Mailroom::open(db).await;
        let key = room.key(&["messages:send"]).await;
        let body = json!({
            "from": "desk@clinic.test",
            "to": ["patient@patients.test"],
            "subject": format!("{PATIENT}: SSN 123-45-6789 and her diabetes results"),
            "text": "Hello",
        });
        let resp = room.send(&key, &body).await;
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let text = resp.text().await.unwrap();
        assert!(text.contains("blocked_by_policy"), "{text}");
        assert!(
            !text.contains(PATIENT) && !text.contains("123-45-6789"),
            "{text}"
        );
        assert_eq!(room.runner.run_once().await.unwrap(), 0);
    }
);

both_backends!(
    held_messages_are_listed_viewed_released_and_rejected_through_the_quarantine_api,
    |db| async move {
        let room = Mailroom::open(db).await;
        let send = room.key(&["messages:send"]).await;
        let reviewer = room.key(&["quarantine:read", "quarantine:review"]).await;
        let reader = room.key(&["quarantine:read"]).await;
        let image = |subject: &str| {
            json!({
                "from": "desk@clinic.test",
                "to": ["patient@patients.test"],
                "subject": subject,
                "text": "See the attached scan.",
                "attachments": [{
                    "filename": "scan.png",
                    "content_type": "image/png",
                    "content": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC",
                }],
            })
        };
        let answer: Value = room
            .send(&send, &image("Form one"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(answer["status"], "held", "{answer}");
        let first = answer["id"].as_str().unwrap().to_owned();
        let second = room.send_new(&send, &image("Form two")).await;
        assert_eq!(room.runner.run_once().await.unwrap(), 0, "held, not sent");

        let get = |path: String, key: String| {
            let c = room.client.clone();
            async move { c.get(path).bearer_auth(key).send().await.unwrap() }
        };
        let resp = get(room.url("/api/v1/quarantine"), send.clone()).await;
        assert_eq!(
            resp.status(),
            StatusCode::FORBIDDEN,
            "needs quarantine:read"
        );
        let list: Value = get(room.url("/api/v1/quarantine"), reader.clone())
            .await
            .json()
            .await
            .unwrap();
        let held = list["messages"].as_array().unwrap();
        assert_eq!(held.len(), 2);
        assert!(held[0]["reason"].as_str().unwrap().contains("inspect"));
        assert!(
            !list.to_string().contains("patient@patients.test"),
            "lists hold no addresses"
        );
        let view: Value = get(
            room.url(&format!("/api/v1/quarantine/{first}")),
            reader.clone(),
        )
        .await
        .json()
        .await
        .unwrap();
        assert!(view["raw"].as_str().unwrap().contains("Form one"));

        let post = |path: String, key: String, body: Option<Value>| {
            let c = room.client.clone();
            async move {
                let r = c.post(path).bearer_auth(key);
                let r = match body {
                    Some(b) => r.json(&b),
                    None => r,
                };
                r.send().await.unwrap()
            }
        };
        let url = room.url(&format!("/api/v1/quarantine/{first}/release"));
        assert_eq!(
            post(url.clone(), reader.clone(), None).await.status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            post(url.clone(), reviewer.clone(), None).await.status(),
            StatusCode::OK
        );
        assert_eq!(
            post(url, reviewer.clone(), None).await.status(),
            StatusCode::CONFLICT
        );
        let url = room.url(&format!("/api/v1/quarantine/{second}/reject"));
        let bad = post(url.clone(), reviewer.clone(), Some(json!({ "reason": "" }))).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let ok = post(
            url,
            reviewer.clone(),
            Some(json!({ "reason": "use the portal" })),
        )
        .await;
        assert_eq!(ok.status(), StatusCode::OK);

        // The released message and the notice about the rejected one are delivered.
        assert_eq!(room.runner.run_once().await.unwrap(), 2);
        let open: Value = get(room.url("/api/v1/quarantine"), reader)
            .await
            .json()
            .await
            .unwrap();
        assert!(open["messages"].as_array().unwrap().is_empty());
    }
);

both_backends!(
    the_suppression_list_is_read_and_edited_with_addresses_in_bodies_only,
    |db| async move {
        let room = Mailroom::open(db).await;
        let system = AccessContext::system("test");
        room.server
            .org
            .suppress(&system, "Gone@Patients.test", "5.1.1", None)
            .await
            .unwrap();
        let reader = room.key(&["suppressions:read"]).await;
        let writer = room.key(&["suppressions:write"]).await;
        let list = |key: String| {
            let c = room.client.clone();
            let url = room.url("/api/v1/suppressions");
            async move { c.get(url).bearer_auth(key).send().await.unwrap() }
        };
        assert_eq!(list(writer.clone()).await.status(), StatusCode::FORBIDDEN);
        let body: Value = list(reader.clone()).await.json().await.unwrap();
        assert_eq!(body["suppressions"][0]["address"], "gone@patients.test");
        assert_eq!(body["suppressions"][0]["status"], "5.1.1");

        let remove = |key: String, body: Value| {
            let c = room.client.clone();
            let url = room.url("/api/v1/suppressions/remove");
            async move {
                c.post(url)
                    .bearer_auth(key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap()
            }
        };
        let bad = remove(writer.clone(), json!({ "address": "a\r\nb" })).await;
        assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
        let forbidden = remove(reader.clone(), json!({ "address": "gone@patients.test" })).await;
        assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
        let ok: Value = remove(writer.clone(), json!({ "address": "GONE@patients.test" }))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(ok["removed"], true);
        let body: Value = list(reader).await.json().await.unwrap();
        assert!(body["suppressions"].as_array().unwrap().is_empty());
    }
);
