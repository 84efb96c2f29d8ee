//! Framing of command and SASL lines, before smtp-proto sees them.
//!
//! A line ends at LF. It is executed only if it ends in CRLF, holds no other control
//! character than HTAB (no NUL, no bare CR) and is UTF-8: smtp-proto drops CRs inside a line
//! and replaces invalid UTF-8, so such lines are refused here instead of being read
//! differently from how the client meant them.

use super::reply::Reply;

/// Where the next line of `input` ends.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Framing {
    /// A line of this many octets, its LF included, within the limit.
    Line(usize),
    /// No LF yet, and fewer than `max` octets: wait for more.
    Partial,
    /// A line of this many octets (LF included) that is over the limit.
    TooLong(usize),
    /// `max` octets or more and no LF yet: the rest of the line must be discarded.
    TooLongUnterminated,
}

/// Frames the next line of `input`, allowing `max` octets including CRLF.
pub(super) fn frame(input: &[u8], max: usize) -> Framing {
    match input.iter().position(|&b| b == b'\n') {
        Some(lf) if lf < max => Framing::Line(lf + 1),
        Some(lf) => Framing::TooLong(lf + 1),
        None if input.len() >= max => Framing::TooLongUnterminated,
        None => Framing::Partial,
    }
}

/// The reply to a line over the limit.
pub(super) const LINE_TOO_LONG: Reply = Reply::new(500, "5.5.2", "Line too long");

/// Checks a framed line (LF included) and returns it as text (CRLF included).
pub(super) fn check(line: &[u8]) -> Result<&str, Reply> {
    let Some(content) = line.strip_suffix(b"\r\n") else {
        return Err(Reply::new(500, "5.5.2", "Line must end with CRLF"));
    };
    if content
        .iter()
        .any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f)
    {
        return Err(Reply::new(
            500,
            "5.5.2",
            "Control characters are not allowed in commands",
        ));
    }
    std::str::from_utf8(line).map_err(|_| Reply::new(500, "5.5.2", "Command is not valid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_lines_within_and_over_the_limit() {
        assert_eq!(frame(b"NOOP\r\nQU", 10), Framing::Line(6));
        assert_eq!(frame(b"NOOP", 10), Framing::Partial);
        assert_eq!(frame(b"0123456789", 10), Framing::TooLongUnterminated);
        assert_eq!(frame(b"012345678\r\n", 10), Framing::TooLong(11));
        assert_eq!(frame(b"01234567\r\n", 10), Framing::Line(10));
    }

    #[test]
    fn refuses_bare_lf_nul_bare_cr_and_invalid_utf8() {
        assert!(check(b"NOOP\r\n").is_ok());
        assert!(check(b"NOOP\n").is_err());
        assert!(check(b"NO\0OP\r\n").is_err());
        assert!(check(b"NO\rOP\r\n").is_err());
        assert!(check(b"NOOP \xff\r\n").is_err());
    }
}
