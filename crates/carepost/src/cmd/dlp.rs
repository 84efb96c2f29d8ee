//! `carepost dlp`: scan files for PHI and evaluate the detectors.

use std::io::BufReader;
use std::process::ExitCode;

use anyhow::Context;
use carepost_policy::{PatientNameIndex, Scanner, api, eval};

use crate::cli::{DlpArgs, DlpCommand};

pub fn run(args: DlpArgs) -> anyhow::Result<ExitCode> {
    let scanner = Scanner::with_defaults()?;
    match args.command {
        DlpCommand::Scan { file } => {
            let names = PatientNameIndex::empty();
            let stdout = std::io::stdout().lock();
            let summary = if file.as_os_str() == "-" {
                api::scan_jsonl(&scanner, &names, std::io::stdin().lock(), stdout)?
            } else {
                let f = std::fs::File::open(&file)
                    .with_context(|| format!("cannot open {}", file.display()))?;
                api::scan_jsonl(&scanner, &names, BufReader::new(f), stdout)?
            };
            eprintln!(
                "scanned {} records: {} contain PHI, {} lines could not be read",
                summary.scanned, summary.with_phi, summary.errors
            );
        }
        DlpCommand::Eval { corpus } => {
            let report = match corpus {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    eval::evaluate(&scanner, &PatientNameIndex::empty(), &text)
                }
                None => eval::evaluate_bundled(&scanner)?,
            };
            println!("{}", report.table());
        }
    }
    Ok(ExitCode::SUCCESS)
}
