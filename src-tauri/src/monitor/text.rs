//! What another app sent, made safe to show and to store: the body's markup removed (the
//! spec's `<b>`, `<i>`, `<u>`, `<a href>`, `<img>`, and any other tag a server's markup would
//! read) and its entities decoded; control characters and bidirectional controls (which would
//! reorder the text around them) removed; every field bounded as `weft notify` bounds it.
//! Pure functions: the work is bounded by the limit, not by the size of what was sent.

use weft_proto::{MAX_BODY_CHARS, MAX_FROM_CHARS, MAX_TITLE_CHARS, TRUNCATION_MARKER};

/// What ends a one-line field (title, app name) that was cut.
const ELLIPSIS: char = '…';

/// A longer tag is taken as text: a body of unclosed quotes costs at most this per `<`.
const MAX_TAG_CHARS: usize = 4096;

/// The bidirectional formatting characters (UAX #9): marks, embeddings, overrides, isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// A body without markup, at most [`MAX_BODY_CHARS`] characters; a longer one ends with
/// [`TRUNCATION_MARKER`], as `weft notify` cuts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub text: String,
    /// The body was cut.
    pub truncated: bool,
}

/// The body as plain text: tags removed (an `<img>` leaves its `alt` text), entities decoded
/// (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#NN;`, `&#xHH;`), line breaks kept, other
/// control characters and bidirectional controls removed, cut to [`MAX_BODY_CHARS`]. A `<` that
/// does not open a tag (`a < b`) and an unknown entity stay as they are.
pub fn body(raw: &str) -> Body {
    let mut out = String::new();
    let mut chars = 0usize;
    let mut truncated = false;
    let mut push = |c: char, out: &mut String| -> bool {
        let c = match c {
            '\r' => return true,
            '\t' => ' ',
            '\u{2028}' | '\u{2029}' => '\n',
            c if c.is_control() && c != '\n' => return true,
            c if is_bidi_control(c) => return true,
            c => c,
        };
        if chars == MAX_BODY_CHARS {
            truncated = true;
            return false;
        }
        out.push(c);
        chars += 1;
        true
    };
    let mut rest = raw;
    'scan: while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                if let Some((len, alt)) = tag(rest) {
                    for c in alt.chars() {
                        if !push(c, &mut out) {
                            break 'scan;
                        }
                    }
                    rest = &rest[len..];
                    continue;
                }
            }
            '&' => {
                if let Some((len, decoded)) = entity(rest) {
                    if !push(decoded, &mut out) {
                        break;
                    }
                    rest = &rest[len..];
                    continue;
                }
            }
            _ => {}
        }
        if !push(c, &mut out) {
            break;
        }
        rest = &rest[c.len_utf8()..];
    }
    let text = out.trim_end();
    if truncated {
        let keep = MAX_BODY_CHARS - TRUNCATION_MARKER.chars().count();
        let mut cut: String = text.chars().take(keep).collect();
        cut.push_str(TRUNCATION_MARKER);
        Body {
            text: cut,
            truncated,
        }
    } else {
        Body {
            text: text.to_owned(),
            truncated,
        }
    }
}

/// A tag at the start of `s` (`<b>`, `</a>`, `<img src="x" alt="y"/>`, `<span a='b'>`): its
/// length in bytes and the text it leaves (an image's `alt`, nothing for the others). `None`
/// when `s` does not start with one: a `<` followed by no name, or no closing `>` before the
/// next `<`.
fn tag(s: &str) -> Option<(usize, String)> {
    let inner = s.strip_prefix('<')?;
    let name_part = inner.strip_prefix('/').unwrap_or(inner);
    if !name_part.chars().next()?.is_ascii_alphabetic() {
        return None;
    }
    // The tag ends at the first `>` outside quotes; a `<` before it means this was no tag.
    let mut quote: Option<char> = None;
    let mut end = None;
    for (i, c) in inner.char_indices().take(MAX_TAG_CHARS) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '>') => {
                end = Some(i);
                break;
            }
            (None, '<') => return None,
            (None, _) => {}
        }
    }
    let end = end?;
    let body = &inner[..end];
    let name: String = name_part
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    let alt = if name == "img" {
        attribute(body, "alt")
            .map(|alt| decode_all(&alt))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Some((1 + end + 1, alt))
}

/// The value of `name="…"` (or `'…'`) inside a tag's text.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(name) {
        let start = from + at;
        from = start + name.len();
        let before_ok = lower[..start]
            .chars()
            .next_back()
            .is_some_and(char::is_whitespace);
        let after = lower[from..].trim_start();
        if !before_ok || !after.starts_with('=') {
            continue;
        }
        let value_at = tag.len() - after.len() + 1;
        let value = tag[value_at..].trim_start();
        let quote = value.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let value = &value[1..];
        return value.find(quote).map(|end| value[..end].to_owned());
    }
    None
}

/// Decodes every entity in an attribute's value.
fn decode_all(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if c == '&' {
            if let Some((len, decoded)) = entity(rest) {
                out.push(decoded);
                rest = &rest[len..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// An entity at the start of `s`: its length in bytes and the character it stands for.
fn entity(s: &str) -> Option<(usize, char)> {
    // The longest entity read is `&#x10FFFF;`: look no further for its `;`.
    let window = match s.char_indices().nth(11) {
        Some((i, _)) => &s[..i],
        None => s,
    };
    let end = window.find(';')?;
    let name = &s[1..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((end + 1, c))
}

/// A one-line field: control characters (line breaks too) and other spaces become one space
/// between words, bidirectional controls go, and it is cut to `max` characters (the last one
/// an ellipsis).
fn one_line(raw: &str, max: usize) -> String {
    let mut out = String::new();
    let mut chars = 0usize;
    let mut space = false;
    for c in raw.chars() {
        if is_bidi_control(c) {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            space = chars > 0;
            continue;
        }
        let needed = 1 + usize::from(space);
        if chars + needed > max {
            let mut cut: String = out.chars().take(max.saturating_sub(1)).collect();
            cut.truncate(cut.trim_end().len());
            cut.push(ELLIPSIS);
            return cut;
        }
        if space {
            out.push(' ');
            chars += 1;
            space = false;
        }
        out.push(c);
        chars += 1;
    }
    out
}

/// A notification's title (`summary`): plain text on one line, at most [`MAX_TITLE_CHARS`].
/// It may be empty (the spec allows it); the filing decides what to show then.
pub fn title(raw: &str) -> String {
    one_line(raw, MAX_TITLE_CHARS)
}

/// An app's name (`app_name`, or its process's name): one line, at most [`MAX_FROM_CHARS`].
pub fn app_name(raw: &str) -> String {
    one_line(raw, MAX_FROM_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(raw: &str) -> String {
        body(raw).text
    }

    #[test]
    fn the_spec_markup_is_removed_and_entities_decoded() {
        assert_eq!(
            plain("<b>Ana</b>: <i>lunch</i> <u>now</u>? <a href=\"https://x.example/?a=1&amp;b=2\">link</a>"),
            "Ana: lunch now? link"
        );
        assert_eq!(
            plain("<img src=\"face.png\" alt=\"smile &amp; wave\"/> hi"),
            "smile & wave hi"
        );
        assert_eq!(plain("<IMG SRC='x.png'>"), "");
        assert_eq!(
            plain("Tom &amp; Jerry &lt;3 &#65;&#x42; &quot;q&quot; &apos;"),
            "Tom & Jerry <3 AB \"q\" '"
        );
        // Decoded text is text: an escaped tag is shown, not removed.
        assert_eq!(plain("&lt;b&gt;bold&lt;/b&gt;"), "<b>bold</b>");
        // Other servers' markup (Pango) goes too.
        assert_eq!(plain("<span foreground=\"red\">alert</span>"), "alert");
    }

    #[test]
    fn bad_markup_stays_readable() {
        assert_eq!(plain("a < b and c > d"), "a < b and c > d");
        assert_eq!(plain("x<3"), "x<3");
        assert_eq!(plain("<b>unclosed"), "unclosed");
        assert_eq!(plain("<b unterminated"), "<b unterminated");
        assert_eq!(plain("<a href=\"x>y\">q</a>"), "q");
        assert_eq!(
            plain("AT&T &bogus; &#xZZ; &#99999999; &"),
            "AT&T &bogus; &#xZZ; &#99999999; &"
        );
        assert_eq!(plain("<<b>>"), "<>");
    }

    #[test]
    fn control_and_bidi_characters_are_removed_from_a_body_but_lines_kept() {
        assert_eq!(
            plain("line one\r\nline\ttwo\u{7}\u{1b}[31m\u{202E}evil&#x202E;\u{2066}\n"),
            "line one\nline two[31mevil"
        );
        // An entity cannot smuggle a control character in either.
        assert_eq!(plain("a&#7;b&#0;c"), "abc");
    }

    #[test]
    fn a_huge_body_is_cut_with_the_marker_without_reading_all_of_it() {
        let huge = format!("<b>{}</b>", "é".repeat(1_000_000));
        let cut = body(&huge);
        assert!(cut.truncated);
        assert_eq!(cut.text.chars().count(), MAX_BODY_CHARS);
        assert!(cut.text.ends_with(TRUNCATION_MARKER));
        let exact = "x".repeat(MAX_BODY_CHARS);
        assert_eq!(
            body(&exact),
            Body {
                text: exact.clone(),
                truncated: false
            }
        );
        // The same rule as `weft notify`: the core does not cut it again.
        let prepared = weft_core::hold::prepare("t", Some(&cut.text), None);
        assert!(matches!(prepared, Ok(p) if !p.truncated && p.body == cut.text));
    }

    #[test]
    fn names_and_titles_are_one_safe_line() {
        assert_eq!(app_name("Sl\u{202E}ack\u{2066}"), "Slack");
        assert_eq!(app_name("  Evil\nApp\u{0}\u{1b}  "), "Evil App");
        assert_eq!(app_name(""), "");
        let long = app_name(&"N".repeat(500));
        assert_eq!(long.chars().count(), MAX_FROM_CHARS);
        assert!(long.ends_with(ELLIPSIS));
        assert_eq!(title("Build\n\n  failed\t(main)"), "Build failed (main)");
        assert_eq!(
            title(&"t".repeat(MAX_TITLE_CHARS)).chars().count(),
            MAX_TITLE_CHARS
        );
        assert_eq!(
            title(&"t".repeat(MAX_TITLE_CHARS + 1)).chars().count(),
            MAX_TITLE_CHARS
        );
        // Titles are plain text: markup in them is shown as sent.
        assert_eq!(title("<b>x</b>"), "<b>x</b>");
        // What comes out passes the core's checks for a sender name.
        let from = app_name(&format!("{}\u{7}", "a".repeat(100)));
        assert!(weft_core::hold::prepare("t", None, Some(&from)).is_ok());
    }
}
