//! SMTP replies (RFC 5321 §4.2) with enhanced status codes (RFC 3463).

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// Longest reply line accepted (RFC 5321 §4.5.3.1.5 allows 512; servers exceed it).
const MAX_LINE: u64 = 4096;
/// Most lines accepted in one multi-line reply.
const MAX_LINES: usize = 128;

/// A server reply: code, optional enhanced status code and text (lines joined by `\n`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    /// Three-digit reply code.
    pub code: u16,
    /// Enhanced status code such as `5.1.1`, when the server sent one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub enhanced_code: Option<String>,
    /// Reply text without codes.
    pub text: String,
}

impl Reply {
    /// 2xx.
    pub fn is_positive(&self) -> bool {
        (200..300).contains(&self.code)
    }

    /// 4xx: try again later.
    pub fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }

    /// 5xx: do not retry.
    pub fn is_permanent(&self) -> bool {
        (500..600).contains(&self.code)
    }

    /// Parses the lines of one complete reply.
    pub fn parse_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Result<Reply, String> {
        let mut code = None;
        let mut texts = Vec::new();
        for line in lines {
            let (line_code, text) = split_line(line)?;
            if *code.get_or_insert(line_code) != line_code {
                return Err("reply lines carry different codes".into());
            }
            texts.push(text);
        }
        let code = code.ok_or("empty reply")?;
        let mut reply = Reply {
            code,
            enhanced_code: None,
            text: texts.join("\n"),
        };
        reply.extract_enhanced_code();
        Ok(reply)
    }

    fn extract_enhanced_code(&mut self) {
        let class = char::from(b'0' + (self.code / 100) as u8);
        let first_line = self.text.lines().next().unwrap_or_default();
        let candidate = first_line.split(' ').next().unwrap_or_default();
        if !is_enhanced_code(candidate, class) {
            return;
        }
        // Every line of a reply may repeat the code; keep the text readable.
        let code = candidate.to_owned();
        let cleaned: Vec<&str> = self
            .text
            .lines()
            .map(|line| {
                line.strip_prefix(code.as_str())
                    .map_or(line, str::trim_start)
            })
            .collect();
        self.text = cleaned.join("\n");
        self.enhanced_code = Some(code);
    }
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.enhanced_code {
            Some(code) => write!(f, "{} {code} {}", self.code, self.text),
            None => write!(f, "{} {}", self.code, self.text),
        }
    }
}

fn split_line(line: &str) -> Result<(u16, &str), String> {
    let digits = line.get(..3).ok_or("reply line shorter than a code")?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "reply line does not start with a code: {:?}",
            truncate(line)
        ));
    }
    let code: u16 = digits.parse().map_err(|_| "bad reply code")?;
    if !(200..600).contains(&code) {
        return Err(format!("reply code {code} out of range"));
    }
    let text = line.get(4..).unwrap_or("");
    Ok((code, text))
}

fn is_enhanced_code(candidate: &str, class: char) -> bool {
    let mut parts = candidate.split('.');
    let (Some(c), Some(subject), Some(detail), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let number = |s: &str| (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    c.len() == 1 && c.starts_with(class) && number(subject) && number(detail)
}

fn truncate(line: &str) -> String {
    line.chars().take(64).collect()
}

/// Reads one complete (possibly multi-line) reply.
pub(crate) async fn read_reply<R: AsyncBufRead + Unpin>(
    reader: &mut R,
) -> Result<Reply, ReadError> {
    let mut lines = Vec::new();
    loop {
        let mut raw = Vec::new();
        let read = (&mut *reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut raw)
            .await
            .map_err(ReadError::Io)?;
        if read == 0 {
            return Err(ReadError::Closed);
        }
        if raw.last() != Some(&b'\n') {
            return Err(ReadError::Malformed("reply line too long".into()));
        }
        let line = String::from_utf8_lossy(&raw)
            .trim_end_matches(['\r', '\n'])
            .to_owned();
        let last = line.as_bytes().get(3) != Some(&b'-');
        lines.push(line);
        if last {
            break;
        }
        if lines.len() >= MAX_LINES {
            return Err(ReadError::Malformed("reply has too many lines".into()));
        }
    }
    Reply::parse_lines(lines.iter().map(String::as_str)).map_err(ReadError::Malformed)
}

/// Why no reply could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io(std::io::Error),
    Closed,
    Malformed(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Closed => f.write_str("connection closed by the server"),
            Self::Malformed(detail) => write!(f, "malformed reply: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn multi_line_replies_are_joined_and_enhanced_codes_extracted() {
        let mut input = b"550-5.1.1 No such user\r\n550 5.1.1 Try again\r\n250 next".as_slice();
        let reply = read_reply(&mut input).await.unwrap();
        assert_eq!(reply.code, 550);
        assert_eq!(reply.enhanced_code.as_deref(), Some("5.1.1"));
        assert_eq!(reply.text, "No such user\nTry again");
        assert!(reply.is_permanent());
    }

    #[tokio::test]
    async fn enhanced_codes_must_match_the_reply_class() {
        let mut input = b"451 5.1.1 odd\r\n".as_slice();
        let reply = read_reply(&mut input).await.unwrap();
        assert_eq!(reply.enhanced_code, None);
        assert_eq!(reply.text, "5.1.1 odd");
    }

    #[tokio::test]
    async fn garbage_and_eof_are_errors_not_panics() {
        assert!(read_reply(&mut b"hello\r\n".as_slice()).await.is_err());
        assert!(read_reply(&mut b"".as_slice()).await.is_err());
        assert!(
            read_reply(&mut b"250-a\r\n251 b\r\n".as_slice())
                .await
                .is_err()
        );
        assert!(read_reply(&mut b"99".as_slice()).await.is_err());
        let long = vec![b'2'; 10_000];
        assert!(read_reply(&mut long.as_slice()).await.is_err());
    }
}
