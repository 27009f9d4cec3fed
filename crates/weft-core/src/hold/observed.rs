//! Another app's notification made safe to keep and show: Weft does not choose what other apps
//! send, so nothing is refused; the app name and title become one short line, the body loses
//! its markup (the Desktop Notifications spec's `<b>`, `<i>`, `<u>`, `<a>`, `<img>` and XML
//! entities) and is cut like `weft notify`'s, and control and bidirectional formatting
//! characters (a right-to-left override that would reorder what is shown) are dropped.

use super::cut_body;
use weft_proto::{MAX_FROM_CHARS, MAX_TITLE_CHARS};

/// The name kept for an app that gave none (and whose process could not be named).
pub const UNKNOWN_APP: &str = "Unknown app";

/// An observed notification's texts, cleaned and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanObserved {
    pub app: String,
    pub title: String,
    pub body: String,
    /// The body was cut and ends with the truncation marker.
    pub truncated: bool,
}

/// Cleans an observed notification's app name, title (`summary`) and body.
pub fn clean_observed(app: &str, title: &str, body: &str) -> CleanObserved {
    let app = one_line(app, MAX_FROM_CHARS);
    let (body, truncated) = cut_body(&visible(&strip_markup(body), true));
    CleanObserved {
        app: if app.is_empty() {
            UNKNOWN_APP.to_owned()
        } else {
            app
        },
        title: one_line(title, MAX_TITLE_CHARS),
        body: body.trim_start_matches('\n').to_owned(),
        truncated,
    }
}

/// Characters that change how text around them is shown without being seen themselves:
/// bidirectional embeddings, overrides, isolates and marks, zero-width ones, the BOM.
fn invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}')
}

/// `text` without invisible formatting and control characters; with `lines`, line breaks
/// (`\n`, and `\r\n` as one) and tabs stay, else every control character is a space.
fn visible(text: &str, lines: bool) -> String {
    text.replace("\r\n", "\n")
        .chars()
        .filter(|c| !invisible_format(*c))
        .filter_map(|c| match c {
            '\n' | '\t' if lines => Some(c),
            c if c.is_control() => {
                if lines {
                    None
                } else {
                    Some(' ')
                }
            }
            c => Some(c),
        })
        .collect()
}

/// One line: visible characters, runs of white space as one space, trimmed, and cut to `max`
/// characters (the last one then `…`).
fn one_line(text: &str, max: usize) -> String {
    let line = visible(text, false)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let mut cut: String = line.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The body's text without its markup: tags are dropped and entities read. Something that
/// only looks like the start of a tag or an entity (`a < b`, `R&D`, an unclosed `<b`) is kept
/// as the text it is.
pub fn strip_markup(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(['<', '&']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let taken = if rest.starts_with('<') {
            tag_len(rest).map(|len| (len, None))
        } else {
            entity(rest).map(|(len, c)| (len, Some(c)))
        };
        match taken {
            Some((len, decoded)) => {
                out.extend(decoded);
                rest = &rest[len..];
            }
            None => {
                // The `<` or `&` is text; both are one byte.
                out.push_str(&rest[..1]);
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The length of the tag `text` starts with (`<b>`, `</a>`, `<img src="x"/>`), if it does: a
/// `<`, an optional `/`, a letter, then anything but `<` up to the first `>`.
fn tag_len(text: &str) -> Option<usize> {
    let after = text.strip_prefix('<')?;
    let name = after.strip_prefix('/').unwrap_or(after);
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let close = text.find('>')?;
    (!text[1..close].contains('<')).then_some(close + 1)
}

/// The entity `text` starts with (`&amp;`, `&#233;`, `&#x1F600;`), if it is one: its length
/// and its character.
fn entity(text: &str) -> Option<(usize, char)> {
    // `;` is one byte, so where it is found is a character boundary.
    let end = text.bytes().take(12).position(|b| b == b';')?;
    let name = &text[1..end];
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

#[cfg(test)]
mod tests {
    use super::*;
    use weft_proto::{MAX_BODY_CHARS, TRUNCATION_MARKER};

    #[test]
    fn markup_is_removed_and_entities_read() {
        assert_eq!(
            strip_markup("<b>Ana</b>: see <a href=\"https://x\">the doc</a> &amp; <i>reply</i>"),
            "Ana: see the doc & reply"
        );
        assert_eq!(strip_markup("<img src=\"a.png\" alt=\"x\"/>done"), "done");
        assert_eq!(
            strip_markup("&lt;b&gt; is bold &#233;&#x263A;"),
            "<b> is bold é☺"
        );
        // Not markup: kept as written.
        assert_eq!(strip_markup("a < b && c > d"), "a < b && c > d");
        assert_eq!(strip_markup("R&D; 3<4"), "R&D; 3<4");
        assert_eq!(strip_markup("unclosed <b tag"), "unclosed <b tag");
        assert_eq!(strip_markup("<b <i>x</i>"), "<b x");
        assert_eq!(strip_markup("&#xZZ; &#99999999; &"), "&#xZZ; &#99999999; &");
        assert_eq!(strip_markup("é<b>ü</b>"), "éü");
        assert_eq!(strip_markup("&amp;éééééé"), "&éééééé");
    }

    #[test]
    fn app_names_and_titles_are_one_safe_line() {
        let cleaned = clean_observed(
            "\u{202E}kcalS\u{202C}\u{0007}",
            " new\nmessage\t from\u{2067} Ana ",
            "",
        );
        assert_eq!(cleaned.app, "kcalS");
        assert_eq!(cleaned.title, "new message from Ana");
        assert_eq!(clean_observed(" \u{200B} ", "t", "").app, UNKNOWN_APP);
        let long = clean_observed(&"a".repeat(100), &"t".repeat(300), "");
        assert_eq!(long.app.chars().count(), MAX_FROM_CHARS);
        assert!(long.app.ends_with('…'));
        assert_eq!(long.title.chars().count(), MAX_TITLE_CHARS);
        assert_eq!(clean_observed("Slack", "", "").title, "");
    }

    #[test]
    fn bodies_keep_their_lines_lose_their_markup_and_are_cut_like_weft_notify() {
        let cleaned = clean_observed("Mail", "t", "\n<b>Hi</b>\r\nsee\u{202E}this\u{0000}\n\n");
        assert_eq!(cleaned.body, "Hi\nseethis");
        assert!(!cleaned.truncated);
        let megabyte = format!("<b>{}</b>", "x".repeat(1 << 20));
        let cut = clean_observed("Mail", "t", &megabyte);
        assert!(cut.truncated);
        assert_eq!(cut.body.chars().count(), MAX_BODY_CHARS);
        assert!(cut.body.ends_with(TRUNCATION_MARKER));
    }
}
