//! Waiting on conditions with a deadline: the only way the harness waits. The one
//! implementation is weft-core's (`weft_core::testing::wait_for`); this gives its refusal as
//! an `anyhow` error, which is what the harness's callers return.

use std::time::Duration;

/// Polls `probe` until it returns `Some`, or fails with `what` once `timeout` has passed.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    probe: impl FnMut() -> Option<T>,
) -> anyhow::Result<T> {
    Ok(weft_core::testing::wait_for(what, timeout, probe)?)
}
