//! Prints the DLP speed figures: `cargo run --release --example dlp_bench`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let scanner = carepost_policy::Scanner::with_defaults()?;
    let report =
        carepost_policy::bench::run(&scanner, carepost_policy::bench::BenchOptions::default())?;
    print!("{report}");
    Ok(())
}
