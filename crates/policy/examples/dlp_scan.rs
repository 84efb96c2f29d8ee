//! Scans JSON lines of `{"id", "text"}` from standard input and writes one result line per
//! record, as `carepost dlp scan FILE` does: `cargo run --example dlp_scan < records.jsonl`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scanner = carepost_policy::Scanner::with_defaults()?;
    let names = carepost_policy::PatientNameIndex::empty();
    let stdin = std::io::stdin().lock();
    let summary =
        carepost_policy::api::scan_jsonl(&scanner, &names, stdin, std::io::stdout().lock())?;
    eprintln!(
        "{} scanned, {} with PHI, {} errors",
        summary.scanned, summary.with_phi, summary.errors
    );
    Ok(())
}
