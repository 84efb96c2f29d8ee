//! Visible text of HTML: tags, comments, scripts and styles removed, entities decoded.
//!
//! A small state machine rather than an HTML parser: scanning needs the words a reader
//! sees, not a document tree, and it must run in linear time on hostile input.

/// Returns the text a reader would see, with block elements on their own lines.
pub fn visible_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_decoded(&mut out, rest.get(..lt).unwrap_or(""));
        rest = rest.get(lt..).unwrap_or("");
        rest = skip_markup(rest, &mut out);
    }
    push_decoded(&mut out, rest);
    out
}

/// Skips one piece of markup at the start of `rest` ("<..."), returning what follows.
fn skip_markup<'a>(rest: &'a str, out: &mut String) -> &'a str {
    if let Some(comment) = rest.strip_prefix("<!--") {
        return comment
            .find("-->")
            .map_or("", |i| comment.get(i + 3..).unwrap_or(""));
    }
    let Some(gt) = rest.find('>') else { return "" };
    let tag = rest.get(1..gt).unwrap_or("");
    let name: String = tag
        .trim_start_matches('/')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let after = rest.get(gt + 1..).unwrap_or("");
    if !tag.starts_with('/') && matches!(name.as_str(), "script" | "style" | "head" | "title") {
        return skip_element(after, &name);
    }
    if is_block(&name) {
        out.push('\n');
    } else if !name.is_empty() {
        out.push(' ');
    }
    after
}

/// Skips to after the closing tag of `name` (case-insensitive), or to the end. Linear in
/// the bytes skipped: no lower-cased copy of the rest of the document.
fn skip_element<'a>(rest: &'a str, name: &str) -> &'a str {
    let bytes = rest.as_bytes();
    let mut from = 0;
    while let Some(i) = memchr::memmem::find(bytes.get(from..).unwrap_or_default(), b"</") {
        let at = from + i;
        let tag = bytes.get(at + 2..at + 2 + name.len());
        if tag.is_some_and(|t| t.eq_ignore_ascii_case(name.as_bytes())) {
            let tail = rest.get(at..).unwrap_or("");
            return tail
                .find('>')
                .map_or("", |g| tail.get(g + 1..).unwrap_or(""));
        }
        from = at + 2;
    }
    ""
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "br"
            | "tr"
            | "li"
            | "ul"
            | "ol"
            | "table"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "blockquote"
            | "pre"
            | "td"
            | "th"
            | "body"
            | "html"
    )
}

/// Appends `text` with character references decoded and whitespace runs collapsed.
fn push_decoded(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        push_collapsed(out, rest.get(..amp).unwrap_or(""));
        rest = rest.get(amp..).unwrap_or("");
        let mut limit = rest.len().min(12);
        while !rest.is_char_boundary(limit) {
            limit -= 1;
        }
        let end = rest.get(..limit).and_then(|s| s.find(';'));
        match end.and_then(|e| decode_entity(rest.get(1..e).unwrap_or("")).map(|c| (c, e))) {
            Some((c, e)) => {
                out.push(if c == '\u{a0}' { ' ' } else { c });
                rest = rest.get(e + 1..).unwrap_or("");
            }
            None => {
                out.push('&');
                rest = rest.get(1..).unwrap_or("");
            }
        }
    }
    push_collapsed(out, rest);
}

fn push_collapsed(out: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_whitespace() {
            if !out.ends_with([' ', '\n']) {
                out.push(' ');
            }
        } else {
            out.push(c);
        }
    }
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "rsquo" | "lsquo" => '\'',
        "ldquo" | "rdquo" => '"',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_visible_text_and_drops_scripts_styles_and_comments() {
        let html = "<html><head><style>p{color:red}</style></head><body><p>SSN&nbsp;524-71-3302</p>\
            <script>var ssn='000';</script><!-- hidden 123 --><div>Dear&#32;Ann</div></body></html>";
        let text = visible_text(html);
        assert!(text.contains("SSN 524-71-3302"), "{text:?}");
        assert!(text.contains("Dear Ann"));
        assert!(!text.contains("color") && !text.contains("var") && !text.contains("hidden"));
    }

    #[test]
    fn strips_many_scripts_in_linear_time() {
        let html = "<SCRIPT>x</Script>text ".repeat(20_000);
        let started = std::time::Instant::now();
        let text = visible_text(&html);
        assert!(text.starts_with("text"));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn survives_unterminated_markup() {
        assert_eq!(visible_text("a <b"), "a ");
        assert_eq!(visible_text("<!-- never closed"), "");
        assert_eq!(visible_text("x &#xZZ; &"), "x &#xZZ; &");
    }
}
