//! A server on `127.0.0.1:0` with an in-memory store (or a file), on its own runtime thread,
//! for the integration tests of this crate and of `weft-sync-client` (the `testing` feature).
//! [`proxy`] puts a real nginx or Caddy in front of one.

pub mod proxy;

use crate::error::Error;
use crate::hub::{Config, Hub};
use std::path::Path;
use std::sync::Arc;
use std::thread::JoinHandle;

/// A running server; dropping it stops the server and waits for its thread.
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The server's memory, to create teams or write statuses without HTTP.
    pub hub: Arc<Hub>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts a server with an in-memory SQLite store.
    pub fn start(config: Config) -> Result<TestServer, Error> {
        TestServer::start_on(Path::new(":memory:"), config)
    }

    /// Starts a server on the SQLite file at `db`.
    pub fn start_on(db: &Path, config: Config) -> Result<TestServer, Error> {
        let hub = crate::open(db, config)?;
        let (tx, rx) = std::sync::mpsc::channel();
        let served = Arc::clone(&hub);
        let thread = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                match tokio::net::TcpListener::bind("127.0.0.1:0").await {
                    Ok(listener) => {
                        let addr = listener.local_addr().map_err(|e| e.to_string());
                        let _ = tx.send(addr);
                        let _ = crate::serve(listener, served, std::future::pending()).await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                    }
                }
            });
        });
        let addr = rx
            .recv()
            .map_err(|e| Error::Internal(e.to_string()))?
            .map_err(Error::Internal)?;
        Ok(TestServer {
            url: format!("http://{addr}"),
            hub,
            thread: Some(thread),
        })
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.hub.shutdown_token().cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
