//! Fuzzes the MTA-STS policy parser, the `_mta-sts` TXT record parser, the TLSA
//! presentation-form parser, SMTP reply parsing and the MX pattern matcher.
//! None of them may panic, whatever the input.
#![no_main]

use carepost_gateway::dns::TlsaRecord;
use carepost_gateway::mta_sts::{StsPolicy, mx_matches, parse_record, parse_records};
use carepost_gateway::outbound::Reply;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(policy) = StsPolicy::parse(data) {
        // A parsed policy is internally consistent.
        assert!(policy.max_age <= carepost_gateway::mta_sts::MAX_MAX_AGE);
        let _ = policy.allows_mx("mx.example.com");
    }

    let _ = parse_records(data.split(|b| *b == 0));
    let _ = parse_record(data);

    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(record) = TlsaRecord::parse(text) {
            assert_eq!(TlsaRecord::parse(&record.to_string()), Some(record));
        }
        let _ = Reply::parse_lines(text.lines());
        if let Some((pattern, host)) = text.split_once('\n') {
            let _ = mx_matches(pattern, host);
        }
    }
});
