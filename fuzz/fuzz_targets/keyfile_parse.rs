//! The key file and `CAREPOST_MASTER_KEY` parsers: any text gives a key or an error
//! that names no key material, never a panic.
#![no_main]

use std::path::Path;

use carepost_crypto::KeyFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = KeyFile::parse(&text, Path::new("fuzz.key")) {
        let _ = e.to_string();
    }
    if let Err(e) = KeyFile::from_env_value(&text) {
        let _ = e.to_string();
    }
});
