//! Random secrets (member tokens, invite codes) and the hashes the store keeps of them.
//!
//! Secrets are 32 random bytes from the OS, base64url without padding, with a prefix that says
//! what they are (`wft_` for member tokens, `wfi_` for invite codes). Only their SHA-256 is
//! ever stored or kept in memory.

use crate::error::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The prefix of member tokens.
pub const TOKEN_PREFIX: &str = "wft_";
/// The prefix of invite codes.
pub const INVITE_PREFIX: &str = "wfi_";

/// A new random secret with the given prefix (256 bits of entropy).
pub fn new_secret(prefix: &str) -> Result<String, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("the OS gave no random bytes: {e}")))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// The SHA-256 of a secret, as stored.
pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.trim().as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_prefixed() {
        let a = new_secret(TOKEN_PREFIX).unwrap_or_default();
        let b = new_secret(TOKEN_PREFIX).unwrap_or_default();
        assert!(a.starts_with(TOKEN_PREFIX) && a.len() == 4 + 43);
        assert_ne!(a, b);
        assert_eq!(hash(&a), hash(&a));
        assert_ne!(hash(&a), hash(&b));
    }
}
