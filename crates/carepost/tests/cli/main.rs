//! The `carepost` binary, run for real: its commands, flags, exit codes and messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audit;
mod crash;
mod keys;
mod lifecycle;
mod mail;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

pub(crate) fn carepost(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_carepost"));
    c.current_dir(dir)
        .env_remove("CAREPOST_MASTER_KEY")
        .env_remove("CAREPOST_CONFIG");
    for (k, _) in std::env::vars() {
        if k.starts_with("CAREPOST_") && k.contains("__") {
            c.env_remove(k);
        }
    }
    c
}

pub(crate) fn run(dir: &Path, args: &[&str]) -> Output {
    carepost(dir).args(args).output().unwrap()
}

pub(crate) fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A running `carepost serve`, stopped with SIGTERM when dropped.
pub(crate) struct Server {
    pub child: Child,
    pub base: String,
    pub banner: String,
    /// The STARTTLS submission address (`None` with `smtp.enabled = false`).
    pub smtp: Option<std::net::SocketAddr>,
    /// The implicit-TLS submission address.
    pub smtps: Option<std::net::SocketAddr>,
}

impl Server {
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        let mut child = carepost(dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args([
                "--smtp-listen",
                "127.0.0.1:0",
                "--smtps-listen",
                "127.0.0.1:0",
            ])
            .args(extra)
            .env("CAREPOST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut banner = String::new();
        let mut base = None;
        let (mut smtp, mut smtps) = (None, None);
        let address = |rest: &str| rest.split_whitespace().next().and_then(|a| a.parse().ok());
        for line in lines.by_ref() {
            let line = line.unwrap();
            banner.push_str(&line);
            banner.push('\n');
            if let Some(rest) = line.trim().strip_prefix("http:") {
                base = rest.split_whitespace().next().map(str::to_owned);
            }
            if let Some(rest) = line.trim().strip_prefix("smtp:") {
                smtp = address(rest);
            }
            if let Some(rest) = line.trim().strip_prefix("smtps:") {
                smtps = address(rest);
            }
            if line.trim().starts_with("organization:") {
                break;
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let base = base.unwrap_or_else(|| panic!("no http line in the banner:\n{banner}"));
        Server {
            child,
            base,
            banner,
            smtp,
            smtps,
        }
    }

    pub fn stop(mut self) -> std::process::ExitStatus {
        terminate(&mut self.child);
        self.child.wait().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        terminate(&mut self.child);
        let _ = self.child.wait();
    }
}

fn terminate(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
    }
}
