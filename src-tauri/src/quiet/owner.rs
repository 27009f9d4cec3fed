//! Who owns `org.freedesktop.Notifications`: a thread follows `NameOwnerChanged` for that name
//! on the session bus (blocked on the bus connection, no polling) and tells the quiet worker
//! each new owner, so a notification server that restarts, or another one that takes over,
//! during focus is silenced too.

use super::Message;
use futures_core::Stream;
use std::future::poll_fn;
use std::pin::Pin;
use std::sync::mpsc::Sender;
use zbus::message::Type;
use zbus::{MatchRule, MessageStream};

/// The well-known name every notification server owns.
pub const NAME: &str = "org.freedesktop.Notifications";
/// The object every notification server serves its interface on.
pub const PATH: &str = "/org/freedesktop/Notifications";

/// Starts the watcher thread. It reports the owner at the start (after it has subscribed, so no
/// change can fall in between), then every change, and ends when the worker is gone.
pub fn watch(tx: Sender<Message>) {
    let spawned = std::thread::Builder::new()
        .name("weft-quiet-owner".into())
        .spawn(move || {
            if let Err(e) = zbus::block_on(follow(&tx)) {
                log::warn!(
                    "cannot follow the notification server on the session bus ({e}); a server that restarts during focus is not silenced again"
                );
            }
        });
    if let Err(e) = spawned {
        log::warn!("cannot follow the notification server: {e}");
    }
}

async fn follow(tx: &Sender<Message>) -> zbus::Result<()> {
    let conn = zbus::Connection::session().await?;
    let rule = MatchRule::builder()
        .msg_type(Type::Signal)
        .sender("org.freedesktop.DBus")
        .interface("org.freedesktop.DBus")
        .member("NameOwnerChanged")
        .add_arg(NAME)
        .build()?;
    let mut stream = MessageStream::for_match_rule(rule, &conn, None).await?;
    let now = conn
        .call_method(
            Some("org.freedesktop.DBus"),
            "/org/freedesktop/DBus",
            Some("org.freedesktop.DBus"),
            "GetNameOwner",
            &(NAME,),
        )
        .await
        .ok()
        .and_then(|reply| reply.body().deserialize::<String>().ok());
    if tx.send(Message::Owner(now)).is_err() {
        return Ok(());
    }
    while let Some(message) = poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await {
        let message = message?;
        let Ok((name, _old, new)) = message.body().deserialize::<(String, String, String)>() else {
            continue;
        };
        if name != NAME {
            continue;
        }
        let owner = (!new.is_empty()).then_some(new);
        if tx.send(Message::Owner(owner)).is_err() {
            return Ok(());
        }
    }
    Ok(())
}
