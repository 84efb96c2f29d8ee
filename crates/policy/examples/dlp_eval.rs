//! Prints the evaluation table over the bundled corpus: `cargo run --example dlp_eval`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scanner = carepost_policy::Scanner::with_defaults()?;
    let report = carepost_policy::eval::evaluate_bundled(&scanner)?;
    print!("{}", report.table());
    Ok(())
}
