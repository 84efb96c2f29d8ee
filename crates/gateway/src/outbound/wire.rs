//! Commands and replies on one SMTP connection, each bounded by a timeout.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};

use super::outcome::{FailureReason, SmtpStage};
use super::reply::{ReadError, Reply, read_reply};

/// Time limits for the SMTP client (RFC 5321 §4.5.3.2 suggests minutes; these are
/// shorter because a queue retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect.
    pub connect: Duration,
    /// Each command's reply, the greeting and the TLS handshake.
    pub command: Duration,
    /// Sending the message data and waiting for the final reply.
    pub data: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(30),
            command: Duration::from_secs(120),
            data: Duration::from_secs(600),
        }
    }
}

/// A buffered SMTP stream.
pub(crate) struct Wire<S> {
    pub(crate) io: BufReader<S>,
    pub(crate) timeouts: Timeouts,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Wire<S> {
    pub(crate) fn new(stream: S, timeouts: Timeouts) -> Wire<S> {
        Wire {
            io: BufReader::new(stream),
            timeouts,
        }
    }

    /// Writes `bytes` and flushes.
    pub(crate) async fn send(
        &mut self,
        bytes: &[u8],
        stage: SmtpStage,
    ) -> Result<(), FailureReason> {
        let limit = if matches!(stage, SmtpStage::DataEnd) {
            self.timeouts.data
        } else {
            self.timeouts.command
        };
        let write = async {
            self.io.get_mut().write_all(bytes).await?;
            self.io.get_mut().flush().await
        };
        match tokio::time::timeout(limit, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(FailureReason::Network {
                stage,
                detail: e.to_string(),
            }),
            Err(_) => Err(timed_out(stage)),
        }
    }

    /// Reads one reply.
    pub(crate) async fn reply(&mut self, stage: SmtpStage) -> Result<Reply, FailureReason> {
        let limit = if matches!(stage, SmtpStage::DataEnd) {
            self.timeouts.data
        } else {
            self.timeouts.command
        };
        match tokio::time::timeout(limit, read_reply(&mut self.io)).await {
            Ok(Ok(reply)) => Ok(reply),
            Ok(Err(ReadError::Malformed(detail))) => Err(FailureReason::Protocol { stage, detail }),
            Ok(Err(error)) => Err(FailureReason::Network {
                stage,
                detail: error.to_string(),
            }),
            Err(_) => Err(timed_out(stage)),
        }
    }

    /// Sends one command line (CRLF appended) and reads its reply.
    pub(crate) async fn command(
        &mut self,
        line: &str,
        stage: SmtpStage,
    ) -> Result<Reply, FailureReason> {
        let mut bytes = Vec::with_capacity(line.len() + 2);
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.send(&bytes, stage).await?;
        self.reply(stage).await
    }
}

fn timed_out(stage: SmtpStage) -> FailureReason {
    FailureReason::Network {
        stage,
        detail: "timed out".into(),
    }
}

/// ESMTP extensions announced in an EHLO reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Capabilities {
    pub(crate) starttls: bool,
    pub(crate) pipelining: bool,
    pub(crate) size: Option<usize>,
    pub(crate) eight_bit_mime: bool,
    pub(crate) smtputf8: bool,
}

impl Capabilities {
    pub(crate) fn from_ehlo(reply: &Reply) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in reply.text.lines().skip(1) {
            let mut words = line.split_ascii_whitespace();
            let keyword = words.next().unwrap_or_default().to_ascii_uppercase();
            match keyword.as_str() {
                "STARTTLS" => caps.starttls = true,
                "PIPELINING" => caps.pipelining = true,
                "8BITMIME" => caps.eight_bit_mime = true,
                "SMTPUTF8" => caps.smtputf8 = true,
                "SIZE" => caps.size = words.next().and_then(|n| n.parse().ok()).filter(|n| *n > 0),
                _ => {}
            }
        }
        caps
    }
}

/// The message as sent after DATA: bare LF becomes CRLF, lines starting with a dot get
/// another dot (RFC 5321 §4.5.2), and the terminating `.` line is appended.
pub(crate) fn data_bytes(content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + content.len() / 50 + 5);
    let mut at_line_start = true;
    let mut previous = 0u8;
    for &byte in content {
        if at_line_start && byte == b'.' {
            out.push(b'.');
        }
        if byte == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(byte);
        at_line_start = byte == b'\n';
        previous = byte;
    }
    if !out.is_empty() && !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_is_dot_stuffed_and_crlf_terminated() {
        assert_eq!(data_bytes(b".a\n..b\r\nc"), b"..a\r\n...b\r\nc\r\n.\r\n");
        assert_eq!(data_bytes(b""), b".\r\n");
    }

    #[test]
    fn ehlo_capabilities_are_recognised() {
        let reply = Reply::parse_lines([
            "250-mx.test greets you",
            "250-PIPELINING",
            "250-SIZE 1000",
            "250-starttls",
            "250 8BITMIME",
        ])
        .unwrap();
        let caps = Capabilities::from_ehlo(&reply);
        assert!(caps.starttls && caps.pipelining && caps.eight_bit_mime && !caps.smtputf8);
        assert_eq!(caps.size, Some(1000));
    }
}
