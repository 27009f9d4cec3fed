//! Key combinations for the global hotkey, as written in config.toml: modifiers and one key
//! joined by `+`, e.g. `Ctrl+Alt+F`. Parsing is pure and platform-free; turning a [`Combo`]
//! into a grab is the app's (platform-specific) business. [`Combo::portal_trigger`] spells a
//! combination as the XDG GlobalShortcuts portal takes it (`preferred_trigger`).

use std::fmt;
use std::str::FromStr;

/// A modifier set and one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Combo {
    pub ctrl: bool,
    pub alt: bool,
    pub shift: bool,
    /// The Super ("Windows", "Command") key.
    pub super_key: bool,
    pub key: Key,
}

/// The non-modifier key of a combination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// `a`-`z`, stored lowercase.
    Letter(char),
    /// `0`-`9`.
    Digit(u8),
    /// `F1`-`F24`.
    Function(u8),
    Named(Named),
}

/// Keys with names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Named {
    Space,
    Enter,
    Tab,
    Escape,
    Backspace,
    Delete,
    Insert,
    Home,
    End,
    PageUp,
    PageDown,
    Up,
    Down,
    Left,
    Right,
    Pause,
    PrintScreen,
}

const NAMES: &[(&str, Named)] = &[
    ("Space", Named::Space),
    ("Enter", Named::Enter),
    ("Return", Named::Enter),
    ("Tab", Named::Tab),
    ("Escape", Named::Escape),
    ("Esc", Named::Escape),
    ("Backspace", Named::Backspace),
    ("Delete", Named::Delete),
    ("Insert", Named::Insert),
    ("Home", Named::Home),
    ("End", Named::End),
    ("PageUp", Named::PageUp),
    ("PageDown", Named::PageDown),
    ("Up", Named::Up),
    ("Down", Named::Down),
    ("Left", Named::Left),
    ("Right", Named::Right),
    ("Pause", Named::Pause),
    ("PrintScreen", Named::PrintScreen),
];

impl FromStr for Combo {
    type Err = String;

    fn from_str(text: &str) -> Result<Combo, String> {
        let mut combo = Combo {
            ctrl: false,
            alt: false,
            shift: false,
            super_key: false,
            key: Key::Named(Named::Space),
        };
        let mut key = None;
        for part in text.split('+').map(str::trim) {
            let flag = match part.to_ascii_lowercase().as_str() {
                "ctrl" | "control" => Some(&mut combo.ctrl),
                "alt" | "option" => Some(&mut combo.alt),
                "shift" => Some(&mut combo.shift),
                "super" | "meta" | "win" | "cmd" | "command" => Some(&mut combo.super_key),
                _ => None,
            };
            match flag {
                Some(flag) if *flag => return Err(format!("{part} appears twice")),
                Some(flag) => *flag = true,
                None if key.is_some() => {
                    return Err(format!(
                        "more than one key ({part}); use one key and modifiers"
                    ))
                }
                None => key = Some(parse_key(part)?),
            }
        }
        combo.key = key.ok_or("no key, only modifiers")?;
        let modified = combo.ctrl || combo.alt || combo.shift || combo.super_key;
        if !modified && !matches!(combo.key, Key::Function(_)) {
            return Err("a key without Ctrl, Alt, Shift or Super would fire while typing".into());
        }
        Ok(combo)
    }
}

fn parse_key(part: &str) -> Result<Key, String> {
    if part.is_empty() {
        return Err("an empty key (two + in a row?)".into());
    }
    let mut chars = part.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if c.is_ascii_alphabetic() {
            return Ok(Key::Letter(c.to_ascii_lowercase()));
        }
        if let Some(d) = c.to_digit(10) {
            return Ok(Key::Digit(d as u8));
        }
    }
    if let Some(n) = part
        .strip_prefix(['F', 'f'])
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| (1..=24).contains(n))
    {
        return Ok(Key::Function(n));
    }
    NAMES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(part))
        .map(|(_, named)| Key::Named(*named))
        .ok_or_else(|| {
            format!("unknown key {part:?}; use a letter, a digit, F1-F24, or a key name such as Space or PageUp")
        })
}

impl Combo {
    /// The combination in the spelling of the XDG shortcuts specification, which the
    /// GlobalShortcuts portal takes as `preferred_trigger`: the modifiers `CTRL`, `ALT`,
    /// `SHIFT` and `LOGO`, then the key's xkbcommon keysym name, joined by `+`
    /// (`Ctrl+Alt+F` is `CTRL+ALT+f`). Every combination Weft accepts has one.
    pub fn portal_trigger(&self) -> String {
        let mut trigger = String::new();
        for (on, name) in [
            (self.ctrl, "CTRL+"),
            (self.alt, "ALT+"),
            (self.shift, "SHIFT+"),
            (self.super_key, "LOGO+"),
        ] {
            if on {
                trigger.push_str(name);
            }
        }
        match self.key {
            Key::Letter(c) => trigger.push(c.to_ascii_lowercase()),
            Key::Digit(d) => trigger.push_str(&d.to_string()),
            Key::Function(n) => trigger.push_str(&format!("F{n}")),
            Key::Named(named) => trigger.push_str(keysym(named)),
        }
        trigger
    }
}

/// The xkbcommon keysym name of a named key (`xkbcommon-keysyms.h` without `XKB_KEY_`).
fn keysym(named: Named) -> &'static str {
    match named {
        Named::Space => "space",
        Named::Enter => "Return",
        Named::Tab => "Tab",
        Named::Escape => "Escape",
        Named::Backspace => "BackSpace",
        Named::Delete => "Delete",
        Named::Insert => "Insert",
        Named::Home => "Home",
        Named::End => "End",
        Named::PageUp => "Page_Up",
        Named::PageDown => "Page_Down",
        Named::Up => "Up",
        Named::Down => "Down",
        Named::Left => "Left",
        Named::Right => "Right",
        Named::Pause => "Pause",
        Named::PrintScreen => "Print",
    }
}

impl fmt::Display for Combo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (on, name) in [
            (self.ctrl, "Ctrl+"),
            (self.alt, "Alt+"),
            (self.shift, "Shift+"),
            (self.super_key, "Super+"),
        ] {
            if on {
                f.write_str(name)?;
            }
        }
        match self.key {
            Key::Letter(c) => write!(f, "{}", c.to_ascii_uppercase()),
            Key::Digit(d) => write!(f, "{d}"),
            Key::Function(n) => write!(f, "F{n}"),
            Key::Named(named) => {
                let name = NAMES
                    .iter()
                    .find(|(_, n)| *n == named)
                    .map(|(name, _)| *name)
                    .unwrap_or("?");
                f.write_str(name)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<String, String> {
        text.parse::<Combo>().map(|c| c.to_string())
    }

    #[test]
    fn combinations_parse_and_print_in_a_canonical_form() {
        assert_eq!(parse("Ctrl+Alt+F"), Ok("Ctrl+Alt+F".into()));
        assert_eq!(parse("alt + control + f"), Ok("Ctrl+Alt+F".into()));
        assert_eq!(parse("Super+Shift+PageUp"), Ok("Shift+Super+PageUp".into()));
        assert_eq!(parse("ctrl+esc"), Ok("Ctrl+Escape".into()));
        assert_eq!(parse("Ctrl+7"), Ok("Ctrl+7".into()));
        assert_eq!(
            parse("F13"),
            Ok("F13".into()),
            "a function key may stand alone"
        );
        let combo: Combo = "Ctrl+Alt+F".parse().unwrap();
        assert_eq!(combo.key, Key::Letter('f'));
        assert!(combo.ctrl && combo.alt && !combo.shift && !combo.super_key);
    }

    #[test]
    fn combinations_are_spelled_as_the_portal_takes_them() {
        let trigger = |text: &str| text.parse::<Combo>().map(|c| c.portal_trigger());
        assert_eq!(trigger("Ctrl+Alt+F"), Ok("CTRL+ALT+f".into()));
        assert_eq!(trigger("shift+super+a"), Ok("SHIFT+LOGO+a".into()));
        assert_eq!(
            trigger("Alt+Ctrl+Shift+Super+7"),
            Ok("CTRL+ALT+SHIFT+LOGO+7".into())
        );
        assert_eq!(trigger("F13"), Ok("F13".into()));
        assert_eq!(trigger("Ctrl+Return"), Ok("CTRL+Return".into()));
        assert_eq!(trigger("Super+PageUp"), Ok("LOGO+Page_Up".into()));
        assert_eq!(trigger("Ctrl+Backspace"), Ok("CTRL+BackSpace".into()));
        assert_eq!(trigger("Ctrl+Space"), Ok("CTRL+space".into()));
        assert_eq!(trigger("Ctrl+PrintScreen"), Ok("CTRL+Print".into()));
        // Every named key has a keysym: an identifier of letters, digits and underscores.
        for (name, _) in NAMES {
            let spelled = trigger(&format!("Ctrl+{name}")).unwrap_or_default();
            let key = spelled.trim_start_matches("CTRL+");
            assert!(
                !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "{name} is spelled {spelled:?}"
            );
        }
    }

    #[test]
    fn mistakes_are_explained() {
        let error = |text: &str| parse(text).err().unwrap_or_default();
        assert!(error("Ctrl+Banana").contains("unknown key \"Banana\""));
        assert!(error("Ctrl+Alt").contains("no key"));
        assert!(error("Ctrl+Ctrl+F").contains("twice"));
        assert!(error("Ctrl+F+G").contains("more than one key"));
        assert!(error("F").contains("while typing"));
        assert!(error("Ctrl++F").contains("empty key"));
        assert!(error("Ctrl+F25").contains("unknown key"));
    }
}
