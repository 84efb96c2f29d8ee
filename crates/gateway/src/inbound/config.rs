//! Configuration of the submission server: the host name it announces and its limits.

use std::time::Duration;

/// How the submission server presents itself and what it tolerates.
#[derive(Debug, Clone)]
pub struct SubmissionConfig {
    hostname: String,
    /// Limits on connections, commands and messages.
    pub limits: SubmissionLimits,
    /// On shutdown, how long transactions in flight may take to finish before their
    /// connections are dropped (without a reply, so the client retries).
    pub shutdown_grace: Duration,
}

/// The name given to [`SubmissionConfig::new`] is not a DNS host name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("submission host name {0:?} is not a DNS host name (letters, digits, '-' and '.')")]
pub struct InvalidHostname(pub String);

impl SubmissionConfig {
    /// A configuration announcing `hostname` in the greeting, the EHLO reply and the
    /// `Received:` header, with [`SubmissionLimits::default`] and a 30 second shutdown grace.
    ///
    /// Refuses anything but an ASCII host name (it is written into every reply).
    pub fn new(hostname: &str) -> Result<SubmissionConfig, InvalidHostname> {
        if !is_host_name(hostname) {
            return Err(InvalidHostname(hostname.to_owned()));
        }
        Ok(SubmissionConfig {
            hostname: hostname.to_ascii_lowercase(),
            limits: SubmissionLimits::default(),
            shutdown_grace: Duration::from_secs(30),
        })
    }

    /// The announced host name.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }
}

/// Limits of the submission server. Every limit has a clear reply when it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubmissionLimits {
    /// Longest command or SASL response line, in octets including CRLF (default 1000; RFC
    /// 5321 requires at least 512). Longer lines get `500 5.5.2` and are not executed.
    pub max_line_length: usize,
    /// Largest message, in octets of content after dot-unstuffing (default 25 MiB),
    /// advertised with SIZE. `552 5.3.4` at MAIL (for a larger SIZE=) or after the data.
    pub max_message_size: usize,
    /// Recipients per message (default 100); more get `452 4.5.3`.
    pub max_recipients: usize,
    /// Open connections in total (default 512); more are refused with `421 4.3.2`.
    pub max_connections: usize,
    /// Open connections per client address, IPv6 counted per /64 (default 32); more are
    /// refused with `421 4.7.0`.
    pub max_connections_per_ip: usize,
    /// Mail transactions (accepted MAIL commands) per connection (default 100); the next
    /// MAIL gets `421 4.7.0` and the connection is closed.
    pub max_messages_per_connection: usize,
    /// Failed authentications per connection (default 3); the last failure gets `421 4.7.0`
    /// instead of `535 5.7.8` and the connection is closed.
    pub max_auth_failures: u32,
    /// Rejected commands (500-504, 555) per connection (default 20); then `421 4.7.0` and
    /// the connection is closed.
    pub max_command_errors: u32,
    /// How long the server waits for the next command or SASL response (default 5 minutes,
    /// RFC 5321 4.5.3.2.7); then `421 4.4.2` and the connection is closed.
    pub command_timeout: Duration,
    /// How long the server waits for more message data, DATA or BDAT (default 3 minutes);
    /// then `421 4.4.2`, the partial message is discarded and the connection is closed.
    pub data_timeout: Duration,
    /// How long a TLS handshake may take (default 30 seconds).
    pub handshake_timeout: Duration,
}

impl Default for SubmissionLimits {
    fn default() -> SubmissionLimits {
        SubmissionLimits {
            max_line_length: 1000,
            max_message_size: 25 * 1024 * 1024,
            max_recipients: 100,
            max_connections: 512,
            max_connections_per_ip: 32,
            max_messages_per_connection: 100,
            max_auth_failures: 3,
            max_command_errors: 20,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(180),
            handshake_timeout: Duration::from_secs(30),
        }
    }
}

fn is_host_name(name: &str) -> bool {
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    (1..=253).contains(&name.len()) && name.split('.').all(label_ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_host_names_that_could_inject_into_replies() {
        assert!(SubmissionConfig::new("mail.clinic.test").is_ok());
        assert!(SubmissionConfig::new("localhost").is_ok());
        for bad in ["", "a b", "mail\r\n250 x", "-a.test", "a..test", "ü.test"] {
            assert!(SubmissionConfig::new(bad).is_err(), "{bad:?}");
        }
    }
}
