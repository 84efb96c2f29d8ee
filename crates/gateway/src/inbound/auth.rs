//! AUTH PLAIN (RFC 4616) and AUTH LOGIN over TLS only (RFC 4954).

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use smtp_proto::{AUTH_LOGIN, AUTH_PLAIN};
use zeroize::Zeroizing;

use super::handler::{HandlerError, Submitter};
use super::reply::Reply;
use super::session::{Session, State, Step};

/// A username and password received with AUTH, to be checked by the embedder.
///
/// The password is wiped from memory when dropped; `Debug` shows neither.
pub struct Credentials {
    username: String,
    password: Zeroizing<String>,
}

impl Credentials {
    /// The authentication identity (RFC 4616 `authcid`).
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password.
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(..)")
    }
}

/// The SASL response the session waits for.
pub(super) enum SaslStep {
    /// `authzid NUL authcid NUL passwd`.
    Plain,
    /// The username of AUTH LOGIN.
    LoginUsername,
    /// The password of AUTH LOGIN, after this username.
    LoginPassword(Zeroizing<String>),
}

impl Session {
    /// The AUTH command, with its optional initial response (`""` when absent, `"="` for an
    /// empty one).
    pub(super) fn auth(&mut self, mechanism: u64, initial_response: &str) -> Step {
        if self.tls.is_none() {
            return self.reply(Reply::new(
                538,
                "5.7.11",
                "Encryption required for requested authentication mechanism",
            ));
        }
        if self.helo.is_none() {
            return self.reply(Reply::new(503, "5.5.1", "Send EHLO first"));
        }
        if self.submitter.is_some() {
            return self.reply(Reply::new(503, "5.5.1", "Already authenticated"));
        }
        if self.transaction.is_some() {
            return self.reply(Reply::new(
                503,
                "5.5.1",
                "AUTH is not allowed during a mail transaction",
            ));
        }

        match mechanism {
            AUTH_PLAIN if initial_response.is_empty() => {
                self.state = State::Sasl(SaslStep::Plain);
                self.reply(Reply::new(334, "", ""))
            }
            AUTH_PLAIN => self.sasl_response(SaslStep::Plain, initial_response),
            AUTH_LOGIN if initial_response.is_empty() => {
                self.state = State::Sasl(SaslStep::LoginUsername);
                self.reply(Reply::new(334, "", "VXNlcm5hbWU6"))
            }
            AUTH_LOGIN => self.sasl_response(SaslStep::LoginUsername, initial_response),
            _ => self.reply(Reply::new(504, "5.5.4", "Unrecognized authentication type")),
        }
    }

    /// One base64 SASL response (a line, or the initial response of AUTH).
    pub(super) fn sasl_response(&mut self, step: SaslStep, text: &str) -> Step {
        let text = text.trim_end_matches(['\r', '\n']);
        if text == "*" {
            return self.reply(Reply::new(501, "5.0.0", "Authentication cancelled"));
        }
        let decoded = match text {
            "=" => Zeroizing::new(Vec::new()),
            _ => match STANDARD.decode(text) {
                Ok(decoded) => Zeroizing::new(decoded),
                Err(_) => return self.reply(Reply::new(501, "5.5.2", "Cannot decode response")),
            },
        };

        match step {
            SaslStep::Plain => match parse_plain(&decoded) {
                Ok(credentials) => self.emit_authenticate(credentials),
                Err(PlainFault::Malformed) => {
                    self.reply(Reply::new(501, "5.5.2", "Malformed PLAIN response"))
                }
                Err(PlainFault::Refused) => self.auth_failed(),
            },
            SaslStep::LoginUsername => match utf8(&decoded) {
                Some(username) => {
                    self.state = State::Sasl(SaslStep::LoginPassword(username));
                    self.reply(Reply::new(334, "", "UGFzc3dvcmQ6"))
                }
                None => self.reply(Reply::new(501, "5.5.2", "Malformed LOGIN response")),
            },
            SaslStep::LoginPassword(username) => match utf8(&decoded) {
                Some(password) if !username.is_empty() && !password.is_empty() => self
                    .emit_authenticate(Credentials {
                        username: username.to_string(),
                        password,
                    }),
                Some(_) => self.auth_failed(),
                None => self.reply(Reply::new(501, "5.5.2", "Malformed LOGIN response")),
            },
        }
    }

    /// The embedder's answer to [`Event::Authenticate`](super::Event::Authenticate).
    pub fn finish_authentication(&mut self, result: Result<Option<Submitter>, HandlerError>) {
        if !matches!(self.state, State::Authenticating) {
            return;
        }
        self.state = State::Command;
        match result {
            Ok(Some(submitter)) => {
                tracing::info!(submitter = %submitter.id, "authenticated");
                self.submitter = Some(submitter);
                self.reply(Reply::new(235, "2.7.0", "Authentication successful"));
            }
            Ok(None) => {
                self.auth_failed();
            }
            Err(HandlerError::Temporary(reason)) => {
                tracing::warn!(%reason, reply = 454, "credential check failed temporarily");
                self.reply(Reply::new(454, "4.7.0", "Temporary authentication failure"));
            }
            Err(HandlerError::Permanent(reason)) => {
                tracing::info!(%reason, "credential refused by the embedder");
                self.auth_failed();
            }
        }
    }

    /// A failed authentication: `535 5.7.8`, or `421 4.7.0` and close at the limit.
    fn auth_failed(&mut self) -> Step {
        self.auth_failures += 1;
        tracing::info!(failures = self.auth_failures, "authentication failed");
        if self.auth_failures >= self.config.limits.max_auth_failures {
            return self.close("4.7.0", "Too many failed authentication attempts");
        }
        self.reply(Reply::new(
            535,
            "5.7.8",
            "Authentication credentials invalid",
        ))
    }
}

enum PlainFault {
    /// Not three UTF-8 fields separated by NUL.
    Malformed,
    /// Well-formed, but empty, or asking to act as someone else (not supported).
    Refused,
}

fn parse_plain(message: &[u8]) -> Result<Credentials, PlainFault> {
    let mut fields = message.split(|&b| b == 0);
    let (Some(authzid), Some(authcid), Some(password), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(PlainFault::Malformed);
    };
    let (Some(authzid), Some(username), Some(password)) =
        (utf8(authzid), utf8(authcid), utf8(password))
    else {
        return Err(PlainFault::Malformed);
    };
    if username.is_empty() || password.is_empty() {
        return Err(PlainFault::Refused);
    }
    if !authzid.is_empty() && *authzid != *username {
        return Err(PlainFault::Refused);
    }
    Ok(Credentials {
        username: username.to_string(),
        password,
    })
}

fn utf8(bytes: &[u8]) -> Option<Zeroizing<String>> {
    std::str::from_utf8(bytes)
        .ok()
        .map(|s| Zeroizing::new(s.to_owned()))
}
