//! Message content as it arrives: dot-unstuffing for DATA, and the checks every message
//! must pass, made octet by octet so that nothing is held beyond the size limit.
//!
//! Refused at the end of the data, whole (nothing is half-accepted):
//!
//! - more than `max_message_size` octets: `552 5.3.4` (the rest is read and discarded);
//! - a NUL octet, or a CR or LF that is not part of a CRLF pair: `550 5.6.0`. A bare LF is
//!   never the end of the data here (only CRLF.CRLF is), but servers further on may read it
//!   differently (SMTP smuggling), so such content is not passed on;
//! - a line over 998 octets (RFC 5322 2.1.1): `550 5.6.0`; long lines must be encoded
//!   (quoted-printable or base64) by the client, since relays would break them.
//!
//! A message without a header section is refused later, by the header `From:` check.

use super::reply::Reply;

/// The longest line RFC 5322 allows, CRLF excluded.
const MAX_LINE: usize = 998;

/// The content of a message being received, with what was found wrong with it.
pub(super) struct Body {
    data: Vec<u8>,
    max: usize,
    oversize: bool,
    line_length: usize,
    after_cr: bool,
    nul: bool,
    bare_line_break: bool,
    long_line: bool,
}

impl Body {
    /// An empty body holding at most `max` octets.
    pub(super) fn new(max: usize) -> Body {
        Body {
            data: Vec::new(),
            max,
            oversize: false,
            line_length: 0,
            after_cr: false,
            nul: false,
            bare_line_break: false,
            long_line: false,
        }
    }

    /// Octets kept so far.
    pub(super) fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether more than the limit arrived.
    pub(super) fn is_oversize(&self) -> bool {
        self.oversize
    }

    /// Adds one octet of content.
    pub(super) fn push(&mut self, byte: u8) {
        if self.after_cr && byte != b'\n' {
            self.bare_line_break = true;
        }
        match byte {
            b'\n' => {
                self.bare_line_break |= !self.after_cr;
                self.line_length = 0;
            }
            b'\r' => {}
            _ => {
                self.nul |= byte == 0;
                self.line_length += 1;
                self.long_line |= self.line_length > MAX_LINE;
            }
        }
        self.after_cr = byte == b'\r';

        if self.data.len() < self.max {
            self.data.push(byte);
        } else {
            self.oversize = true;
        }
    }

    /// Adds a BDAT chunk (no dot-stuffing there).
    pub(super) fn push_slice(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.push(byte);
        }
    }

    /// The complete content, or the reply refusing it. BDAT content that does not end in
    /// CRLF gets one (DATA content always does).
    pub(super) fn finish(mut self) -> Result<Vec<u8>, Reply> {
        if self.oversize {
            return Err(Reply::new(
                552,
                "5.3.4",
                "Message size exceeds fixed maximum message size",
            ));
        }
        if self.after_cr {
            self.bare_line_break = true;
        }
        if self.nul {
            return Err(Reply::new(550, "5.6.0", "Message contains NUL octets"));
        }
        if self.bare_line_break {
            return Err(Reply::new(
                550,
                "5.6.0",
                "Message contains a bare CR or LF; lines must end with CRLF",
            ));
        }
        if self.long_line {
            return Err(Reply::new(
                550,
                "5.6.0",
                "Message has a line longer than 998 octets; encode it (RFC 5322 2.1.1)",
            ));
        }
        if !self.data.is_empty() && !self.data.ends_with(b"\n") {
            self.data.extend_from_slice(b"\r\n");
        }
        Ok(self.data)
    }
}

/// Reads DATA content: removes the dot a client added to lines starting with a dot, and
/// finds the end, a line holding a single dot. Only CRLF "." CRLF ends the data (the
/// content starts at the beginning of a line).
pub(super) struct DotReader {
    position: Position,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Position {
    LineStart,
    /// A dot at the start of a line.
    Dot,
    /// A dot and CR at the start of a line.
    DotCr,
    Inside,
}

impl DotReader {
    /// A reader at the start of the content.
    pub(super) fn new() -> DotReader {
        DotReader {
            position: Position::LineStart,
        }
    }

    /// Moves content from `input` into `body`. Returns how many octets of `input` were
    /// used, and whether the end of the data was reached (the octets after it are left).
    pub(super) fn read(&mut self, input: &[u8], body: &mut Body) -> (usize, bool) {
        for (index, &byte) in input.iter().enumerate() {
            match (self.position, byte) {
                (Position::LineStart, b'.') => self.position = Position::Dot,
                (Position::Dot, b'\r') => self.position = Position::DotCr,
                (Position::DotCr, b'\n') => {
                    self.position = Position::LineStart;
                    return (index + 1, true);
                }
                (Position::DotCr, _) => {
                    body.push(b'\r');
                    self.inside(byte, body);
                }
                // The dot of a stuffed line is dropped (RFC 5321 4.5.2).
                (Position::LineStart | Position::Dot | Position::Inside, _) => {
                    self.inside(byte, body);
                }
            }
        }
        (input.len(), false)
    }

    fn inside(&mut self, byte: u8, body: &mut Body) {
        body.push(byte);
        self.position = if byte == b'\n' {
            Position::LineStart
        } else {
            Position::Inside
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(chunks: &[&[u8]], max: usize) -> (Result<Vec<u8>, Reply>, Vec<u8>) {
        let mut reader = DotReader::new();
        let mut body = Body::new(max);
        for (i, chunk) in chunks.iter().enumerate() {
            let (used, done) = reader.read(chunk, &mut body);
            if done {
                let mut rest = chunk[used..].to_vec();
                for later in &chunks[i + 1..] {
                    rest.extend_from_slice(later);
                }
                return (body.finish(), rest);
            }
        }
        panic!("no end of data in {chunks:?}");
    }

    #[test]
    fn unstuffs_dots_and_stops_at_the_dot_line_even_across_chunks() {
        let (body, rest) = read_all(&[b"a\r\n..b\r\n.", b"\r", b"\nQUIT\r\n"], 100);
        assert_eq!(body.unwrap(), b"a\r\n.b\r\n");
        assert_eq!(rest, b"QUIT\r\n");
    }

    #[test]
    fn an_empty_message_ends_at_once() {
        let (body, rest) = read_all(&[b".\r\nNOOP\r\n"], 100);
        assert_eq!(body.unwrap(), b"");
        assert_eq!(rest, b"NOOP\r\n");
    }

    #[test]
    fn a_bare_lf_before_a_dot_does_not_end_the_data_and_is_refused() {
        let (body, rest) = read_all(&[b"a\n.\nMAIL FROM:<x@y.test>\r\n.\r\n"], 100);
        assert_eq!(body.unwrap_err().code, 550);
        assert!(rest.is_empty());
    }

    #[test]
    fn refuses_nul_long_lines_and_oversize_content() {
        let (body, _) = read_all(&[b"a\0b\r\n.\r\n"], 100);
        assert_eq!(body.unwrap_err().status, "5.6.0");

        let long = [b"x".repeat(999).as_slice(), b"\r\n.\r\n"].concat();
        let (body, _) = read_all(&[&long], 2000);
        assert_eq!(body.unwrap_err().status, "5.6.0");
        let fits = [b"x".repeat(998).as_slice(), b"\r\n.\r\n"].concat();
        assert!(read_all(&[&fits], 2000).0.is_ok());

        let (body, _) = read_all(&[b"0123456789\r\n.\r\n"], 5);
        assert_eq!(body.unwrap_err().code, 552);
    }

    #[test]
    fn bdat_content_gets_a_final_crlf() {
        let mut body = Body::new(100);
        body.push_slice(b"Subject: x\r\n\r\nno newline");
        assert!(body.finish().unwrap().ends_with(b"no newline\r\n"));
    }
}
