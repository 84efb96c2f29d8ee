//! SMTP replies as the session writes them.

use std::borrow::Cow;

/// One reply: a three-digit code, an enhanced status code (RFC 3463) or `""` where RFC 2034
/// exempts the reply (greeting, EHLO/HELO, 3xx), and one or more lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Reply {
    pub(super) code: u16,
    pub(super) status: &'static str,
    pub(super) text: Cow<'static, str>,
}

impl Reply {
    /// A reply with fixed text.
    pub(super) const fn new(code: u16, status: &'static str, text: &'static str) -> Reply {
        Reply {
            code,
            status,
            text: Cow::Borrowed(text),
        }
    }

    /// A reply whose text was composed at run time. Callers pass only text they built
    /// themselves or ran through [`sanitize`].
    pub(super) fn owned(code: u16, status: &'static str, text: String) -> Reply {
        Reply {
            code,
            status,
            text: Cow::Owned(text),
        }
    }

    /// Whether this reply rejects a command for its syntax or sequence (500-504, 555); those
    /// count towards `max_command_errors`.
    pub(super) fn is_command_error(&self) -> bool {
        (500..=504).contains(&self.code) || self.code == 555
    }

    /// Appends the reply to `out`: one line per `\n`-separated line of text, `-` after the
    /// code on all lines but the last, the enhanced code on every line.
    pub(super) fn write_to(&self, out: &mut Vec<u8>) {
        let mut lines = self.text.split('\n').peekable();
        while let Some(line) = lines.next() {
            let separator = if lines.peek().is_some() { '-' } else { ' ' };
            let code = self.code.to_string();
            out.extend_from_slice(code.as_bytes());
            out.push(separator as u8);
            if !self.status.is_empty() {
                out.extend_from_slice(self.status.as_bytes());
                out.push(b' ');
            }
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
}

/// Makes text from outside (the embedder's reasons and ids) safe for one reply line: control
/// characters become spaces, and it is cut at `max` characters.
pub(super) fn sanitize(text: &str, max: usize) -> String {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect();
    clean.trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_multi_line_replies_with_the_enhanced_code_on_every_line() {
        let mut out = Vec::new();
        Reply::new(250, "2.0.0", "one\ntwo").write_to(&mut out);
        Reply::new(354, "", "go").write_to(&mut out);
        assert_eq!(out, b"250-2.0.0 one\r\n250 2.0.0 two\r\n354 go\r\n");
    }

    #[test]
    fn sanitizing_removes_line_breaks_and_limits_length() {
        assert_eq!(sanitize("blocked\r\n250 ok", 100), "blocked  250 ok");
        assert_eq!(sanitize("abcdef", 3), "abc");
    }
}
