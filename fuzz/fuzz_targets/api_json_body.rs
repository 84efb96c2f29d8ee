//! The API's JSON body decoder: any bytes give a value or a 400 error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Contact {
    email: String,
    given_name: Option<String>,
    attributes: Option<serde_json::Map<String, serde_json::Value>>,
    tags: Option<Vec<String>>,
    count: Option<u32>,
}

fuzz_target!(|data: &[u8]| {
    if let Err(e) = carepost_server::decode_json::<Contact>(data) {
        assert_eq!(e.status, 400);
    }
});
