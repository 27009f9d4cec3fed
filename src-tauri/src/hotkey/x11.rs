//! The global hotkey on X11: a passive key grab on the root window, and a thread that blocks in
//! `wait_for_event` on its own X connection. A press reaches the dispatcher as soon as the X
//! server sends it (the global-hotkey crate polls every 50 ms instead).
//!
//! The grab follows the keyboard layout. The rule: the hotkey is the key that types the
//! configured key in the current layout, that is every keycode whose keysyms in the current
//! group (XKB's effective group, with the key's own out-of-range rule) include it (for a letter,
//! either case). The same thread hears every keymap change (XKB `NewKeyboardNotify`,
//! `MapNotify`, a group change in `StateNotify`, and the core `MappingNotify`), resolves the
//! keycodes and the modifier bits of Alt, Super and Num Lock again, ungrabs the old keys and
//! grabs the new ones. A layout without such a key is reported once; the hotkey comes back
//! by itself in the next layout that has the key.

use tauri::AppHandle;
use weft_core::hotkey::{Combo, Key, Named};
use x11rb::connection::Connection;
use x11rb::protocol::xkb::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, GrabMode, Keycode, Keysym, ModMask, Window};
use x11rb::protocol::Event;
use x11rb::rust_connection::RustConnection;

/// Grabs `combo` and calls `on_press` on each press (not on auto-repeat). Problems that come
/// up later (a layout without the key, a key another program holds) go to `on_problem`, once
/// each. Fails when there is no display, or when the key is taken at start.
pub fn listen(
    _app: &AppHandle,
    combo: &Combo,
    on_press: Box<dyn Fn() + Send>,
    on_problem: Box<dyn Fn(Option<String>) + Send>,
) -> Result<(), String> {
    let (conn, screen) =
        x11rb::connect(None).map_err(|e| format!("no X11 display to grab keys on: {e}"))?;
    let root = conn
        .setup()
        .roots
        .get(screen)
        .map(|s| s.root)
        .ok_or("the X display has no such screen")?;

    let xkb = conn
        .xkb_use_extension(1, 0)
        .ok()
        .and_then(|cookie| cookie.reply().ok())
        .is_some_and(|reply| reply.supported);
    // Holding the keys would otherwise send release+press pairs. Best effort: where the
    // server lacks XKB, the event loop below recognises those pairs by their equal times.
    let detectable = xkb
        && conn
            .xkb_per_client_flags(
                xkb::ID::USE_CORE_KBD.into(),
                xkb::PerClientFlag::DETECTABLE_AUTO_REPEAT,
                xkb::PerClientFlag::DETECTABLE_AUTO_REPEAT,
                Default::default(),
                Default::default(),
                Default::default(),
            )
            .ok()
            .and_then(|cookie| cookie.reply().ok())
            .is_some_and(|reply| {
                reply
                    .value
                    .contains(xkb::PerClientFlag::DETECTABLE_AUTO_REPEAT)
            });
    if !detectable {
        log::debug!("X server without detectable auto-repeat; filtering repeats by time");
    }
    // Keymap and group changes. Without XKB the core MappingNotify (sent to every client)
    // still arrives.
    if xkb {
        let details = xkb::SelectEventsAux {
            state_notify: Some(xkb::SelectEventsAuxStateNotify {
                affect_state: xkb::StatePart::GROUP_STATE,
                state_details: xkb::StatePart::GROUP_STATE,
            }),
            ..Default::default()
        };
        let selected = conn
            .xkb_select_events(
                xkb::ID::USE_CORE_KBD.into(),
                xkb::EventType::from(0u16),
                xkb::EventType::NEW_KEYBOARD_NOTIFY | xkb::EventType::MAP_NOTIFY,
                xkb::MapPart::from(0u16),
                xkb::MapPart::from(0u16),
                &details,
            )
            .map_err(|e| e.to_string())
            .and_then(|cookie| cookie.check().map_err(|e| e.to_string()));
        if let Err(e) = selected {
            log::warn!("cannot follow XKB keymap changes ({e}); relying on MappingNotify");
        }
    }

    let mut grab = Grab {
        repeats_by_time: !detectable,
        conn,
        root,
        xkb,
        name: combo.to_string(),
        wanted: keysyms(combo.key),
        combo: *combo,
        keycodes: Vec::new(),
        grabbed: Vec::new(),
        mods: Mods::default(),
        missing: false,
        told: false,
        on_problem,
    };
    match grab.refresh() {
        Ok(Outcome::Taken(_)) => {
            grab.ungrab_all();
            return Err("another program already uses it".into());
        }
        Ok(_) => {}
        Err(e) => return Err(format!("X11 error: {e}")),
    }

    std::thread::Builder::new()
        .name("weft-hotkey".into())
        .spawn(move || grab.run(&*on_press))
        .map_err(|e| format!("cannot start the hotkey thread: {e}"))?;
    Ok(())
}

/// What a refresh found.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// The key is grabbed (or nothing changed).
    Grabbed,
    /// The current layout has no key that types it.
    Missing,
    /// Every keycode that types it is grabbed by another program (what to say about it).
    Taken(String),
}

/// The modifier bits in use: what the combination needs, and Num Lock's bit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Mods {
    wanted: u16,
    /// Control, Shift, Alt's and Super's bits: the ones a press must match exactly.
    relevant: u16,
    num_lock: u16,
}

impl Mods {
    /// Caps Lock and Num Lock must not stop the hotkey: every combination of them is grabbed.
    fn lock_combinations(self) -> Vec<u16> {
        let (caps, num) = (u16::from(ModMask::LOCK), self.num_lock);
        let mut all = vec![0, caps, num, caps | num];
        all.sort_unstable();
        all.dedup();
        all
    }
}

struct Grab {
    conn: RustConnection,
    root: Window,
    xkb: bool,
    combo: Combo,
    name: String,
    /// The keysyms that count as the configured key.
    wanted: Vec<Keysym>,
    /// The keycodes grabbed now.
    keycodes: Vec<Keycode>,
    /// Every (keycode, modifiers) grab in place, to undo on the next change.
    grabbed: Vec<(Keycode, u16)>,
    mods: Mods,
    /// The current layout has no key for the hotkey.
    missing: bool,
    /// A problem was told to `on_problem` and not yet taken back.
    told: bool,
    on_problem: Box<dyn Fn(Option<String>) + Send>,
    /// The server cannot report auto-repeat as presses alone, so repeats are told by time.
    repeats_by_time: bool,
}

/// Whether the hotkey's key is down, and when it was last released (X server time), to tell
/// a press from an auto-repeat.
#[derive(Debug, Default)]
struct KeyState {
    held: bool,
    released_at: Option<u32>,
}

impl Grab {
    fn run(mut self, on_press: &dyn Fn()) {
        let mut keys = KeyState::default();
        loop {
            let first = match self.conn.wait_for_event() {
                Ok(event) => event,
                Err(e) => {
                    log::error!("the global hotkey stopped: the X connection failed ({e})");
                    return;
                }
            };
            // Every event goes through `handle`, in order, so a press that arrives in the same
            // batch as a keymap change is never lost. One layout switch sends several change
            // events: what has already arrived is handled first, then the grab moves once.
            // This reads only events already queued; it never waits.
            let mut changed = self.handle(&first, &mut keys, on_press);
            loop {
                match self.conn.poll_for_event() {
                    Ok(Some(event)) => changed |= self.handle(&event, &mut keys, on_press),
                    Ok(None) => break,
                    Err(e) => {
                        log::error!("the global hotkey stopped: the X connection failed ({e})");
                        return;
                    }
                }
            }
            if changed {
                keys.held = false;
                match self.refresh() {
                    // Every key that types it is held by another program now: the hotkey
                    // does nothing until a layout change finds a free one.
                    Ok(Outcome::Taken(text)) => self.tell(text),
                    Ok(_) => {}
                    Err(e) => {
                        log::error!("the global hotkey could not follow the keyboard layout: {e}")
                    }
                }
            }
        }
    }

    /// Handles one event: a press of the hotkey calls `on_press` (not an auto-repeat). Returns
    /// true when the keymap or the layout changed, so the grab must move.
    fn handle(&self, event: &Event, keys: &mut KeyState, on_press: &dyn Fn()) -> bool {
        match event {
            Event::KeyPress(e)
                if self.keycodes.contains(&e.detail)
                    && u16::from(e.state) & self.mods.relevant == self.mods.wanted =>
            {
                // With detectable auto-repeat a held key sends presses only (`held`); without
                // it, a repeat press comes with the time of the release before it. Only then is
                // the time compared: two real presses can share a millisecond.
                let repeat = self.repeats_by_time && keys.released_at == Some(e.time);
                if keys.held || repeat {
                    log::debug!(
                        "hotkey press taken for an auto-repeat (held: {})",
                        keys.held
                    );
                } else {
                    on_press();
                }
                keys.held = true;
                false
            }
            Event::KeyRelease(e) if self.keycodes.contains(&e.detail) => {
                keys.held = false;
                keys.released_at = Some(e.time);
                false
            }
            Event::MappingNotify(_)
            | Event::XkbNewKeyboardNotify(_)
            | Event::XkbMapNotify(_)
            | Event::XkbStateNotify(_) => true,
            _ => false,
        }
    }

    /// Looks up the key and the modifiers in the current keymap and moves the grab there.
    fn refresh(&mut self) -> Result<Outcome, String> {
        let mods = self.modifiers()?;
        let keycodes = self.resolve()?;
        if keycodes.is_empty() {
            self.ungrab_all();
            self.keycodes.clear();
            self.mods = mods;
            if !self.missing {
                self.missing = true;
                let text = format!(
                    "The hotkey {} has no key in the current keyboard layout, so it does nothing for now. It works again as soon as the layout has a key that types {}; until then switch from the tray or with `weft toggle`.",
                    self.name,
                    key_name(self.combo.key)
                );
                log::warn!("{text}");
                self.tell(text);
            }
            return Ok(Outcome::Missing);
        }
        if keycodes == self.keycodes && mods == self.mods && !self.grabbed.is_empty() {
            return Ok(Outcome::Grabbed);
        }
        self.ungrab_all();
        self.mods = mods;
        let mut taken = Vec::new();
        let mut ok = Vec::new();
        for keycode in keycodes {
            let mut all = true;
            for locks in mods.lock_combinations() {
                let mask = mods.wanted | locks;
                let result = self
                    .conn
                    .grab_key(
                        false,
                        self.root,
                        ModMask::from(mask),
                        keycode,
                        GrabMode::ASYNC,
                        GrabMode::ASYNC,
                    )
                    .map_err(|e| e.to_string())?
                    .check();
                match result {
                    Ok(()) => self.grabbed.push((keycode, mask)),
                    Err(_) => all = false,
                }
            }
            if all {
                ok.push(keycode);
            } else {
                taken.push(keycode);
            }
        }
        self.conn.flush().map_err(|e| e.to_string())?;
        self.keycodes = ok;
        if self.missing {
            self.missing = false;
            log::info!(
                "the hotkey {} works again: the keyboard layout has its key",
                self.name
            );
        }
        log::info!(
            "global hotkey \"{}\" grabbed on keycodes {:?}",
            self.name,
            self.keycodes
        );
        if !taken.is_empty() {
            let text = format!(
                "The hotkey {} could not be registered on keycodes {taken:?} in this keyboard layout (another program already uses it). Switch from the tray or with `weft toggle`, or set another hotkey in config.toml.",
                self.name
            );
            log::warn!("{text}");
            if self.keycodes.is_empty() {
                return Ok(Outcome::Taken(text));
            }
            self.tell(text);
        } else if std::mem::take(&mut self.told) {
            // Whatever was told (no key, or a key held by another program) is over.
            (self.on_problem)(None);
        }
        Ok(Outcome::Grabbed)
    }

    /// Reports a problem each time it is found (`degraded` lists the hotkey while it lasts);
    /// `on_problem` says it in words once per run.
    fn tell(&mut self, text: String) {
        self.told = true;
        (self.on_problem)(Some(text));
    }

    fn ungrab_all(&mut self) {
        for (keycode, mask) in std::mem::take(&mut self.grabbed) {
            // An error here (the key is gone) comes back as an event and is ignored.
            let _ = self
                .conn
                .ungrab_key(keycode, self.root, ModMask::from(mask));
        }
        let _ = self.conn.flush();
    }

    /// The keycodes that type the configured key in the current layout and group.
    fn resolve(&self) -> Result<Vec<Keycode>, String> {
        let x = |e: &dyn std::fmt::Display| e.to_string();
        let setup = self.conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let count = max.saturating_sub(min).saturating_add(1);
        if self.xkb {
            let device = xkb::ID::USE_CORE_KBD.into();
            let state = self
                .conn
                .xkb_get_state(device)
                .map_err(|e| x(&e))?
                .reply()
                .map_err(|e| x(&e))?;
            let map = self
                .conn
                .xkb_get_map(
                    device,
                    xkb::MapPart::KEY_SYMS,
                    xkb::MapPart::from(0u16),
                    0,
                    0,
                    min,
                    count,
                    0,
                    0,
                    0,
                    0,
                    xkb::VMod::from(0u16),
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                )
                .map_err(|e| x(&e))?
                .reply()
                .map_err(|e| x(&e))?;
            let syms = map.map.syms_rtrn.unwrap_or_default();
            return Ok(keycodes_in_group(
                map.first_key_sym,
                &syms,
                u8::from(state.group),
                &self.wanted,
            ));
        }
        let mapping = self
            .conn
            .get_keyboard_mapping(min, count)
            .map_err(|e| x(&e))?
            .reply()
            .map_err(|e| x(&e))?;
        let per = usize::from(mapping.keysyms_per_keycode.max(1));
        Ok(mapping
            .keysyms
            .chunks(per)
            .enumerate()
            .filter(|(_, syms)| syms.iter().any(|s| self.wanted.contains(s)))
            .filter_map(|(i, _)| u8::try_from(usize::from(min) + i).ok())
            .collect())
    }

    /// The modifier bits of the combination, from the current modifier mapping: Alt, Super
    /// and Num Lock are whichever of Mod1-Mod5 carries their keys (Mod1, Mod4 and Mod2 when
    /// none does, as on nearly every X server).
    fn modifiers(&self) -> Result<Mods, String> {
        let x = |e: &dyn std::fmt::Display| e.to_string();
        let setup = self.conn.setup();
        let (min, max) = (setup.min_keycode, setup.max_keycode);
        let count = max.saturating_sub(min).saturating_add(1);
        let modmap = self
            .conn
            .get_modifier_mapping()
            .map_err(|e| x(&e))?
            .reply()
            .map_err(|e| x(&e))?;
        let mapping = self
            .conn
            .get_keyboard_mapping(min, count)
            .map_err(|e| x(&e))?
            .reply()
            .map_err(|e| x(&e))?;
        let per = usize::from(mapping.keysyms_per_keycode.max(1));
        let syms_of = |keycode: Keycode| -> &[Keysym] {
            let start = usize::from(keycode.saturating_sub(min)) * per;
            mapping.keysyms.get(start..start + per).unwrap_or(&[])
        };
        let width = usize::from(modmap.keycodes_per_modifier());
        let bit_for = |names: &[Keysym], default: u16| -> u16 {
            // Mod1..Mod5 are rows 3..8 of the modifier map.
            (3..8)
                .find(|row| {
                    modmap
                        .keycodes
                        .iter()
                        .skip(row * width)
                        .take(width)
                        .any(|&k| k != 0 && syms_of(k).iter().any(|s| names.contains(s)))
                })
                .map_or(default, |row| 1 << row)
        };
        let alt = bit_for(&[0xffe9, 0xffea], u16::from(ModMask::M1));
        let super_key = bit_for(&[0xffeb, 0xffec], u16::from(ModMask::M4));
        let num_lock = bit_for(&[0xff7f], u16::from(ModMask::M2));
        let mut wanted = 0;
        for (on, bit) in [
            (self.combo.ctrl, u16::from(ModMask::CONTROL)),
            (self.combo.alt, alt),
            (self.combo.shift, u16::from(ModMask::SHIFT)),
            (self.combo.super_key, super_key),
        ] {
            if on {
                wanted |= bit;
            }
        }
        let relevant = u16::from(ModMask::CONTROL | ModMask::SHIFT) | alt | super_key;
        Ok(Mods {
            wanted,
            relevant,
            num_lock: num_lock & !relevant,
        })
    }
}

/// The keycodes (from `first`, one [`xkb::KeySymMap`] each) whose symbols in `group` include
/// one of `wanted`. A key with fewer groups applies its own rule (wrap, clamp, redirect).
fn keycodes_in_group(
    first: Keycode,
    maps: &[xkb::KeySymMap],
    group: u8,
    wanted: &[Keysym],
) -> Vec<Keycode> {
    maps.iter()
        .enumerate()
        .filter(|(_, map)| {
            let Some(g) = effective_group(map.group_info, group) else {
                return false;
            };
            let width = usize::from(map.width);
            let start = usize::from(g) * width;
            map.syms
                .get(start..start + width)
                .is_some_and(|syms| syms.iter().any(|s| wanted.contains(s)))
        })
        .filter_map(|(i, _)| u8::try_from(usize::from(first) + i).ok())
        .collect()
}

/// The group a key uses when the keyboard is in `group`, from the key's `group_info` (the
/// number of groups in the low nibble, the out-of-range rule in the top two bits). `None` for
/// a key without symbols.
fn effective_group(group_info: u8, group: u8) -> Option<u8> {
    let groups = group_info & 0x0f;
    if groups == 0 {
        return None;
    }
    if group < groups {
        return Some(group);
    }
    Some(match group_info & 0xc0 {
        // Clamp into range.
        0x40 => groups - 1,
        // Redirect to the group named in bits 4-5, or the first when that is out of range too.
        0x80 => Some((group_info >> 4) & 0x03)
            .filter(|g| *g < groups)
            .unwrap_or(0),
        // Wrap around.
        _ => group % groups,
    })
}

/// The X keysyms that count as `key` (see X11's keysymdef.h): a letter in either case.
fn keysyms(key: Key) -> Vec<Keysym> {
    match key {
        Key::Letter(c) => vec![
            u32::from(c.to_ascii_lowercase()),
            u32::from(c.to_ascii_uppercase()),
        ],
        Key::Digit(d) => vec![0x30 + u32::from(d)],
        Key::Function(n) => vec![0xffbe + u32::from(n) - 1],
        Key::Named(named) => vec![match named {
            Named::Space => 0x20,
            Named::Enter => 0xff0d,
            Named::Tab => 0xff09,
            Named::Escape => 0xff1b,
            Named::Backspace => 0xff08,
            Named::Delete => 0xffff,
            Named::Insert => 0xff63,
            Named::Home => 0xff50,
            Named::End => 0xff57,
            Named::PageUp => 0xff55,
            Named::PageDown => 0xff56,
            Named::Left => 0xff51,
            Named::Up => 0xff52,
            Named::Right => 0xff53,
            Named::Down => 0xff54,
            Named::Pause => 0xff13,
            Named::PrintScreen => 0xff61,
        }],
    }
}

/// How the key is named in a notice ("F" for a letter, "F5", "Space").
fn key_name(key: Key) -> String {
    Combo {
        ctrl: false,
        alt: false,
        shift: false,
        super_key: false,
        key,
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(groups: &[&[Keysym]], group_info_rule: u8) -> xkb::KeySymMap {
        let width = groups.iter().map(|g| g.len()).max().unwrap_or(0);
        let mut syms = Vec::new();
        for g in groups {
            let mut row = g.to_vec();
            row.resize(width, 0);
            syms.extend(row);
        }
        xkb::KeySymMap {
            kt_index: [0; 4],
            group_info: group_info_rule | u8::try_from(groups.len()).unwrap_or(0),
            width: u8::try_from(width).unwrap_or(0),
            syms,
        }
    }

    const F: &[Keysym] = &[0x66, 0x46];
    const CYRILLIC_A: &[Keysym] = &[0x6c1, 0x6e1];
    const U: &[Keysym] = &[0x75, 0x55];

    #[test]
    fn the_key_is_looked_up_in_the_current_group_only() {
        // Keycode 41 types f in group 1 and a Cyrillic letter in group 2; 42 the reverse.
        let maps = [map(&[F, CYRILLIC_A], 0), map(&[CYRILLIC_A, F], 0)];
        assert_eq!(
            keycodes_in_group(41, &maps, 0, &keysyms(Key::Letter('f'))),
            [41]
        );
        assert_eq!(
            keycodes_in_group(41, &maps, 1, &keysyms(Key::Letter('f'))),
            [42]
        );
    }

    #[test]
    fn a_layout_without_the_letter_has_no_key_for_it() {
        let maps = [map(&[CYRILLIC_A], 0), map(&[U], 0), map(&[], 0)];
        assert!(keycodes_in_group(8, &maps, 0, &keysyms(Key::Letter('f'))).is_empty());
    }

    #[test]
    fn keys_with_fewer_groups_follow_their_own_rule() {
        let one = map(&[F], 0);
        assert_eq!(effective_group(one.group_info, 2), Some(0), "wrap");
        assert_eq!(effective_group(0x40 | 2, 3), Some(1), "clamp");
        assert_eq!(effective_group(0x80 | 0x10 | 2, 3), Some(1), "redirect");
        assert_eq!(
            effective_group(0x80 | 0x30 | 2, 3),
            Some(0),
            "redirect out of range"
        );
        assert_eq!(effective_group(0, 0), None, "no symbols");
        assert_eq!(
            keycodes_in_group(9, &[one], 3, &keysyms(Key::Letter('f'))),
            [9]
        );
    }

    #[test]
    fn a_letter_counts_in_either_case() {
        assert_eq!(keysyms(Key::Letter('f')), [0x66, 0x46]);
        assert_eq!(key_name(Key::Letter('f')), "F");
    }
}
