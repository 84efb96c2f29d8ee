use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use carepost_gateway::dkim::{DkimAlgorithm, GeneratedKey, generate};
use carepost_gateway::dns::{
    DnsError, DnsFuture, DnsLookup, DnssecStatus, MxAnswer, StaticDns, TlsaAnswer, TxtAnswer,
};
use carepost_gateway::domain_check::{
    AllQualifier, DmarcPolicy, DomainCheckInput, DomainCheckReport, RecordState, check_domain,
};

const DOMAIN: &str = "clinic.test";
const SELECTOR: &str = "cp2026";

/// A zone where `DOMAIN` publishes everything, signed with `key` under `SELECTOR`.
fn complete_zone(key: &GeneratedKey) -> StaticDns {
    let dns = StaticDns::new();
    dns.set_txt(
        DOMAIN,
        &[
            "google-site-verification=abc123",
            "v=spf1 ip4:192.0.2.10 -all",
        ],
        DnssecStatus::Secure,
    );
    dns.set_txt(&key.dns_name(), &[&key.dns_txt()], DnssecStatus::Secure);
    dns.set_txt(
        &format!("_dmarc.{DOMAIN}"),
        &["v=DMARC1; p=reject; rua=mailto:dmarc@clinic.test"],
        DnssecStatus::Secure,
    );
    dns.set_txt(
        &format!("_mta-sts.{DOMAIN}"),
        &["v=STSv1; id=20260101"],
        DnssecStatus::Secure,
    );
    dns.set_txt(
        &format!("_smtp._tls.{DOMAIN}"),
        &["v=TLSRPTv1; rua=mailto:tls-reports@clinic.test"],
        DnssecStatus::Secure,
    );
    dns
}

fn ed25519_key() -> GeneratedKey {
    generate(DkimAlgorithm::Ed25519, DOMAIN, SELECTOR).unwrap()
}

async fn check_expecting(
    dns: &dyn DnsLookup,
    domain: &str,
    key: &GeneratedKey,
) -> DomainCheckReport {
    let selectors = vec![key.selector.clone()];
    let expected = vec![(key.selector.clone(), key.public_key.clone())];
    let input = DomainCheckInput {
        domain,
        dkim_selectors: &selectors,
        expected_dkim_public_keys: &expected,
    };
    check_domain(dns, &input).await
}

fn mentions(missing: &[String], text: &str) -> bool {
    missing.iter().any(|item| item.contains(text))
}

#[tokio::test]
async fn a_domain_publishing_every_record_is_complete_with_nothing_missing() {
    let key = generate(DkimAlgorithm::Rsa2048, DOMAIN, SELECTOR).unwrap();
    let dns = complete_zone(&key);

    let report = check_expecting(&dns, "Clinic.Test.", &key).await;

    assert_eq!(report.domain, DOMAIN);
    assert!(report.spf.is_valid());
    assert_eq!(report.spf.records, vec!["v=spf1 ip4:192.0.2.10 -all"]);
    assert_eq!(
        report.spf.parsed.as_ref().unwrap().all,
        Some(AllQualifier::Fail)
    );
    assert_eq!(report.spf.dnssec, Some(DnssecStatus::Secure));
    let dkim = &report.dkim[0];
    assert_eq!(dkim.record.state, RecordState::Valid);
    assert_eq!(dkim.matches_expected, Some(true));
    assert_eq!(dkim.record.parsed.as_ref().unwrap().rsa_bits, Some(2048));
    assert_eq!(
        report.dmarc.parsed.as_ref().unwrap().policy,
        DmarcPolicy::Reject
    );
    assert_eq!(report.mta_sts.parsed.as_ref().unwrap().id, "20260101");
    assert!(report.tls_rpt.is_valid());
    assert!(report.is_complete());
    assert_eq!(report.missing(), Vec::<String>::new());

    let text = report.render();
    assert!(
        text.contains("SPF at clinic.test: valid (DNSSEC-signed)"),
        "{text}"
    );
    assert!(
        text.contains("matches the key carepost signs with"),
        "{text}"
    );
    assert!(
        text.contains("Complete: yes") && !text.contains("To do"),
        "{text}"
    );
}

#[tokio::test]
async fn the_report_survives_a_json_round_trip() {
    let key = ed25519_key();
    let dns = complete_zone(&key);
    let report = check_expecting(&dns, DOMAIN, &key).await;

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["spf"]["state"], "valid");
    assert_eq!(json["spf"]["name"], "clinic.test");
    assert_eq!(json["spf"]["parsed"]["all"], "-all");
    assert_eq!(json["dmarc"]["parsed"]["policy"], "reject");
    assert_eq!(json["dkim"][0]["record"]["dnssec"], "secure");
    let back: DomainCheckReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}

#[tokio::test]
async fn a_domain_with_nothing_published_lists_every_record_to_publish() {
    let dns = StaticDns::new();

    let report = check_expecting(&dns, DOMAIN, &ed25519_key()).await;

    assert_eq!(report.spf.state, RecordState::Missing);
    assert_eq!(report.dkim[0].record.state, RecordState::Missing);
    assert_eq!(report.dkim[0].matches_expected, None);
    assert_eq!(report.dmarc.state, RecordState::Missing);
    assert_eq!(report.mta_sts.state, RecordState::Missing);
    assert_eq!(report.tls_rpt.state, RecordState::Missing);
    assert!(!report.is_complete());

    let missing = report.missing();
    assert_eq!(missing.len(), 5, "{missing:#?}");
    assert!(missing[0].starts_with("publish an SPF record at clinic.test"));
    assert!(missing[1].starts_with("publish the DKIM key of selector cp2026"));
    assert_eq!(
        missing[2],
        "publish a DMARC record at _dmarc.clinic.test, for example \
         \"v=DMARC1; p=quarantine; rua=mailto:dmarc@clinic.test\""
    );
    assert!(missing[3].starts_with("recommended: publish an MTA-STS record"));
    assert!(missing[4].starts_with("recommended: publish a TLS-RPT record"));
    assert!(report.render().contains("Complete: NO"));
}

#[tokio::test]
async fn a_dns_failure_is_reported_as_a_failed_lookup_not_as_a_missing_record() {
    let key = ed25519_key();
    let dns = complete_zone(&key);
    let timeout = DnsError::Temporary {
        name: format!("_dmarc.{DOMAIN}"),
        detail: "timed out".into(),
    };
    dns.set_failure(&format!("_dmarc.{DOMAIN}"), timeout);

    let report = check_expecting(&dns, DOMAIN, &key).await;

    let RecordState::LookupFailed { error } = &report.dmarc.state else {
        panic!("expected a failed lookup, got {:?}", report.dmarc.state);
    };
    assert!(error.contains("timed out"), "{error}");
    assert_eq!(report.dmarc.dnssec, None);
    assert!(report.spf.is_valid(), "the other records are still checked");
    assert!(
        !report.is_complete(),
        "an unknown DMARC record is not a good one"
    );
    assert_eq!(
        report.missing(),
        vec![format!(
            "check the DMARC record at _dmarc.{DOMAIN} again: the lookup failed ({error})"
        )]
    );
    assert!(report.render().contains("lookup failed"));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["dmarc"]["state"], "lookup_failed");
    assert_eq!(json["dmarc"]["error"], error.as_str());
    let back: DomainCheckReport = serde_json::from_value(json).unwrap();
    assert_eq!(back, report);
}

#[tokio::test]
async fn a_bogus_dnssec_answer_is_reported_as_a_failed_lookup() {
    let key = ed25519_key();
    let dns = complete_zone(&key);
    dns.set_txt(DOMAIN, &["v=spf1 ip4:192.0.2.10 -all"], DnssecStatus::Bogus);

    let report = check_expecting(&dns, DOMAIN, &key).await;

    assert!(matches!(report.spf.state, RecordState::LookupFailed { .. }));
    assert_eq!(report.spf.dnssec, Some(DnssecStatus::Bogus));
    assert!(report.render().contains("DNSSEC BOGUS"));
    assert!(!report.is_complete());
}

#[tokio::test]
async fn a_domain_with_two_spf_records_is_reported_as_invalid() {
    let key = ed25519_key();
    let dns = complete_zone(&key);
    dns.set_txt(
        DOMAIN,
        &[
            "v=spf1 ip4:192.0.2.10 -all",
            "v=spf1 include:mail.example -all",
        ],
        DnssecStatus::Insecure,
    );

    let report = check_expecting(&dns, DOMAIN, &key).await;

    assert_eq!(report.spf.state, RecordState::Multiple);
    assert_eq!(report.spf.records.len(), 2);
    assert_eq!(report.spf.parsed, None);
    assert!(!report.is_complete());
    assert!(mentions(
        &report.missing(),
        "merge the 2 SPF records at clinic.test into one"
    ));
    assert!(report.render().contains("INVALID: 2 records published"));
}

#[tokio::test]
async fn a_revoked_dkim_key_is_reported_and_makes_the_domain_incomplete() {
    let key = ed25519_key();
    let dns = complete_zone(&key);
    dns.set_txt(
        &key.dns_name(),
        &["v=DKIM1; k=ed25519; p="],
        DnssecStatus::Insecure,
    );

    let report = check_expecting(&dns, DOMAIN, &key).await;

    assert_eq!(report.dkim[0].record.state, RecordState::Revoked);
    assert_eq!(report.dkim[0].matches_expected, None);
    assert!(!report.is_complete());
    assert!(mentions(
        &report.missing(),
        "selector cp2026 at cp2026._domainkey.clinic.test is revoked"
    ));
    assert!(report.render().contains("REVOKED"));
}

#[tokio::test]
async fn a_published_dkim_key_other_than_the_expected_one_is_a_mismatch() {
    let published = ed25519_key();
    let dns = complete_zone(&published);
    let signing = ed25519_key();

    let report = check_expecting(&dns, DOMAIN, &signing).await;

    assert_eq!(report.dkim[0].record.state, RecordState::Valid);
    assert_eq!(report.dkim[0].matches_expected, Some(false));
    assert!(!report.is_complete());
    assert!(mentions(
        &report.missing(),
        "the published p= is a different key"
    ));
    assert!(report.render().contains("does NOT match"));
}

#[tokio::test]
async fn an_expected_key_folded_with_spaces_still_matches() {
    let key = ed25519_key();
    let dns = complete_zone(&key);
    let (head, tail) = key.public_key.split_at(10);
    let selectors = vec![SELECTOR.to_owned()];
    let expected = vec![(SELECTOR.to_owned(), format!("{head} \n {tail}"))];
    let input = DomainCheckInput {
        domain: DOMAIN,
        dkim_selectors: &selectors,
        expected_dkim_public_keys: &expected,
    };

    let report = check_domain(&dns, &input).await;

    assert_eq!(report.dkim[0].matches_expected, Some(true));
    assert!(report.is_complete());
}

#[tokio::test]
async fn a_monitoring_only_dmarc_policy_is_not_complete() {
    let key = ed25519_key();
    let dns = complete_zone(&key);
    dns.set_txt(
        &format!("_dmarc.{DOMAIN}"),
        &["v=DMARC1; p=none"],
        DnssecStatus::Insecure,
    );

    let report = check_expecting(&dns, DOMAIN, &key).await;

    assert!(report.dmarc.is_valid());
    assert!(report.dmarc.warnings[0].contains("monitoring only"));
    assert!(!report.is_complete());
    let missing = report.missing();
    assert!(missing[0].starts_with("raise the DMARC policy at _dmarc.clinic.test from p=none"));
    assert!(missing[1].starts_with("recommended: add rua=mailto:dmarc@clinic.test"));
}

#[tokio::test]
async fn an_spf_record_passing_every_server_is_not_complete() {
    let key = ed25519_key();
    let dns = complete_zone(&key);
    dns.set_txt(DOMAIN, &["v=spf1 +all"], DnssecStatus::Insecure);

    let report = check_expecting(&dns, DOMAIN, &key).await;

    assert!(report.spf.is_valid());
    assert!(report.render().contains("warning: +all"));
    assert!(mentions(
        &report.missing(),
        "replace +all in the SPF record at clinic.test"
    ));
    assert!(!report.is_complete());
}

#[tokio::test]
async fn a_missing_mta_sts_or_tls_rpt_record_is_only_a_recommendation() {
    let key = ed25519_key();
    let dns = complete_zone(&key);
    dns.set_txt(
        &format!("_mta-sts.{DOMAIN}"),
        &["v=STSv1; id=has-dash"],
        DnssecStatus::Insecure,
    );
    dns.set_txt(
        &format!("_smtp._tls.{DOMAIN}"),
        &["unrelated"],
        DnssecStatus::Insecure,
    );

    let report = check_expecting(&dns, DOMAIN, &key).await;

    assert!(matches!(report.mta_sts.state, RecordState::Invalid { .. }));
    assert_eq!(report.tls_rpt.state, RecordState::Missing);
    assert!(report.is_complete());
    let missing = report.missing();
    assert_eq!(missing.len(), 2, "{missing:#?}");
    assert!(missing.iter().all(|item| item.starts_with("recommended: ")));
}

#[tokio::test]
async fn no_dkim_selector_means_dkim_is_not_checked_and_not_complete() {
    let dns = complete_zone(&ed25519_key());
    let input = DomainCheckInput {
        domain: DOMAIN,
        dkim_selectors: &[],
        expected_dkim_public_keys: &[],
    };

    let report = check_domain(&dns, &input).await;

    assert!(report.dkim.is_empty());
    assert!(!report.is_complete());
    assert!(mentions(&report.missing(), "name the DKIM selectors"));
}

#[tokio::test]
async fn an_invalid_selector_is_reported_without_a_lookup() {
    let dns = complete_zone(&ed25519_key());
    let selectors = vec!["bad selector".to_owned()];
    let input = DomainCheckInput {
        domain: DOMAIN,
        dkim_selectors: &selectors,
        expected_dkim_public_keys: &[],
    };

    let report = check_domain(&dns, &input).await;

    assert!(matches!(
        report.dkim[0].record.state,
        RecordState::NotChecked { .. }
    ));
    assert!(!report.is_complete());
}

/// Counts lookups, answering none of them.
#[derive(Default)]
struct CountingDns {
    lookups: AtomicUsize,
}

impl CountingDns {
    fn count<'a, T: Send + 'a>(&'a self, name: &str) -> DnsFuture<'a, T> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let error = DnsError::NoSuchDomain { name: name.into() };
        Box::pin(std::future::ready(Err(error)))
    }
}

impl DnsLookup for CountingDns {
    fn mx<'a>(&'a self, domain: &'a str) -> DnsFuture<'a, MxAnswer> {
        self.count(domain)
    }

    fn ip<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<IpAddr>> {
        self.count(host)
    }

    fn tlsa<'a>(&'a self, name: &'a str) -> DnsFuture<'a, TlsaAnswer> {
        self.count(name)
    }

    fn txt<'a>(&'a self, name: &'a str) -> DnsFuture<'a, TxtAnswer> {
        self.count(name)
    }
}

#[tokio::test]
async fn a_domain_that_is_not_a_valid_name_is_reported_without_any_lookup() {
    let dns = CountingDns::default();
    let key = ed25519_key();

    for domain in [
        "clinic..test",
        "bad domain.test",
        "",
        "-clinic.test",
        "clinic",
    ] {
        let report = check_expecting(&dns, domain, &key).await;

        assert!(report.invalid_domain.is_some(), "{domain:?}");
        assert!(!report.is_complete());
        let missing = report.missing();
        assert_eq!(missing.len(), 1);
        assert!(
            missing[0].starts_with("give a valid domain name"),
            "{missing:?}"
        );
        assert!(report.render().contains("Not checked"));
    }
    assert_eq!(dns.lookups.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_name_that_does_not_exist_counts_as_no_record() {
    let dns = CountingDns::default();

    let report = check_expecting(&dns, DOMAIN, &ed25519_key()).await;

    assert_eq!(dns.lookups.load(Ordering::SeqCst), 5);
    assert_eq!(report.spf.state, RecordState::Missing);
    assert_eq!(report.dkim[0].record.state, RecordState::Missing);
    assert_eq!(report.dmarc.state, RecordState::Missing);
    assert_eq!(report.mta_sts.state, RecordState::Missing);
    assert_eq!(report.tls_rpt.state, RecordState::Missing);
}
