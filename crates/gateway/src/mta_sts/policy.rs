//! The MTA-STS policy file (RFC 8461 §3.2) and MX pattern matching (§4.1).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Largest policy file accepted (RFC 8461 §3.3 suggests 64 KiB).
pub const MAX_POLICY_SIZE: usize = 64 * 1024;
/// Longest `max_age` a policy may ask for: one year (RFC 8461 §3.2).
pub const MAX_MAX_AGE: u64 = 31_557_600;

/// What a domain asks senders to do when a verified TLS connection is impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StsMode {
    /// Deliver only to MX hosts matching the policy, over verified TLS.
    Enforce,
    /// Report failures but deliver anyway (carepost still requires verified TLS).
    Testing,
    /// The domain withdrew its policy.
    None,
}

/// A parsed policy file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsPolicy {
    /// Policy mode.
    pub mode: StsMode,
    /// MX patterns: exact host names or `*.` followed by a domain.
    pub mx: Vec<String>,
    /// How long the policy may be cached, in seconds (capped at one year).
    pub max_age: u64,
}

/// Why a policy file was refused.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum StsPolicyError {
    /// Larger than [`MAX_POLICY_SIZE`].
    #[error("the MTA-STS policy is larger than 64 KiB")]
    TooLarge,
    /// Not UTF-8 text.
    #[error("the MTA-STS policy is not UTF-8 text")]
    NotText,
    /// A required field is missing or has a wrong value.
    #[error("invalid MTA-STS policy: {0}")]
    Invalid(&'static str),
}

impl StsPolicy {
    /// Parses a policy file body.
    pub fn parse(body: &[u8]) -> Result<StsPolicy, StsPolicyError> {
        if body.len() > MAX_POLICY_SIZE {
            return Err(StsPolicyError::TooLarge);
        }
        let text = std::str::from_utf8(body).map_err(|_| StsPolicyError::NotText)?;

        let (mut version, mut mode, mut max_age) = (None, None, None);
        let mut mx = Vec::new();
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "version" => version = version.or(Some(value)),
                "mode" => mode = mode.or(Some(value)),
                "max_age" => max_age = max_age.or(Some(value)),
                "mx" => mx.push(value.to_ascii_lowercase()),
                _ => {}
            }
        }

        if version != Some("STSv1") {
            return Err(StsPolicyError::Invalid("version must be STSv1"));
        }
        let mode = match mode {
            Some("enforce") => StsMode::Enforce,
            Some("testing") => StsMode::Testing,
            Some("none") => StsMode::None,
            _ => {
                return Err(StsPolicyError::Invalid(
                    "mode must be enforce, testing or none",
                ));
            }
        };
        let max_age = parse_max_age(max_age)?;
        if mode != StsMode::None && mx.is_empty() {
            return Err(StsPolicyError::Invalid("at least one mx line is required"));
        }
        if mx.iter().any(|pattern| !valid_pattern(pattern)) {
            return Err(StsPolicyError::Invalid("an mx pattern is not a host name"));
        }
        Ok(StsPolicy { mode, mx, max_age })
    }

    /// How long the policy may be cached.
    pub fn max_age(&self) -> Duration {
        Duration::from_secs(self.max_age)
    }

    /// Whether `mx_host` matches one of the policy's `mx` patterns.
    pub fn allows_mx(&self, mx_host: &str) -> bool {
        self.mx.iter().any(|pattern| mx_matches(pattern, mx_host))
    }
}

/// RFC 8461 §4.1: a pattern is a host name, or `*.` + domain matching exactly one
/// extra leftmost label. Comparison ignores case and one trailing dot.
pub fn mx_matches(pattern: &str, mx_host: &str) -> bool {
    let host = mx_host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(parent) => match host.split_once('.') {
            Some((label, rest)) => !label.is_empty() && rest == parent,
            None => false,
        },
        None => host == pattern,
    }
}

fn parse_max_age(value: Option<&str>) -> Result<u64, StsPolicyError> {
    let value = value.ok_or(StsPolicyError::Invalid("max_age is required"))?;
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(StsPolicyError::Invalid(
            "max_age must be a number of seconds",
        ));
    }
    let seconds: u64 = value
        .parse()
        .map_err(|_| StsPolicyError::Invalid("max_age is not a number"))?;
    Ok(seconds.min(MAX_MAX_AGE))
}

fn valid_pattern(pattern: &str) -> bool {
    let host = pattern
        .strip_prefix("*.")
        .unwrap_or(pattern)
        .trim_end_matches('.');
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_EXAMPLE: &[u8] =
        b"version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmx: backupmx.example.com\r\nmax_age: 604800\r\n";

    #[test]
    fn the_rfc_example_policy_parses() {
        let policy = StsPolicy::parse(RFC_EXAMPLE).unwrap();
        assert_eq!(policy.mode, StsMode::Enforce);
        assert_eq!(policy.mx.len(), 3);
        assert_eq!(policy.max_age, 604_800);
    }

    #[test]
    fn wildcards_match_exactly_one_label() {
        assert!(mx_matches("*.example.net", "mx1.example.net"));
        assert!(mx_matches("*.example.net", "MX1.Example.NET."));
        assert!(!mx_matches("*.example.net", "a.b.example.net"));
        assert!(!mx_matches("*.example.net", "example.net"));
        assert!(mx_matches("mail.example.com", "mail.example.com."));
        assert!(!mx_matches("mail.example.com", "evilmail.example.com"));
    }

    #[test]
    fn policies_missing_required_fields_are_refused() {
        assert!(StsPolicy::parse(b"version: STSv1\nmode: enforce\nmax_age: 10\n").is_err());
        assert!(StsPolicy::parse(b"version: STSv2\nmode: none\nmax_age: 10\n").is_err());
        assert!(StsPolicy::parse(b"version: STSv1\nmode: strict\nmx: a\nmax_age: 10\n").is_err());
        assert!(StsPolicy::parse(b"version: STSv1\nmode: none\nmax_age: -1\n").is_err());
        assert!(StsPolicy::parse(b"version: STSv1\nmode: none\nmax_age: 10\n").is_ok());
    }

    #[test]
    fn max_age_is_capped_at_one_year() {
        let policy =
            StsPolicy::parse(b"version: STSv1\nmode: testing\nmx: a.b\nmax_age: 9999999999\n");
        assert_eq!(policy.unwrap().max_age, MAX_MAX_AGE);
    }
}
