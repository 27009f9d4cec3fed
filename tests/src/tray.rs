//! Reads and clicks the app's tray menu over `com.canonical.dbusmenu`, as a panel would, and
//! reads the tray item's icon.

use crate::watcher::Item;
use anyhow::Context;
use std::collections::HashMap;
use zbus::zvariant::{OwnedObjectPath, OwnedValue, Value};

/// A dbusmenu layout node: id, properties, children (each a variant holding a node).
type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

/// One menu entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub id: i32,
    pub label: String,
    pub enabled: bool,
    pub separator: bool,
    /// A submenu's entries, in order.
    pub children: Vec<Entry>,
}

/// A tray item on the bus.
pub struct TrayItem<'a> {
    conn: &'a zbus::blocking::Connection,
    item: Item,
}

impl<'a> TrayItem<'a> {
    pub fn new(conn: &'a zbus::blocking::Connection, item: Item) -> TrayItem<'a> {
        TrayItem { conn, item }
    }

    fn item_proxy(&self) -> anyhow::Result<zbus::blocking::Proxy<'a>> {
        Ok(zbus::blocking::Proxy::new(
            self.conn,
            self.item.bus_name.clone(),
            self.item.path.clone(),
            "org.kde.StatusNotifierItem",
        )?)
    }

    fn menu_proxy(&self) -> anyhow::Result<zbus::blocking::Proxy<'a>> {
        let path: OwnedObjectPath = self
            .item_proxy()?
            .get_property("Menu")
            .context("the tray item has no Menu")?;
        Ok(zbus::blocking::Proxy::new(
            self.conn,
            self.item.bus_name.clone(),
            path,
            "com.canonical.dbusmenu",
        )?)
    }

    /// The icon as the item publishes it: `IconName` (a theme name or, for appindicator, a
    /// file path) plus the icon file's bytes when it is a path.
    pub fn icon(&self) -> anyhow::Result<(String, Option<Vec<u8>>)> {
        // Read through org.freedesktop.DBus.Properties each time: proxies cache properties.
        let name: String = get_uncached(self.conn, &self.item, "IconName")?;
        let theme: String =
            get_uncached(self.conn, &self.item, "IconThemePath").unwrap_or_default();
        let mut candidates = vec![std::path::PathBuf::from(&name)];
        if !theme.is_empty() {
            candidates.push(std::path::Path::new(&theme).join(format!("{name}.png")));
        }
        let bytes = candidates.iter().find_map(|p| std::fs::read(p).ok());
        Ok((name, bytes))
    }

    /// The top-level menu entries, in order.
    pub fn entries(&self) -> anyhow::Result<Vec<Entry>> {
        let reply = self
            .menu_proxy()?
            .call_method("GetLayout", &(0i32, -1i32, Vec::<String>::new()))?;
        let (_revision, (_id, _props, children)): (u32, Layout) = reply.body().deserialize()?;
        Ok(children.iter().filter_map(|c| entry(c)).collect())
    }

    /// The entry with exactly this label.
    pub fn find(&self, label: &str) -> anyhow::Result<Entry> {
        let entries = self.entries()?;
        entries
            .iter()
            .find(|e| e.label == label)
            .cloned()
            .with_context(|| format!("no menu entry {label:?} in {entries:?}"))
    }

    /// Clicks the entry with this label, as a panel does.
    pub fn click(&self, label: &str) -> anyhow::Result<()> {
        let entry = self.find(label)?;
        self.menu_proxy()?
            .call_method("Event", &(entry.id, "clicked", Value::from(0i32), 0u32))?;
        Ok(())
    }
}

fn get_uncached<T>(
    conn: &zbus::blocking::Connection,
    item: &Item,
    property: &str,
) -> anyhow::Result<T>
where
    T: TryFrom<OwnedValue>,
    T::Error: Into<zbus::zvariant::Error>,
{
    let reply = conn.call_method(
        Some(item.bus_name.as_str()),
        item.path.as_str(),
        Some("org.freedesktop.DBus.Properties"),
        "Get",
        &("org.kde.StatusNotifierItem", property),
    )?;
    let value: OwnedValue = reply.body().deserialize()?;
    T::try_from(value).map_err(|e| anyhow::anyhow!("{property}: {}", e.into()))
}

fn entry(value: &Value<'_>) -> Option<Entry> {
    let value = match value {
        Value::Value(inner) => inner.as_ref(),
        other => other,
    };
    let Value::Structure(structure) = value else {
        return None;
    };
    let fields = structure.fields();
    let Some(Value::I32(id)) = fields.first() else {
        return None;
    };
    let mut found = Entry {
        id: *id,
        label: String::new(),
        enabled: true,
        separator: false,
        children: Vec::new(),
    };
    if let Some(Value::Array(children)) = fields.get(2) {
        found.children = children.iter().filter_map(entry).collect();
    }
    if let Some(Value::Dict(props)) = fields.get(1) {
        for (key, value) in props.iter() {
            let value = match value {
                Value::Value(inner) => inner.as_ref(),
                other => other,
            };
            match (key, value) {
                (Value::Str(k), Value::Str(v)) if k.as_str() == "label" => {
                    found.label = v.as_str().to_owned()
                }
                (Value::Str(k), Value::Str(v)) if k.as_str() == "type" => {
                    found.separator = v.as_str() == "separator"
                }
                (Value::Str(k), Value::Bool(v)) if k.as_str() == "enabled" => found.enabled = *v,
                _ => {}
            }
        }
    }
    Some(found)
}
