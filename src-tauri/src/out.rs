//! Everything `weft-app` prints goes through here: standard output (`--help`, `--version`, the
//! line a second instance says) through one [`Out`] writer written to with `writeln!` (an
//! `io::Result`, never a panic), and messages to standard error through [`warn`].
//!
//! The rule is the `weft` CLI's: [`Out`] remembers the first write error, and [`end`] ends the
//! run by it. A reader that went away (a closed pipe, as in `weft-app --help | head -1`) ends
//! the run quietly with exit 0; any other write error (a full disk, `> /dev/full`) is said in
//! one line on standard error and exits 1. The log goes to standard error through env_logger,
//! which drops what it cannot write.

use std::io::{self, Write};
use std::process::ExitCode;

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

    /// True once a write has failed: whatever error a command returns after that is this one.
    pub fn has_failed(&self) -> bool {
        self.failed.is_some()
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

/// The exit code of a run that would end with `code`, by what happened to its output: a
/// closed pipe is success, another write error is said in one line and is a failure.
pub fn end<W: Write>(out: &mut Out<W>, code: ExitCode) -> ExitCode {
    match out.finish() {
        Ok(()) => code,
        Err(Failure::Closed) => ExitCode::SUCCESS,
        Err(Failure::Failed(line)) => {
            warn(line);
            ExitCode::FAILURE
        }
    }
}

/// One line (or a few, for the help after a usage error) on standard error, `weft-app: `
/// first. A standard error that cannot be written to is not worth a panic: it is dropped.
pub fn warn(message: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "weft-app: {message}");
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
        assert!(closed.has_failed());
        assert_eq!(closed.finish(), Err(Failure::Closed));

        let mut full = Out::new(Failing {
            ok: 0,
            kind: io::ErrorKind::StorageFull,
        });
        assert!(writeln!(full, "x").is_err());
        match full.finish() {
            Err(Failure::Failed(line)) => {
                assert!(line.starts_with("cannot write the output: "), "{line}");
                assert!(!line.contains('\n'), "{line}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }

        let mut fine = Out::new(Vec::new());
        assert!(writeln!(fine, "hello").is_ok());
        assert_eq!(fine.finish(), Ok(()));
        assert_eq!(fine.inner, b"hello\n");
    }

    #[test]
    fn the_exit_code_follows_the_output() {
        let mut closed = Out::new(Failing {
            ok: 0,
            kind: io::ErrorKind::BrokenPipe,
        });
        assert!(writeln!(closed, "help").is_err());
        assert_eq!(end(&mut closed, ExitCode::from(2)), ExitCode::SUCCESS);
        let mut full = Out::new(Failing {
            ok: 0,
            kind: io::ErrorKind::StorageFull,
        });
        assert!(writeln!(full, "help").is_err());
        assert_eq!(end(&mut full, ExitCode::SUCCESS), ExitCode::FAILURE);
        let mut fine = Out::new(Vec::new());
        assert!(writeln!(fine, "help").is_ok());
        assert_eq!(end(&mut fine, ExitCode::from(2)), ExitCode::from(2));
    }
}
