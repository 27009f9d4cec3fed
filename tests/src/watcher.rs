//! The harness's own `org.kde.StatusNotifierWatcher`: what a desktop panel provides. It records
//! each tray item that registers, with the time, so tests find the item and benchmarks time it.

use std::sync::{Arc, Mutex};
use std::time::Instant;
use zbus::message::Header;
use zbus::object_server::SignalEmitter;

/// A registered tray item: its bus name and object path.
#[derive(Debug, Clone)]
pub struct Item {
    pub bus_name: String,
    pub path: String,
    pub at: Instant,
}

#[derive(Default, Clone)]
struct Registry {
    items: Arc<Mutex<Vec<Item>>>,
}

struct WatcherIface {
    registry: Registry,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl WatcherIface {
    async fn register_status_notifier_item(
        &self,
        service: &str,
        #[zbus(header)] header: Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) {
        let at = Instant::now();
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        // appindicator passes its object path; other implementations pass a bus name.
        let (bus_name, path) = if service.starts_with('/') {
            (sender, service.to_owned())
        } else {
            (service.to_owned(), "/StatusNotifierItem".to_owned())
        };
        let name = format!("{bus_name}{path}");
        if let Ok(mut items) = self.registry.items.lock() {
            items.push(Item { bus_name, path, at });
        }
        let _ = Self::status_notifier_item_registered(&emitter, &name).await;
    }

    fn register_status_notifier_host(&self, _service: &str) {}

    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.registry
            .items
            .lock()
            .map(|items| {
                items
                    .iter()
                    .map(|i| format!("{}{}", i.bus_name, i.path))
                    .collect()
            })
            .unwrap_or_default()
    }

    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }

    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }

    #[zbus(signal)]
    async fn status_notifier_item_registered(
        emitter: &SignalEmitter<'_>,
        service: &str,
    ) -> zbus::Result<()>;

    #[zbus(signal)]
    async fn status_notifier_host_registered(emitter: &SignalEmitter<'_>) -> zbus::Result<()>;
}

/// The watcher, serving for as long as it lives.
pub struct Watcher {
    registry: Registry,
    _conn: zbus::blocking::Connection,
}

impl Watcher {
    pub fn start(bus_address: &str) -> anyhow::Result<Watcher> {
        let registry = Registry::default();
        let conn = zbus::blocking::connection::Builder::address(bus_address)?
            .serve_at(
                "/StatusNotifierWatcher",
                WatcherIface {
                    registry: registry.clone(),
                },
            )?
            .name("org.kde.StatusNotifierWatcher")?
            .build()?;
        Ok(Watcher {
            registry,
            _conn: conn,
        })
    }

    /// Every item registered so far, oldest first.
    pub fn items(&self) -> Vec<Item> {
        self.registry
            .items
            .lock()
            .map(|i| i.clone())
            .unwrap_or_default()
    }

    /// Forgets the items registered so far (between app runs on one desktop).
    pub fn clear(&self) {
        if let Ok(mut items) = self.registry.items.lock() {
            items.clear();
        }
    }
}
