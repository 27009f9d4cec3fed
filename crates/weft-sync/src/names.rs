//! Names of members and teams: the form shown, the key they are told apart and addressed by,
//! and the checks that keep two names from looking alike.
//!
//! - The name shown is the name as typed, trimmed and in NFC, so "José" typed with a combining
//!   accent (NFD) and with a precomposed "é" (NFC) are stored the same.
//! - The key ([`key`]) is NFKC, then full case folding, then NFKC again, with runs of spaces
//!   made one: "JOSÉ", "josé", "ｊｏｓé" and "Jose\u{301}" share one key. Names are unique
//!   per key in a team, and pings are addressed by it.
//! - The skeleton ([`skeleton`], UTS #39) of the key is what a name looks like: a second name
//!   whose skeleton is taken ("Ana" in Cyrillic letters next to "Ana" in Latin ones) is
//!   refused as taken.
//! - Refused outright ([`check`]): control characters, bidirectional controls (which reorder
//!   what is shown), invisible characters (default-ignorable code points such as zero-width
//!   spaces and joiners, and blank look-alikes), names without a letter or digit, and names
//!   that mix letters of scripts whose letters look alike (Latin, Cyrillic and Greek with
//!   each other). Latin with one other script (Han with Kana, Hangul, Devanagari, Hebrew…) is
//!   allowed: UTS #39's "moderately restrictive" level.
//!
//! Emoji may keep their joiners and presentation selectors (after a symbol only); keys leave
//! them out. The tables are the `unicode-normalization`, `caseless`, `unicode-security` and
//! `unicode-script` crates'. Keys and skeletons are stored: a change to [`key`] or
//! [`skeleton`] needs a store migration that rekeys (as version 3 does).

use std::collections::BTreeSet;
use unicode_normalization::UnicodeNormalization;
use unicode_script::{Script, UnicodeScript};
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::{
    GeneralSecurityProfile, MixedScript, RestrictionLevel, RestrictionLevelDetection,
};

/// Why a name was refused; the message names the character or scripts to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Empty,
    TooLong(usize),
    Control,
    Bidi(char),
    Invisible(char),
    NoLetter,
    MixedScripts(Vec<&'static str>),
}

impl Refused {
    /// A sentence about `field` ("name", "the team name").
    pub fn message(&self, field: &str) -> String {
        match self {
            Refused::Empty => format!("{field} must not be empty"),
            Refused::TooLong(max) => format!("{field} must be at most {max} characters"),
            Refused::Control => format!("{field} must not contain control characters"),
            Refused::Bidi(c) => format!(
                "{field} must not contain bidirectional controls (U+{:04X}): they change the order in which a name is shown",
                u32::from(*c)
            ),
            Refused::Invisible(c) => format!(
                "{field} must not contain invisible characters or unusual spaces (U+{:04X}): two names would look the same",
                u32::from(*c)
            ),
            Refused::NoLetter => format!("{field} must contain a letter or a digit"),
            Refused::MixedScripts(scripts) => format!(
                "{field} mixes letters of different scripts ({}), so it can look like another name; write it in one script",
                scripts.join(", ")
            ),
        }
    }
}

/// The bidirectional formatting characters (UAX #9): marks, embeddings, overrides, isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Characters that show nothing: default-ignorable code points, spaces other than the plain
/// one that NFKC does not turn into it, and the blanks that are not classed as either.
fn is_invisible(c: char) -> bool {
    c.identifier_type() == Some(IdentifierType::Default_Ignorable)
        || (c.is_whitespace() && c != ' ')
        || matches!(
            c,
            '\u{2800}' | '\u{3164}' | '\u{FFA0}' | '\u{115F}' | '\u{1160}'
        )
}

/// Parts of emoji: the joiner of a sequence (👩‍💻) and the emoji and text presentation
/// selectors. They are invisible, but only allowed after a symbol (and the joiner before one),
/// where they join or style it instead of hiding between letters; keys leave them out.
const EMOJI_PARTS: [char; 3] = ['\u{200D}', '\u{FE0E}', '\u{FE0F}'];

fn is_symbol(c: char) -> bool {
    !c.is_ascii() && !c.is_alphanumeric() && !c.is_whitespace() && !is_invisible(c)
}

/// The first invisible character of `text` that is not part of an emoji.
fn invisible(text: &str) -> Option<char> {
    let chars: Vec<char> = text.chars().collect();
    chars.iter().enumerate().find_map(|(i, &c)| {
        let before = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let after = chars.get(i + 1).copied();
        let in_emoji = EMOJI_PARTS.contains(&c)
            && before.is_some_and(|b| is_symbol(b) || (c == '\u{200D}' && b == '\u{FE0F}'))
            && (c != '\u{200D}' || after.is_some_and(is_symbol));
        (is_invisible(c) && !in_emoji).then_some(c)
    })
}

/// The name as shown: trimmed, NFC. Checked by [`check`] first.
pub fn display(raw: &str) -> String {
    raw.trim().nfc().collect()
}

/// Checks a name (as typed) against every rule above; `max` is its longest length in
/// characters.
pub fn check(raw: &str, max: usize) -> Result<String, Refused> {
    let name = display(raw);
    if name.is_empty() {
        return Err(Refused::Empty);
    }
    if name.chars().count() > max {
        return Err(Refused::TooLong(max));
    }
    if name.chars().any(char::is_control) {
        return Err(Refused::Control);
    }
    if let Some(c) = name.chars().find(|c| is_bidi_control(*c)) {
        return Err(Refused::Bidi(c));
    }
    let compatible: String = name.nfkc().collect();
    for text in [&name, &compatible] {
        if let Some(c) = invisible(text) {
            return Err(Refused::Invisible(c));
        }
    }
    if !compatible.chars().any(char::is_alphanumeric) {
        return Err(Refused::NoLetter);
    }
    let letters: String = compatible.chars().filter(|c| c.is_alphabetic()).collect();
    if !letters.as_str().is_single_script()
        && !letters
            .as_str()
            .check_restriction_level(RestrictionLevel::ModeratelyRestrictive)
    {
        let scripts: BTreeSet<&'static str> = letters
            .chars()
            .map(|c| c.script())
            .filter(|s| !matches!(s, Script::Common | Script::Inherited | Script::Unknown))
            .map(Script::full_name)
            .collect();
        return Err(Refused::MixedScripts(scripts.into_iter().collect()));
    }
    Ok(name)
}

/// The key a name is unique by and addressed by: NFKC, case folded, NFKC, spaces collapsed.
pub fn key(name: &str) -> String {
    let compatible: String = name.trim().nfkc().collect();
    let compatible: String = compatible
        .chars()
        .filter(|c| !EMOJI_PARTS.contains(c))
        .collect();
    let folded = caseless::default_case_fold_str(&compatible);
    let normal: String = folded.nfkc().collect();
    normal.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a name looks like (the UTS #39 skeleton of its key): names with one skeleton are
/// confusable.
pub fn skeleton(name: &str) -> String {
    unicode_security::skeleton(&key(name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_name_however_it_is_typed() {
        let nfc = "Jos\u{E9}";
        let nfd = "Jose\u{301}";
        assert_eq!(display(nfd), nfc);
        assert_eq!(key(nfc), key(nfd));
        assert_eq!(key("JOSÉ"), key(nfd));
        assert_eq!(key("ＪＯＳＥ\u{301}"), key(nfc), "full-width letters");
        assert_eq!(key("Straße"), key("STRASSE"), "full case folding");
        assert_eq!(key(" Ana   Bo "), key("ana bo"));
        assert_ne!(key("Ana"), key("Anna"));
    }

    #[test]
    fn look_alikes_share_a_skeleton() {
        assert_eq!(skeleton("Ana"), skeleton("\u{410}na"), "Cyrillic A");
        assert_eq!(skeleton("paypal"), skeleton("\u{440}\u{430}ypal"));
        assert_eq!(skeleton("Ana"), skeleton("ANA"));
        assert_ne!(skeleton("Ana"), skeleton("Bo"));
    }

    #[test]
    fn what_is_refused() {
        let refused = |raw: &str| check(raw, 64).err();
        assert_eq!(check("  José  ", 64).ok().as_deref(), Some("José"));
        for fine in [
            "Mary-Jane O'Neil",
            "J. Smith",
            "Ana (QA)",
            "Ана",
            "Σοφία",
            "田中 Tanaka",
            "Priya प्रिया",
            "Noa נועה",
            "김민준",
            "Bo 2",
        ] {
            assert_eq!(refused(fine), None, "{fine}");
        }
        assert_eq!(refused(" "), Some(Refused::Empty));
        assert_eq!(refused(&"x".repeat(65)), Some(Refused::TooLong(64)));
        assert_eq!(refused("a\u{7}b"), Some(Refused::Control));
        assert_eq!(refused("Ana\u{202E}"), Some(Refused::Bidi('\u{202E}')));
        assert_eq!(refused("\u{2067}Ana"), Some(Refused::Bidi('\u{2067}')));
        assert_eq!(refused("A\u{200B}na"), Some(Refused::Invisible('\u{200B}')));
        assert_eq!(refused("An\u{AD}a"), Some(Refused::Invisible('\u{AD}')));
        assert_eq!(refused("Ana\u{FE0F}"), Some(Refused::Invisible('\u{FE0F}')));
        assert_eq!(refused("A\u{200D}na"), Some(Refused::Invisible('\u{200D}')));
        assert_eq!(
            refused("Ana \u{2764}\u{200D}"),
            Some(Refused::Invisible('\u{200D}'))
        );
        // Emoji keep their joiners and presentation selectors, and keys leave them out.
        for emoji in [
            "Ana \u{2764}\u{FE0F}",
            "Ana \u{1F469}\u{200D}\u{1F4BB}",
            "Bo \u{1F3F3}\u{FE0F}\u{200D}\u{1F308}",
        ] {
            assert_eq!(refused(emoji), None, "{emoji:?}");
        }
        assert_eq!(key("Ana \u{2764}\u{FE0F}"), key("ana \u{2764}"));
        assert_eq!(refused("Ana\u{3164}"), Some(Refused::Invisible('\u{3164}')));
        assert_eq!(refused("\u{2800}"), Some(Refused::Invisible('\u{2800}')));
        assert_eq!(refused("A\u{2003}na"), Some(Refused::Invisible('\u{2003}')));
        assert_eq!(refused("..."), Some(Refused::NoLetter));
        assert_eq!(
            refused("\u{410}na"),
            Some(Refused::MixedScripts(vec!["Cyrillic", "Latin"]))
        );
        assert!(matches!(refused("Ἀna"), Some(Refused::MixedScripts(_))));
        assert!(matches!(
            refused("Σοφία Smith"),
            Some(Refused::MixedScripts(_))
        ));
        assert!(matches!(
            refused("Ана Σοφία"),
            Some(Refused::MixedScripts(_))
        ));
        let message = Refused::MixedScripts(vec!["Cyrillic", "Latin"]).message("name");
        assert!(message.contains("(Cyrillic, Latin)"), "{message}");
    }
}
