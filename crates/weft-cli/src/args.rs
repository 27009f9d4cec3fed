//! The text a person gives on the command line, bounded before anything is sent: a request
//! never exceeds the control socket's line limit ([`weft_core::control::MAX_LINE`]).
//!
//! Each text field has the limit README states. A notification body longer than its limit is
//! cut (README promises a cut, with a marker) and `weft notify` says so; every other field
//! over its limit is a bad argument: the command says which limit and exits 2, before it
//! talks to the app.

use weft_proto::sync::{MAX_NAME_CHARS, MAX_PING_CHARS};
use weft_proto::{
    MAX_BODY_CHARS, MAX_FROM_CHARS, MAX_INTENT_CHARS, MAX_STASH_CHARS, MAX_TITLE_CHARS,
    TRUNCATION_MARKER,
};

/// Longest sync server address accepted, in characters.
pub const MAX_SERVER_CHARS: usize = 2048;

/// Longest invite code accepted, in characters (`weft-sync` makes them about 50 long).
pub const MAX_INVITE_CHARS: usize = 200;

/// A bad argument: the command exits 2 with this sentence.
#[derive(Debug, PartialEq, Eq)]
pub struct Usage(pub String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Which control characters a field may hold (the app or the server judges the rest).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    /// One line: no control characters at all.
    One,
    /// Several lines: newlines, no other control characters.
    Many,
    /// Anything; only the length is checked here.
    Any,
}

/// Checks one text field: at most `max` characters (after trimming), and no control
/// characters but those `lines` allows.
fn bounded(what: &str, text: &str, max: usize, lines: Lines) -> Result<String, Usage> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars > max {
        return Err(Usage(format!(
            "the {what} is {chars} characters long; the limit is {max}"
        )));
    }
    let refused = |c: char| match lines {
        Lines::One => c.is_control(),
        Lines::Many => c.is_control() && c != '\n',
        Lines::Any => false,
    };
    if text.chars().any(refused) {
        return Err(Usage(match lines {
            Lines::Many => format!("the {what} contains control characters (tabs, escapes)"),
            _ => format!("the {what} must be one line, without control characters"),
        }));
    }
    Ok(text.to_owned())
}

/// `weft focus INTENT…`: the words joined, at most [`MAX_INTENT_CHARS`], one line.
pub fn intent(words: &[String]) -> Result<Option<String>, Usage> {
    let text = words.join(" ");
    let text = bounded("intent", &text, MAX_INTENT_CHARS, Lines::One)?;
    Ok(Some(text).filter(|t| !t.is_empty()))
}

/// `--stash TEXT`: at most [`MAX_STASH_CHARS`]; newlines are kept.
pub fn stash(text: &str) -> Result<String, Usage> {
    bounded("stash note", text, MAX_STASH_CHARS, Lines::Many)
}

/// `--title T`: required, at most [`MAX_TITLE_CHARS`].
pub fn title(text: &str) -> Result<String, Usage> {
    let title = bounded("title", text, MAX_TITLE_CHARS, Lines::Any)?;
    if title.is_empty() {
        return Err(Usage("a notification needs a title".into()));
    }
    Ok(title)
}

/// `--from NAME`: one line of at most [`MAX_FROM_CHARS`].
pub fn from(text: &str) -> Result<String, Usage> {
    bounded("sender name", text, MAX_FROM_CHARS, Lines::One)
}

/// A teammate's name, or yours when joining: one line of at most [`MAX_NAME_CHARS`].
pub fn name(text: &str) -> Result<String, Usage> {
    let name = bounded("name", text, MAX_NAME_CHARS, Lines::One)?;
    if name.is_empty() {
        return Err(Usage("a name cannot be empty".into()));
    }
    Ok(name)
}

/// The sync server's address: one line of at most [`MAX_SERVER_CHARS`], an http(s) URL with
/// a host (the app checks the rest).
pub fn server(text: &str) -> Result<String, Usage> {
    let server = bounded("server address", text, MAX_SERVER_CHARS, Lines::One)?;
    let host = server
        .strip_prefix("http://")
        .or_else(|| server.strip_prefix("https://"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or_default());
    match host {
        Some(host) if !host.is_empty() => Ok(server),
        _ => Err(Usage(format!(
            "{server:?} is not a sync server address; use one like https://sync.example.com"
        ))),
    }
}

/// An invite code: one line of at most [`MAX_INVITE_CHARS`].
pub fn invite(text: &str) -> Result<String, Usage> {
    bounded("invite code", text, MAX_INVITE_CHARS, Lines::One)
}

/// `weft ping NAME TEXT…`: the words joined, not blank, at most [`MAX_PING_CHARS`].
pub fn ping_text(words: &[String]) -> Result<String, Usage> {
    let text = words.join(" ");
    let text = bounded("ping", &text, MAX_PING_CHARS, Lines::Any)?;
    if text.is_empty() {
        return Err(Usage("say something: weft ping NAME \"text\"".into()));
    }
    Ok(text)
}

/// A notification body, cut to [`MAX_BODY_CHARS`] with [`TRUNCATION_MARKER`] the way the app
/// cuts it; `true` when it was cut. Control characters are the app's to judge.
pub fn body(text: &str) -> (String, bool) {
    let text = text.trim_end();
    if text.chars().count() <= MAX_BODY_CHARS {
        return (text.to_owned(), false);
    }
    let keep = MAX_BODY_CHARS - TRUNCATION_MARKER.chars().count();
    let mut cut: String = text.chars().take(keep).collect();
    cut.push_str(TRUNCATION_MARKER);
    (cut, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_core::control::MAX_LINE;
    use weft_proto::{Request, Source, Target, Urgency};

    /// The longest text a field can hold after the checks above, in the characters that
    /// cost the most bytes on the wire: a control character (`\u0001`, six bytes) where
    /// the field allows them, else a four-byte UTF-8 character.
    fn widest(max: usize, controls: bool) -> String {
        if controls {
            "\u{1}".repeat(max)
        } else {
            "\u{1F600}".repeat(max)
        }
    }

    fn size(request: &Request) -> usize {
        serde_json::to_vec(request)
            .map(|v| v.len() + 1)
            .unwrap_or(usize::MAX)
    }

    #[test]
    fn every_request_the_cli_can_build_fits_the_socket_limit() {
        let long_body = widest(MAX_BODY_CHARS * 20, true);
        let (body, cut) = body(&long_body);
        assert!(cut);
        let requests = [
            Request::Switch {
                to: Target::Focus,
                source: Source::Cli,
                intent: Some(widest(MAX_INTENT_CHARS, false)),
                minutes: Some(weft_proto::MAX_PLANNED_MINUTES),
                stash: Some(widest(MAX_STASH_CHARS, false)),
            },
            Request::Notify {
                title: widest(MAX_TITLE_CHARS, true),
                body: Some(body),
                urgency: Urgency::Critical,
                from: Some(widest(MAX_FROM_CHARS, false)),
            },
            Request::Ping {
                to: widest(MAX_NAME_CHARS, false),
                text: widest(MAX_PING_CHARS, true),
                urgent: true,
            },
            Request::TeamJoin {
                server: format!("https://{}", widest(MAX_SERVER_CHARS - 8, false)),
                invite: widest(MAX_INVITE_CHARS, false),
                name: widest(MAX_NAME_CHARS, false),
                share_intent: true,
            },
        ];
        for request in &requests {
            assert!(size(request) <= MAX_LINE, "{} bytes", size(request));
        }
    }

    #[test]
    fn a_long_body_is_cut_like_the_app_cuts_it() -> Result<(), weft_core::Error> {
        let long = "é".repeat(70 * 1024);
        let (cut, was_cut) = body(&long);
        assert!(was_cut);
        assert_eq!(cut.chars().count(), MAX_BODY_CHARS);
        assert!(cut.ends_with(TRUNCATION_MARKER));
        // The app keeps it as it is: the CLI's cut is the only one.
        let prepared = weft_core::hold::prepare("t", Some(&cut), None)?;
        assert!(!prepared.truncated);
        assert_eq!(prepared.body, cut);
        assert_eq!(body("short \n"), ("short".to_owned(), false));
        Ok(())
    }

    /// The refusal that says `sentence`.
    fn refused<T>(sentence: &str) -> Result<T, Usage> {
        Err(Usage(sentence.to_owned()))
    }

    #[test]
    fn fields_over_their_limit_are_bad_arguments() {
        let over = |max: usize| "x".repeat(max + 1);
        assert_eq!(
            title(&over(MAX_TITLE_CHARS)),
            refused("the title is 201 characters long; the limit is 200")
        );
        assert_eq!(title("  "), refused("a notification needs a title"));
        assert_eq!(title(" Build failed "), Ok("Build failed".to_owned()));
        assert_eq!(
            from(&over(MAX_FROM_CHARS)),
            refused("the sender name is 65 characters long; the limit is 64")
        );
        assert_eq!(
            from("CI\nbot"),
            refused("the sender name must be one line, without control characters")
        );
        assert_eq!(
            stash(&over(MAX_STASH_CHARS)),
            refused("the stash note is 501 characters long; the limit is 500")
        );
        assert_eq!(
            stash("line one\nline two"),
            Ok("line one\nline two".to_owned())
        );
        assert_eq!(
            name(&over(MAX_NAME_CHARS)),
            refused("the name is 65 characters long; the limit is 64")
        );
        assert_eq!(
            server(&over(MAX_SERVER_CHARS)),
            refused("the server address is 2049 characters long; the limit is 2048")
        );
        assert_eq!(server("sync.example.com"), refused("\"sync.example.com\" is not a sync server address; use one like https://sync.example.com"));
        assert_eq!(
            server("https://"),
            refused(
                "\"https://\" is not a sync server address; use one like https://sync.example.com"
            )
        );
        assert_eq!(server("ftp://sync.example.com"), refused("\"ftp://sync.example.com\" is not a sync server address; use one like https://sync.example.com"));
        assert_eq!(
            server(" https://sync.example.com/ "),
            Ok("https://sync.example.com/".to_owned())
        );
        assert!(server("http://127.0.0.1:7070").is_ok());
        assert_eq!(
            invite(&over(MAX_INVITE_CHARS)),
            refused("the invite code is 201 characters long; the limit is 200")
        );
        assert_eq!(
            intent(&[over(MAX_INTENT_CHARS)]),
            refused("the intent is 201 characters long; the limit is 200")
        );
        assert_eq!(
            intent(&["two\nlines".into()]),
            refused("the intent must be one line, without control characters")
        );
        assert_eq!(intent(&[]), Ok(None));
        assert_eq!(
            intent(&["refactor".into(), "parser".into()]),
            Ok(Some("refactor parser".into()))
        );
        assert_eq!(
            ping_text(&[over(MAX_PING_CHARS)]),
            refused("the ping is 501 characters long; the limit is 500")
        );
        assert_eq!(
            ping_text(&[" ".into()]),
            refused("say something: weft ping NAME \"text\"")
        );
        let said = title(&"é".repeat(MAX_TITLE_CHARS + 5)).err();
        assert_eq!(
            said,
            Some(Usage(
                "the title is 205 characters long; the limit is 200".into()
            ))
        );
    }
}
