//! Another app's notification made safe to keep and show. Weft does not choose what other apps
//! send, so nothing is refused: the app name and the title become one short line, the body loses
//! its markup (the Desktop Notifications spec's `<b>`, `<i>`, `<u>`, `<a href>` and `<img alt>`,
//! any other tag a server's markup would read, and XML entities) and is cut as `weft notify`
//! cuts it, and control characters and invisible formatting (a right-to-left override that
//! would reorder what is shown, zero-width characters) are dropped.
//!
//! This is the one place other apps' texts are cleaned, and they are cleaned once: decoding is
//! not idempotent (`&lt;b&gt;` is the text `<b>`, which a second pass would take for a tag).
//! The work is bounded by the limits, not by the size of what was sent: a body is read only
//! until it has [`MAX_BODY_CHARS`] characters, and a tag is looked for over at most
//! [`MAX_TAG_CHARS`] characters.

use super::cut_with_marker;
use weft_proto::{MAX_BODY_CHARS, MAX_FROM_CHARS, MAX_TITLE_CHARS};

/// The name kept for an app that gave none (and whose process could not be named).
pub const UNKNOWN_APP: &str = "Unknown app";

/// A longer tag is taken as text, so a body of unclosed quotes costs at most this per `<`.
pub const MAX_TAG_CHARS: usize = 4096;

/// What ends a one-line field (app name, title) that was cut.
const ELLIPSIS: char = '…';

/// An observed notification's texts, cleaned and bounded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanObserved {
    /// One line, at most [`MAX_FROM_CHARS`]; [`UNKNOWN_APP`] when none was given.
    pub app: String,
    /// One line, at most [`MAX_TITLE_CHARS`]; the app's name when the notification had no
    /// title (the spec allows that; an Inbox item always has one).
    pub title: String,
    /// Plain text with its line breaks, at most [`MAX_BODY_CHARS`].
    pub body: String,
    /// The body was cut and ends with the truncation marker.
    pub truncated: bool,
}

/// Cleans an observed notification's `app_name`, `summary` and `body`, as sent.
pub fn clean_observed(app: &str, title: &str, body: &str) -> CleanObserved {
    let app = Some(clean_app(app))
        .filter(|app| !app.is_empty())
        .unwrap_or_else(|| UNKNOWN_APP.to_owned());
    let title = Some(one_line(title, MAX_TITLE_CHARS))
        .filter(|title| !title.is_empty())
        .unwrap_or_else(|| one_line(&app, MAX_TITLE_CHARS));
    let (body, truncated) = clean_body(body);
    CleanObserved {
        app,
        title,
        body,
        truncated,
    }
}

/// An app's name (an `app_name`, a process's name, a desktop file id) on one line, at most
/// [`MAX_FROM_CHARS`]; empty when nothing visible was given.
pub fn clean_app(raw: &str) -> String {
    one_line(raw, MAX_FROM_CHARS)
}

/// Characters that change how the text around them is shown without being seen themselves
/// (UAX #9's marks, embeddings, overrides and isolates; zero-width spaces and joiners; the
/// word joiner and invisible operators; the BOM).
fn invisible_format(c: char) -> bool {
    matches!(c,
        '\u{061C}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}'
        | '\u{FEFF}')
}

/// One line: invisible formatting dropped, every run of control characters and white space
/// (line breaks too) one space between words, cut to `max` characters (the last one then `…`).
fn one_line(raw: &str, max: usize) -> String {
    let mut out = String::new();
    let mut chars = 0usize;
    let mut space = false;
    for c in raw.chars().filter(|c| !invisible_format(*c)) {
        if c.is_control() || c.is_whitespace() {
            space = chars > 0;
            continue;
        }
        if chars + 1 + usize::from(space) > max {
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

/// The body as plain text and whether it was cut: tags removed (an `<img>` leaves its `alt`
/// text), entities decoded (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`, `&#NN;`, `&#xHH;`),
/// line breaks kept (`\r\n` as one, the Unicode line and paragraph separators as `\n`), tabs
/// as spaces, other control characters and invisible formatting removed, leading and trailing
/// blank lines trimmed, then cut to [`MAX_BODY_CHARS`] ending with the truncation marker. A `<`
/// that does not open a tag (`a < b`) and an unknown entity (`AT&T`) stay as written.
fn clean_body(raw: &str) -> (String, bool) {
    let mut body = Visible::default();
    let mut rest = raw;
    while let Some(c) = rest.chars().next() {
        let (len, text) = match c {
            '<' => tag(rest).map_or((1, Text::Char(c)), |(len, alt)| (len, Text::Alt(alt))),
            '&' => entity(rest).map_or((1, Text::Char(c)), |(len, c)| (len, Text::Char(c))),
            c => (c.len_utf8(), Text::Char(c)),
        };
        let room = match text {
            Text::Char(c) => body.push(c),
            Text::Alt(alt) => alt.chars().all(|c| body.push(c)),
        };
        if !room {
            break;
        }
        rest = &rest[len..];
    }
    let text = body.text.trim_end();
    if body.full {
        (cut_with_marker(text), true)
    } else {
        (text.to_owned(), false)
    }
}

/// What one step of [`clean_body`] read.
enum Text {
    Char(char),
    /// An image's `alt` text (empty for any other tag).
    Alt(String),
}

/// A body's visible characters, gathered until one more than [`MAX_BODY_CHARS`] was offered.
#[derive(Default)]
struct Visible {
    text: String,
    chars: usize,
    /// A character was offered past the limit: the body must be cut.
    full: bool,
}

impl Visible {
    /// Keeps `c` as it is shown; `false` when the body is full.
    fn push(&mut self, c: char) -> bool {
        let c = match c {
            '\t' => ' ',
            '\u{2028}' | '\u{2029}' => '\n',
            '\n' if self.chars == 0 => return true,
            c if c.is_control() && c != '\n' => return true,
            c if invisible_format(c) => return true,
            c => c,
        };
        if self.chars == MAX_BODY_CHARS {
            self.full = true;
            return false;
        }
        self.text.push(c);
        self.chars += 1;
        true
    }
}

/// The tag `s` starts with (`<b>`, `</a>`, `<img src="x" alt="y"/>`, `<span a='b'>`): its length
/// in bytes and the text it leaves (an image's `alt`, nothing for the others). `None` when `s`
/// does not start with one: no letter after the `<` (or `</`), or no `>` outside quotes within
/// [`MAX_TAG_CHARS`] characters and before the next `<`.
fn tag(s: &str) -> Option<(usize, String)> {
    let inner = s.strip_prefix('<')?;
    let named = inner.strip_prefix('/').unwrap_or(inner);
    if !named.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let mut quote = None;
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
    let name_len = named
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(named.len());
    let alt = if named[..name_len].eq_ignore_ascii_case("img") {
        attribute(&inner[..end], "alt")
            .map(|alt| decode_entities(&alt))
            .unwrap_or_default()
    } else {
        String::new()
    };
    Some((1 + end + 1, alt))
}

/// The value of the attribute `name="…"` (or `'…'`) in a tag's text, names compared
/// case-insensitively.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find(name) {
        let start = from + at;
        from = start + name.len();
        let after_space = lower[..start].ends_with(char::is_whitespace);
        let after = lower[from..].trim_start();
        if !after_space || !after.starts_with('=') {
            continue;
        }
        // ASCII lowercasing keeps every byte offset, so `lower`'s offsets index `tag`.
        let value = tag[tag.len() - after.len() + 1..].trim_start();
        let quote = value.chars().next().filter(|q| matches!(q, '"' | '\''))?;
        let value = &value[1..];
        return value.find(quote).map(|end| value[..end].to_owned());
    }
    None
}

/// Every entity in `s` decoded (an attribute's value).
fn decode_entities(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let (len, c) = entity(rest).unwrap_or((1, '&'));
        out.push(c);
        rest = &rest[len..];
    }
    out.push_str(rest);
    out
}

/// The entity `s` starts with (`&amp;`, `&#233;`, `&#x1F600;`), if it is one: its length in
/// bytes and its character.
fn entity(s: &str) -> Option<(usize, char)> {
    // The longest entity read is `&#x10FFFF;`: its `;` is within the first 11 bytes, and `;`
    // is one byte, so where it is found is a character boundary.
    let end = s.bytes().take(11).position(|b| b == b';')?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use weft_proto::TRUNCATION_MARKER;

    fn plain(raw: &str) -> String {
        clean_body(raw).0
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
        assert_eq!(plain("<IMG SRC='x.png'>done"), "done");
        assert_eq!(
            plain("Tom &amp; Jerry &lt;3 &#65;&#x42; &quot;q&quot; &apos; &#233;&#x263A;"),
            "Tom & Jerry <3 AB \"q\" ' é☺"
        );
        // Other servers' markup (Pango) goes too.
        assert_eq!(plain("<span foreground=\"red\">alert</span>"), "alert");
        assert_eq!(plain("é<b>ü</b> &amp;éééééé"), "éü &éééééé");
    }

    #[test]
    fn decoded_text_is_text_and_cleaning_happens_once() {
        // An escaped tag is shown, not removed: the reason other apps' texts are cleaned in
        // one place only.
        assert_eq!(plain("&lt;b&gt;bold&lt;/b&gt;"), "<b>bold</b>");
        assert_eq!(
            clean_observed("Chat", "t", "use &lt;b&gt; for bold").body,
            "use <b> for bold"
        );
    }

    #[test]
    fn bad_markup_stays_readable() {
        assert_eq!(plain("a < b && c > d"), "a < b && c > d");
        assert_eq!(plain("x<3"), "x<3");
        assert_eq!(plain("<b>unclosed"), "unclosed");
        assert_eq!(plain("unclosed <b tag"), "unclosed <b tag");
        assert_eq!(plain("<b <i>x</i>"), "<b x");
        assert_eq!(plain("<a href=\"x>y\">q</a>"), "q");
        assert_eq!(plain("<<b>>"), "<>");
        assert_eq!(
            plain("AT&T R&D; &bogus; &#xZZ; &#99999999; &"),
            "AT&T R&D; &bogus; &#xZZ; &#99999999; &"
        );
        // A tag longer than the bound is text.
        let long = format!("<a title=\"{}\">x", "t".repeat(MAX_TAG_CHARS));
        assert!(plain(&long).starts_with("<a title="));
    }

    #[test]
    fn bodies_keep_their_lines_but_lose_control_and_invisible_characters() {
        assert_eq!(
            plain("\nline one\r\nline\ttwo\u{7}\u{1b}[31m\u{202E}evil&#x202E;\u{2066}\u{200B}\n\n"),
            "line one\nline two[31mevil"
        );
        assert_eq!(plain("one\u{2028}two"), "one\ntwo");
        // An entity cannot smuggle a control character in either.
        assert_eq!(plain("a&#7;b&#0;c"), "abc");
    }

    #[test]
    fn a_huge_body_is_cut_with_the_marker_as_weft_notify_cuts_it() {
        let huge = format!("<b>{}</b>", "é".repeat(1_000_000));
        let (body, truncated) = clean_body(&huge);
        assert!(truncated);
        assert_eq!(body.chars().count(), MAX_BODY_CHARS);
        assert!(body.ends_with(TRUNCATION_MARKER));
        let exact = "x".repeat(MAX_BODY_CHARS);
        assert_eq!(clean_body(&exact), (exact.clone(), false));
        // The same rule as `weft notify`'s: preparing it again cuts nothing.
        let prepared = super::super::prepare("t", Some(&body), None);
        assert!(matches!(prepared, Ok(p) if !p.truncated && p.body == body));
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
        assert_eq!(clean_app("  Evil\nApp\u{0}\u{1b}  "), "Evil App");
        assert_eq!(clean_app(" \u{200B} "), "");
        assert_eq!(clean_observed(" \u{200B} ", "t", "").app, UNKNOWN_APP);
        let long = clean_observed(&"a".repeat(100), &"t".repeat(300), "");
        assert_eq!(long.app.chars().count(), MAX_FROM_CHARS);
        assert!(long.app.ends_with(ELLIPSIS));
        assert_eq!(long.title.chars().count(), MAX_TITLE_CHARS);
        // Titles are plain text: markup in them is shown as sent.
        assert_eq!(clean_observed("a", "<b>x</b>", "").title, "<b>x</b>");
        // What comes out passes the core's checks for a sender name.
        let from = clean_app(&format!("{}\u{7}", "a".repeat(100)));
        assert!(super::super::prepare("t", None, Some(&from)).is_ok());
    }

    #[test]
    fn a_notification_without_a_title_is_titled_by_its_app() {
        assert_eq!(clean_observed("Slack", "  ", "").title, "Slack");
        let nameless = clean_observed("", "", "");
        assert_eq!(
            (nameless.app.as_str(), nameless.title.as_str()),
            (UNKNOWN_APP, UNKNOWN_APP)
        );
    }
}
