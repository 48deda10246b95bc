//! The credential broker (layer 2): agents hold scoped blastdoor capability tokens, never
//! upstream credentials.
//!
//! - [`SecretStore`]: upstream credentials encrypted at rest (XChaCha20-Poly1305), key in
//!   `BLASTDOOR_HOME/keys`.
//! - Capability tokens (biscuit): [`mint`], [`attenuate`], [`TokenVerifier`] turning an
//!   [`UnverifiedToken`] into a [`VerifiedToken`] and authorising one operation against it, and
//!   the [`TokenRegistry`] of minted tokens and revocations.
//! - [`scan`]: finds raw provider credentials an agent could read in a workspace.
//! - [`init`]: creates the keys, idempotently.
//!
//! This crate must not decide policy (that is `blastdoor-policy`), open network connections,
//! read the clock (callers pass `now`, unix seconds), or let a secret value reach an error
//! message, a log or `Debug` output.

mod error;
mod keys;
mod registry;
pub mod scan;
mod scope;
mod store;
mod token;

pub use error::BrokerError;
pub use keys::{InitReport, SECRET_KEY_FILE, TOKEN_ROOT_KEY_FILE, TOKEN_ROOT_PUBLIC_FILE, init};
pub use registry::{TokenRecord, TokenRegistry};
pub use scope::{GRANTABLE_RISKS, Narrowing, Scope, UpstreamName, format_rfc3339};
pub use store::{SecretListing, SecretName, SecretStore};
pub use token::{
    MintedToken, RevocationSet, RootKey, RootPublicKey, TOKEN_PREFIX, TokenId, TokenVerifier,
    UnverifiedToken, VerifiedToken, attenuate, mint,
};
