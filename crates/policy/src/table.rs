//! Column headers of delimited tables (CSV, TSV, pipe tables) pasted in text or attached.
//!
//! In a table the context of a value is its column header, not the words before it:
//! `1/6/1933` under `dob` is a date of birth. For a candidate that no detector claimed,
//! the scanner asks for the header of the candidate's column. Each search is bounded (a
//! few lines and a few kilobytes upwards), runs once per line and at most a few thousand
//! times per scan, so it costs little on prose and cannot be turned against the scanner.

/// Delimiters recognized, in order of preference.
const DELIMITERS: [u8; 4] = [b',', b'\t', b'|', b';'];

/// How far above the candidate a header is looked for.
const MAX_LINES_UP: usize = 12;
const MAX_BYTES_UP: usize = 4096;
const MAX_LINE: usize = 2048;

/// Header lookups of one scan, remembering the header found for the current line so
/// that many candidates on one row cost one search, and capping the searches per scan.
#[derive(Default)]
pub(crate) struct Columns {
    /// The line last searched and the header line found for it.
    last: Option<(usize, Option<Header>)>,
    searches: usize,
}

/// A header line: its byte range and the delimiter of its table.
type Header = (usize, usize, u8);

/// Header searches allowed per scan; a text with more unclaimed candidates than this on
/// separate lines is treated as prose from then on.
const MAX_SEARCHES: usize = 4096;

impl Columns {
    /// The byte range of the header cell above the cell holding `start`, if the line
    /// holding `start` is a row of a delimited table with a header line above it.
    pub(crate) fn label(&mut self, text: &[u8], start: usize) -> Option<(usize, usize)> {
        let (line_start, line_end) = line_around(text, start)?;
        let header = match self.last {
            Some((cached, header)) if cached == line_start => header,
            _ => {
                if self.searches >= MAX_SEARCHES {
                    return None;
                }
                self.searches += 1;
                let header = header_above(text, line_start, line_end);
                self.last = Some((line_start, header));
                header
            }
        };
        let (header_start, header_end, delimiter) = header?;
        let column = count(text.get(line_start..start)?, delimiter);
        let above = text.get(header_start..header_end)?;
        cell(above, delimiter, column).map(|(s, e)| (header_start + s, header_start + e))
    }
}

/// The header line above the row `line_start..line_end`, with the row's delimiter.
fn header_above(text: &[u8], line_start: usize, line_end: usize) -> Option<Header> {
    let line = text.get(line_start..line_end)?;
    let delimiter = DELIMITERS.into_iter().find(|d| line.contains(d))?;
    let cells = count(line, delimiter) + 1;
    // Prose has the odd comma; a comma-separated table has at least three columns.
    let min_cells = if matches!(delimiter, b',' | b';') {
        3
    } else {
        2
    };
    if cells < min_cells {
        return None;
    }
    let mut end = line_start.checked_sub(1)?;
    for _ in 0..MAX_LINES_UP {
        if line_start - end > MAX_BYTES_UP {
            return None;
        }
        let (above_start, above_end) = line_around(text, end)?;
        let above = text.get(above_start..above_end)?;
        if above.iter().all(u8::is_ascii_whitespace) || count(above, delimiter) + 1 != cells {
            return None;
        }
        if is_header(above, delimiter) {
            return Some((above_start, above_end, delimiter));
        }
        end = above_start.checked_sub(1)?;
    }
    None
}

/// The line holding `at`, without its line break, if it is not too long.
fn line_around(text: &[u8], at: usize) -> Option<(usize, usize)> {
    let from = at.saturating_sub(MAX_LINE);
    let before = text.get(from..at)?;
    let start = memchr::memrchr(b'\n', before).map_or(from, |i| from + i + 1);
    if start == from && from > 0 {
        return None;
    }
    let after = text.get(at..(at + MAX_LINE).min(text.len()))?;
    let end = memchr::memchr(b'\n', after).map_or(at + after.len(), |i| at + i);
    let end = if text.get(end.wrapping_sub(1)) == Some(&b'\r') {
        end - 1
    } else {
        end
    };
    Some((start, end.max(start)))
}

/// Delimiters outside double quotes.
fn count(bytes: &[u8], delimiter: u8) -> usize {
    cells(bytes, delimiter).len() - 1
}

/// The cell ranges of `line`; a delimiter inside double quotes does not split.
fn cells(line: &[u8], delimiter: u8) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, &b) in line.iter().enumerate() {
        if b == b'"' {
            quoted = !quoted;
        } else if b == delimiter && !quoted {
            ranges.push((start, i));
            start = i + 1;
        }
    }
    ranges.push((start, line.len()));
    ranges
}

/// A header line: every cell is a short label with a letter and no digit.
fn is_header(line: &[u8], delimiter: u8) -> bool {
    cells(line, delimiter).into_iter().all(|(s, e)| {
        let cell = line.get(s..e).unwrap_or_default().trim_ascii();
        cell.len() <= 40
            && cell.iter().any(u8::is_ascii_alphabetic)
            && !cell.iter().any(u8::is_ascii_digit)
    })
}

/// The range of cell `index` of `line`, trimmed of spaces and quotes.
fn cell(line: &[u8], delimiter: u8, index: usize) -> Option<(usize, usize)> {
    let (start, end) = *cells(line, delimiter).get(index)?;
    let piece = line.get(start..end)?;
    let lead = piece.len() - piece.trim_ascii_start().len();
    let trimmed = piece.trim_ascii();
    Some((start + lead, start + lead + trimmed.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(text: &str, needle: &str) -> Option<String> {
        let at = text.find(needle).unwrap();
        Columns::default()
            .label(text.as_bytes(), at)
            .map(|(s, e)| text[s..e].to_owned())
    }

    #[test]
    fn finds_the_header_of_a_csv_column() {
        let csv = "intro line\nname,dob,mrn\nAnn Lee,1/6/1933,MR436611\nBo Ray,2/7/1944,MR1\n";
        assert_eq!(label(csv, "2/7/1944").as_deref(), Some("dob"));
        assert_eq!(label(csv, "MR436611").as_deref(), Some("mrn"));
    }

    #[test]
    fn finds_headers_of_tab_and_pipe_tables() {
        assert_eq!(
            label("Name\tDOB\nAnn\t1/6/1933", "1/6/1933").as_deref(),
            Some("DOB")
        );
        assert_eq!(
            label("a | ssn\nx | 524-71-3302", "524").as_deref(),
            Some("ssn")
        );
    }

    #[test]
    fn ignores_delimiters_inside_quotes() {
        let csv = "name,dob,x\n\"Lee, Ann\",\"March 3, 1950\",1";
        assert_eq!(label(csv, "March").as_deref(), Some("dob"));
    }

    #[test]
    fn ignores_prose_and_mismatched_rows() {
        assert_eq!(
            label("Hello, world, ok\nSee you on 1/6/2025, ok", "1/6/2025"),
            None
        );
        assert_eq!(label("a,b,c\n1/6/2025,2", "1/6/2025"), None);
        assert_eq!(label("Hi, all\nSee you 1/6/2025, ok", "1/6/2025"), None);
        assert_eq!(label("no table here 1/6/2025", "1/6/2025"), None);
    }
}
