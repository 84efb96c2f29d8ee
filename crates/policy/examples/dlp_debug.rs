//! Developer aid: prints misjudged synthetic messages of the bundled corpus (synthetic
//! data only; never point it at real mail). `cargo run --example dlp_debug`.
#![allow(clippy::unwrap_used)]

use carepost_policy::{PatientNameIndex, Scanner, assess, eval};

fn main() {
    let scanner = Scanner::with_defaults().unwrap();
    let names = PatientNameIndex::new(eval::BUNDLED_PATIENTS.lines()).unwrap();
    let filter = std::env::args().nth(1).unwrap_or_default();
    for line in eval::BUNDLED_CORPUS.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let text = v["text"].as_str().unwrap();
        let result = scanner.scan(text, &names);
        let decided = assess(&result).contains_phi;
        let want = v["contains_phi"].as_bool().unwrap();
        let chars: Vec<char> = text.chars().collect();
        let cut = |s: usize, e: usize| {
            chars[s.min(chars.len())..e.min(chars.len())]
                .iter()
                .collect::<String>()
        };
        let mut notes = Vec::new();
        for f in &result.findings {
            let ok = v["spans"].as_array().unwrap().iter().any(|g| {
                g["type"] == f.phi_type.as_str()
                    && (g["start"].as_u64().unwrap() as usize) < f.chars.end
                    && f.chars.start < g["end"].as_u64().unwrap() as usize
            });
            if !ok {
                notes.push(format!(
                    "FP {} {:?}",
                    f.phi_type,
                    cut(f.chars.start, f.chars.end)
                ));
            }
        }
        for g in v["spans"].as_array().unwrap() {
            let (s, e) = (
                g["start"].as_u64().unwrap() as usize,
                g["end"].as_u64().unwrap() as usize,
            );
            let ok = result
                .findings
                .iter()
                .any(|f| g["type"] == f.phi_type.as_str() && f.chars.start < e && s < f.chars.end);
            if !ok {
                notes.push(format!("FN {} {:?}", g["type"], cut(s, e)));
            }
        }
        let show = if filter.is_empty() {
            decided != want
        } else {
            notes.iter().any(|n| n.contains(&filter))
        };
        if show {
            println!(
                "== {} want={want} got={decided} {:?}\n{text}\n{notes:?}\n",
                v["id"],
                assess(&result).reason
            );
        }
    }
}
