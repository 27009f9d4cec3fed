//! Everything `weft-sync-load` prints goes through here: the table on standard output through
//! one [`Out`] writer written to with `writeln!` (an `io::Result`, never a panic), progress and
//! problems on standard error through [`say`] and [`warn`].
//!
//! The rule is the `weft` CLI's: [`Out`] remembers the first write error, and `main` ends the
//! run by it. A reader that went away (a closed pipe, as in `make bench-sync | head -3`) costs
//! nothing but the rest of the table, and the exit code stays the run's own; any other write
//! error (a full disk, `> /dev/full`) is said in one line on standard error and exits 1.

use std::io::{self, Write};

/// Standard output, or any writer in tests, that remembers its first failure.
pub struct Out<W: Write = io::Stdout> {
    inner: W,
    failed: Option<io::Error>,
}

/// How writing the output ended, when it did not succeed.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The reader went away (EPIPE): nobody wants the rest, so the command ends quietly.
    Closed,
    /// Any other write error, as one line for people.
    Failed(String),
}

impl Out<io::Stdout> {
    pub fn stdout() -> Out<io::Stdout> {
        Out::new(io::stdout())
    }
}

impl<W: Write> Out<W> {
    pub fn new(inner: W) -> Out<W> {
        Out {
            inner,
            failed: None,
        }
    }

    /// Records a write error that happened outside this writer (clap printing `--help`).
    pub fn note(&mut self, error: io::Error) {
        if self.failed.is_none() {
            self.failed = Some(error);
        }
    }

    /// Flushes what is buffered and says how the output ended.
    pub fn finish(&mut self) -> Result<(), Failure> {
        // Flushing may itself be the first failure (output without a final newline).
        let _ = self.flush();
        match self.failed.take() {
            None => Ok(()),
            Some(e) if e.kind() == io::ErrorKind::BrokenPipe => Err(Failure::Closed),
            Some(e) => Err(Failure::Failed(format!(
                "cannot write the output: {}",
                describe(&e)
            ))),
        }
    }

    fn check<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            if e.kind() != io::ErrorKind::Interrupted && self.failed.is_none() {
                self.failed = Some(io::Error::new(e.kind(), e.to_string()));
            }
        }
        result
    }
}

impl<W: Write> Write for Out<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let result = self.inner.write(buf);
        self.check(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = self.inner.flush();
        self.check(result)
    }
}

/// "No space left on device", without Rust's "(os error 28)".
fn describe(e: &io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

/// One line on standard error, `weft-sync-load: ` first.
pub fn warn(message: impl std::fmt::Display) {
    say(format_args!("weft-sync-load: {message}"));
}

/// One line on standard error as it is (progress). A standard error that cannot be written to
/// is not worth a panic: the line is dropped.
pub fn say(line: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose writes fail with `kind` after `ok` bytes.
    struct Failing {
        ok: usize,
        kind: io::ErrorKind,
    }

    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::from(self.kind));
            }
            let n = buf.len().min(self.ok);
            self.ok -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_closed_pipe_ends_quietly_and_other_errors_say_one_line() {
        let mut closed = Out::new(Failing {
            ok: 3,
            kind: io::ErrorKind::BrokenPipe,
        });
        assert!(writeln!(closed, "first line").is_err());
        assert_eq!(closed.finish(), Err(Failure::Closed));

        let mut full = Out::new(Failing {
            ok: 0,
            kind: io::ErrorKind::StorageFull,
        });
        assert!(writeln!(full, "x").is_err());
        full.note(io::Error::from(io::ErrorKind::BrokenPipe));
        match full.finish() {
            Err(Failure::Failed(line)) => {
                assert!(line.starts_with("cannot write the output: "), "{line}");
                assert!(!line.contains('\n'), "{line}");
            }
            other => panic!("expected the first failure, got {other:?}"),
        }

        let mut fine = Out::new(Vec::new());
        assert!(writeln!(fine, "hello").is_ok());
        assert_eq!(fine.finish(), Ok(()));
        assert_eq!(fine.inner, b"hello\n");
    }
}
