//! For tests of the binaries' output (the `testing` feature): where a child's standard output
//! (or standard error) goes when a test checks that the program survives its reader.

use std::process::Stdio;

/// A broken destination for a child's output.
#[derive(Clone, Copy, Debug)]
pub enum Sink {
    /// A pipe whose read end is closed before the program starts: every write is EPIPE.
    ClosedPipe,
    /// `/dev/full`: every write is ENOSPC.
    DevFull,
}

impl Sink {
    /// A fresh `Stdio` for one child.
    pub fn stdio(self) -> std::io::Result<Stdio> {
        Ok(match self {
            Sink::ClosedPipe => {
                let (reader, writer) = std::io::pipe()?;
                drop(reader);
                Stdio::from(writer)
            }
            Sink::DevFull => {
                Stdio::from(std::fs::OpenOptions::new().write(true).open("/dev/full")?)
            }
        })
    }
}
