//! This binary's side of the output rule every Weft binary keeps ([`weft_output`]): a closed
//! pipe ends the run quietly, any other write error is one line and exit 1. Messages carry
//! the name `weft`.

pub use weft_output::Out;

/// The exit code of a run that would end with `code`, by what happened to its output.
pub fn end<W: std::io::Write>(
    out: &mut Out<W>,
    code: std::process::ExitCode,
) -> std::process::ExitCode {
    weft_output::end("weft", out, code)
}

/// One message on standard error, `weft: ` first; dropped when it cannot be written.
pub fn warn(message: impl std::fmt::Display) {
    weft_output::warn("weft", message);
}
