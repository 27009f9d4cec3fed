//! What every Weft binary prints goes through here: standard output through one [`Out`]
//! writer that commands write to with `writeln!` (an `io::Result`, never a panic), and
//! messages to standard error through [`warn`], which drops what it cannot write.
//!
//! [`Out`] remembers the first write error, so `main` ends the run by what happened to the
//! output rather than by how far a command got ([`end`]): a reader that went away (a closed
//! pipe, as in `weft log | head -1`) ends the run quietly with exit 0; any other write error
//! (a full disk, `> /dev/full`) is said in one line on standard error and exits 1. The same
//! rule for `weft`, `weft-app`, `weft-sync` and `weft-sync-load`; std only.

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

    /// Records a write error that happened outside this writer (clap printing `--help`).
    pub fn note(&mut self, error: io::Error) {
        if self.failed.is_none() {
            self.failed = Some(error);
        }
    }

    /// The command line was not run because its parser printed something instead: `--help` or
    /// `--version` to standard output (a write error there is this output's failure), or a
    /// usage error to standard error (`to_stderr`). Returns the parser's exit code (clap's
    /// `Error::print`, `use_stderr` and `exit_code`; 2 when it does not fit).
    pub fn parser_printed(
        &mut self,
        printed: io::Result<()>,
        to_stderr: bool,
        exit_code: i32,
    ) -> ExitCode {
        if !to_stderr {
            if let Err(error) = printed {
                self.note(error);
            }
        }
        ExitCode::from(u8::try_from(exit_code).unwrap_or(2))
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

/// The exit code of a run of `program` that would end with `code`, by what happened to its
/// output: a closed pipe is success, another write error is said in one line and is a failure.
pub fn end<W: Write>(program: &str, out: &mut Out<W>, code: ExitCode) -> ExitCode {
    match out.finish() {
        Ok(()) => code,
        Err(Failure::Closed) => ExitCode::SUCCESS,
        Err(Failure::Failed(line)) => {
            warn(program, line);
            ExitCode::FAILURE
        }
    }
}

/// One message on standard error, `program: ` first. A standard error that cannot be written
/// to is not worth a panic: the message is dropped.
pub fn warn(program: &str, message: impl std::fmt::Display) {
    say(format_args!("{program}: {message}"));
}

/// A line on standard error as it is (a progress line). Dropped when it cannot be written.
pub fn say(line: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{line}");
}

#[cfg(feature = "testing")]
pub mod testing;

#[cfg(test)]
mod tests {
    use super::*;

    /// The kind of error a write ended with (`None`: it worked).
    fn kind(result: io::Result<()>) -> Option<io::ErrorKind> {
        result.err().map(|e| e.kind())
    }

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
        assert_eq!(
            kind(writeln!(closed, "first line")),
            Some(io::ErrorKind::BrokenPipe)
        );
        assert!(closed.has_failed());
        assert_eq!(closed.finish(), Err(Failure::Closed));

        let mut full = Out::new(Failing {
            ok: 0,
            kind: io::ErrorKind::StorageFull,
        });
        assert_eq!(kind(writeln!(full, "x")), Some(io::ErrorKind::StorageFull));
        match full.finish() {
            Err(Failure::Failed(line)) => {
                assert!(line.starts_with("cannot write the output: "), "{line}");
                assert!(!line.contains('\n'), "{line}");
            }
            other => panic!("expected a failure, got {other:?}"),
        }

        let mut fine = Out::new(Vec::new());
        assert_eq!(kind(writeln!(fine, "hello")), None);
        assert_eq!(fine.finish(), Ok(()));
        assert_eq!(fine.inner, b"hello\n");
    }

    #[test]
    fn the_first_failure_is_the_one_reported() {
        let mut out = Out::new(Failing {
            ok: 0,
            kind: io::ErrorKind::BrokenPipe,
        });
        assert_eq!(kind(writeln!(out, "x")), Some(io::ErrorKind::BrokenPipe));
        out.note(io::Error::from(io::ErrorKind::StorageFull));
        assert_eq!(out.finish(), Err(Failure::Closed));
    }

    #[test]
    fn the_exit_code_follows_the_output() {
        let mut closed = Out::new(Failing {
            ok: 0,
            kind: io::ErrorKind::BrokenPipe,
        });
        assert_eq!(
            kind(writeln!(closed, "help")),
            Some(io::ErrorKind::BrokenPipe)
        );
        assert_eq!(end("t", &mut closed, ExitCode::from(2)), ExitCode::SUCCESS);
        let mut full = Out::new(Failing {
            ok: 0,
            kind: io::ErrorKind::StorageFull,
        });
        assert_eq!(
            kind(writeln!(full, "help")),
            Some(io::ErrorKind::StorageFull)
        );
        assert_eq!(end("t", &mut full, ExitCode::SUCCESS), ExitCode::FAILURE);
        let mut fine = Out::new(Vec::new());
        assert_eq!(kind(writeln!(fine, "help")), None);
        assert_eq!(end("t", &mut fine, ExitCode::from(2)), ExitCode::from(2));
    }
}
