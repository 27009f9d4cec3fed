//! The global hotkey on X11: a passive key grab on the root window, and a thread that blocks in
//! `wait_for_event` on its own X connection. A press reaches the dispatcher as soon as the X
//! server sends it (the global-hotkey crate polls every 50 ms instead).

use tauri::AppHandle;
use weft_core::hotkey::{Combo, Key, Named};
use x11rb::connection::Connection;
use x11rb::protocol::xkb::{self, ConnectionExt as _};
use x11rb::protocol::xproto::{ConnectionExt as _, GrabMode, Keycode, ModMask};
use x11rb::protocol::Event;

/// Grabs `combo` and calls `on_press` on each press (not on auto-repeat).
pub fn listen(
    _app: &AppHandle,
    combo: &Combo,
    on_press: Box<dyn Fn() + Send>,
) -> Result<(), String> {
    let (conn, screen) =
        x11rb::connect(None).map_err(|e| format!("no X11 display to grab keys on: {e}"))?;
    let root = conn
        .setup()
        .roots
        .get(screen)
        .map(|s| s.root)
        .ok_or("the X display has no such screen")?;
    let x = |e: &dyn std::fmt::Display| format!("X11 error: {e}");
    // Known limits: the keycodes are looked up once (a keyboard-layout change needs a restart),
    // and Alt, Super and Num Lock are taken to be Mod1, Mod4 and Mod2, as on nearly every X
    // server.

    // Holding the keys would otherwise send release+press pairs. Best effort: where the
    // server lacks XKB, the event loop below recognises those pairs by their equal times.
    let detectable = conn
        .xkb_use_extension(1, 0)
        .ok()
        .and_then(|cookie| cookie.reply().ok())
        .and_then(|_| {
            conn.xkb_per_client_flags(
                xkb::ID::USE_CORE_KBD.into(),
                xkb::PerClientFlag::DETECTABLE_AUTO_REPEAT,
                xkb::PerClientFlag::DETECTABLE_AUTO_REPEAT,
                Default::default(),
                Default::default(),
                Default::default(),
            )
            .ok()
        })
        .and_then(|cookie| cookie.reply().ok())
        .is_some_and(|reply| {
            reply
                .value
                .contains(xkb::PerClientFlag::DETECTABLE_AUTO_REPEAT)
        });
    if !detectable {
        log::debug!("X server without detectable auto-repeat; filtering repeats by time");
    }

    let keycodes = keycodes_for(&conn, keysym(combo.key))?;
    let mods = modifiers(combo);
    // Caps Lock and Num Lock must not stop the hotkey: grab every combination of them too.
    for keycode in &keycodes {
        for locks in [
            ModMask::from(0u16),
            ModMask::LOCK,
            ModMask::M2,
            ModMask::LOCK | ModMask::M2,
        ] {
            conn.grab_key(
                false,
                root,
                mods | locks,
                *keycode,
                GrabMode::ASYNC,
                GrabMode::ASYNC,
            )
            .map_err(|e| x(&e))?
            .check()
            .map_err(|_| "another program already uses it".to_owned())?;
        }
    }
    conn.flush().map_err(|e| x(&e))?;

    let relevant = u16::from(ModMask::CONTROL | ModMask::SHIFT | ModMask::M1 | ModMask::M4);
    let wanted = u16::from(mods);
    std::thread::Builder::new()
        .name("weft-hotkey".into())
        .spawn(move || {
            let mut held = false;
            let mut released_at = None;
            loop {
                match conn.wait_for_event() {
                    Ok(Event::KeyPress(e))
                        if keycodes.contains(&e.detail)
                            && u16::from(e.state) & relevant == wanted =>
                    {
                        // An auto-repeat press comes with the time of the release before it.
                        let repeat = released_at == Some(e.time);
                        if !held && !repeat {
                            on_press();
                        }
                        held = true;
                    }
                    Ok(Event::KeyRelease(e)) if keycodes.contains(&e.detail) => {
                        held = false;
                        released_at = Some(e.time);
                    }
                    Ok(_) => {}
                    Err(e) => {
                        log::error!("the global hotkey stopped: the X connection failed ({e})");
                        return;
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start the hotkey thread: {e}"))?;
    Ok(())
}

fn modifiers(combo: &Combo) -> ModMask {
    let mut mask = ModMask::from(0u16);
    for (on, bit) in [
        (combo.ctrl, ModMask::CONTROL),
        (combo.alt, ModMask::M1),
        (combo.shift, ModMask::SHIFT),
        (combo.super_key, ModMask::M4),
    ] {
        if on {
            mask |= bit;
        }
    }
    mask
}

/// The X keysym of a key (see X11's keysymdef.h).
fn keysym(key: Key) -> u32 {
    match key {
        Key::Letter(c) => c as u32,
        Key::Digit(d) => 0x30 + u32::from(d),
        Key::Function(n) => 0xffbe + u32::from(n) - 1,
        Key::Named(named) => match named {
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
        },
    }
}

/// Every keycode whose keyboard mapping carries `keysym` (usually one).
fn keycodes_for(conn: &impl Connection, keysym: u32) -> Result<Vec<Keycode>, String> {
    let setup = conn.setup();
    let (min, max) = (setup.min_keycode, setup.max_keycode);
    let mapping = conn
        .get_keyboard_mapping(min, max - min + 1)
        .map_err(|e| format!("X11 error: {e}"))?
        .reply()
        .map_err(|e| format!("X11 error: {e}"))?;
    let per = usize::from(mapping.keysyms_per_keycode.max(1));
    let keycodes: Vec<Keycode> = mapping
        .keysyms
        .chunks(per)
        .enumerate()
        .filter(|(_, syms)| syms.contains(&keysym))
        .filter_map(|(i, _)| u8::try_from(usize::from(min) + i).ok())
        .collect();
    if keycodes.is_empty() {
        return Err("the keyboard has no such key".into());
    }
    Ok(keycodes)
}
