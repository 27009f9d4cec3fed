//! The listener [`crate::serve`] accepts on: TCP keep-alive and `TCP_USER_TIMEOUT` on every
//! connection (a peer that vanished is noticed in about [`USER_TIMEOUT`]), and a write-stall
//! guard that drops a connection whose socket accepts no bytes for the configured time.
//!
//! The guard is what ends the stream of a client that never reads: once its socket buffers
//! are full, hyper stops polling the stream's body, so the body itself can never notice.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

/// Idle time before the first keep-alive probe, and between probes.
pub const KEEPALIVE: Duration = Duration::from_secs(30);
/// How long sent data may stay unacknowledged before the kernel drops the connection.
pub const USER_TIMEOUT: Duration = Duration::from_secs(30);

/// A TCP listener whose connections are [`Guarded`].
#[derive(Debug)]
pub struct GuardedListener {
    inner: TcpListener,
    stall_timeout: Duration,
}

impl GuardedListener {
    /// Wraps `inner`; a connection whose writes make no progress for `stall_timeout` fails.
    pub fn new(inner: TcpListener, stall_timeout: Duration) -> GuardedListener {
        GuardedListener {
            inner,
            stall_timeout,
        }
    }
}

/// The client's address, for [`axum::extract::ConnectInfo`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, GuardedListener>>
    for Peer
{
    fn connect_info(stream: axum::serve::IncomingStream<'_, GuardedListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl axum::serve::Listener for GuardedListener {
    type Io = Guarded;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            match self.inner.accept().await {
                Ok((stream, addr)) => {
                    if let Err(e) = tune(&stream) {
                        log::debug!("could not set keep-alive on a connection from {addr}: {e}");
                    }
                    let io = Guarded {
                        io: stream,
                        stall_timeout: self.stall_timeout,
                        stalled: None,
                    };
                    return (io, addr);
                }
                // Out of file descriptors and the like: wait instead of spinning.
                Err(e) => {
                    log::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

fn tune(stream: &TcpStream) -> io::Result<()> {
    let socket = socket2::SockRef::from(stream);
    let keepalive = socket2::TcpKeepalive::new()
        .with_time(KEEPALIVE)
        .with_interval(KEEPALIVE);
    socket.set_tcp_keepalive(&keepalive)?;
    #[cfg(any(target_os = "linux", target_os = "android"))]
    socket.set_tcp_user_timeout(Some(USER_TIMEOUT))?;
    Ok(())
}

/// A connection whose writes fail with `TimedOut` once they have made no progress for the
/// stall timeout.
#[derive(Debug)]
pub struct Guarded {
    io: TcpStream,
    stall_timeout: Duration,
    /// Set while a write waits for room in the socket.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl Guarded {
    fn written<T>(
        &mut self,
        cx: &mut Context<'_>,
        result: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if result.is_ready() {
            self.stalled = None;
            return result;
        }
        let timeout = self.stall_timeout;
        let stalled = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(timeout)));
        match stalled.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client accepted no bytes for too long",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write(cx, buf);
        this.written(cx, result)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        this.written(cx, result)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::serve::Listener;

    #[tokio::test]
    async fn accepted_sockets_have_keep_alive_and_a_user_timeout() -> io::Result<()> {
        let inner = TcpListener::bind("127.0.0.1:0").await?;
        let addr = inner.local_addr()?;
        let mut listener = GuardedListener::new(inner, Duration::from_secs(1));
        let _client = TcpStream::connect(addr).await?;
        let (accepted, _) = listener.accept().await;
        let socket = socket2::SockRef::from(&accepted.io);
        assert!(socket.keepalive()?);
        assert_eq!(socket.keepalive_time()?, KEEPALIVE);
        #[cfg(any(target_os = "linux", target_os = "android"))]
        assert_eq!(socket.tcp_user_timeout()?, Some(USER_TIMEOUT));
        Ok(())
    }
}
