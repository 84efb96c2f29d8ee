//! `carepost`: the server and the operator's command-line tool.
#![forbid(unsafe_code)]

mod cli;
mod cmd;
mod context;
mod logging;
mod mail;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match context::load_config(&cli.global) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("carepost: {e}");
            return ExitCode::from(2);
        }
    };
    logging::init(&cli.command, &config.log);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("carepost: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async move {
        match cli.command {
            Command::Init(args) => cmd::init::run(&cli.global, &config, args),
            Command::Serve(args) => cmd::serve::run(config, args).await,
            Command::Keys(args) => cmd::keys::run(&config, args).await,
            Command::Audit(args) => cmd::audit::run(&config, args).await,
            Command::Apikey(args) => cmd::apikey::run(&config, args).await,
            Command::SmtpUser(args) => cmd::smtp_user::run(&config, args).await,
            Command::Dkim(args) => cmd::dkim::run(&config, args).await,
            Command::Tls(args) => cmd::tls::run(&config, args).await,
            Command::Domain(args) => cmd::domain::run(&config, args).await,
            Command::Dlp(args) => cmd::dlp::run(args),
            Command::Bench(args) => cmd::bench::run(&config, args).await,
        }
    });
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("carepost: {e:#}");
            ExitCode::FAILURE
        }
    }
}
