//! Where a program's standard output (or standard error) goes when a test checks that it
//! survives its reader: a pipe whose reader is gone, or a full disk.

pub use weft_output::testing::Sink;
