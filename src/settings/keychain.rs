//! The OS keychain as a source of secrets: macOS Keychain, Windows Credential Manager, or the
//! Secret Service on Linux, through `keyring-core`. Service names are `mem0-jwt`,
//! `mem0-db-password`, `mem0-database-url` and `mem0-token`, all under the account `mem0`.
//!
//! A machine without a usable keychain (a headless server, a container without D-Bus) must not
//! fail or slow down: the store is opened only when a lookup reaches it, and any failure makes
//! the keychain "unavailable", logged at debug level and otherwise skipped.

use std::sync::{Arc, OnceLock};

use keyring_core::{CredentialStore, Error as KeyringError};

use super::Secret;
use super::keys::{KEYCHAIN_ACCOUNT, SecretName};

/// What a lookup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Secret),
    Missing,
    /// No keychain could be used; the text says why.
    Unavailable(String),
}

/// A handle on the keychain, opened lazily.
pub struct Keychain {
    opener: Box<dyn Fn() -> Result<Arc<CredentialStore>, String> + Send + Sync>,
    store: OnceLock<Result<Arc<CredentialStore>, String>>,
}

impl std::fmt::Debug for Keychain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keychain")
            .field("opened", &self.store.get().map(|s| s.is_ok()))
            .finish()
    }
}

impl Keychain {
    /// The platform's keychain.
    pub fn platform() -> Self {
        Keychain::with_opener(open_platform_store)
    }

    /// A given store (tests use `keyring_core::mock::Store`).
    pub fn with_store(store: Arc<CredentialStore>) -> Self {
        Keychain::with_opener(move || Ok(store.clone()))
    }

    /// A keychain that is never there.
    pub fn disabled(reason: &'static str) -> Self {
        Keychain::with_opener(move || Err(reason.to_string()))
    }

    fn with_opener(
        opener: impl Fn() -> Result<Arc<CredentialStore>, String> + Send + Sync + 'static,
    ) -> Self {
        Keychain {
            opener: Box::new(opener),
            store: OnceLock::new(),
        }
    }

    fn store(&self) -> Result<&Arc<CredentialStore>, String> {
        self.store
            .get_or_init(|| {
                let opened = (self.opener)();
                if let Err(reason) = &opened {
                    tracing::debug!(reason = %reason, "the OS keychain is unavailable; skipping it");
                }
                opened
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    pub fn get(&self, name: SecretName) -> Lookup {
        let store = match self.store() {
            Ok(store) => store,
            Err(reason) => return Lookup::Unavailable(reason),
        };
        let entry = match store.build(name.keychain_service(), KEYCHAIN_ACCOUNT, None) {
            Ok(entry) => entry,
            Err(e) => return Lookup::Unavailable(describe(&e)),
        };
        match entry.get_password() {
            Ok(value) if value.is_empty() => Lookup::Missing,
            Ok(value) => Lookup::Found(Secret::new(value)),
            Err(KeyringError::NoEntry) => Lookup::Missing,
            Err(e) => {
                tracing::debug!(service = name.keychain_service(), reason = %describe(&e), "keychain lookup failed; skipping it");
                Lookup::Unavailable(describe(&e))
            }
        }
    }

    pub fn set(&self, name: SecretName, value: &Secret) -> Result<(), String> {
        let store = self.store()?;
        let entry = store
            .build(name.keychain_service(), KEYCHAIN_ACCOUNT, None)
            .map_err(|e| describe(&e))?;
        entry.set_password(value.expose()).map_err(|e| describe(&e))
    }

    /// Stores the secret and reads it back, so a keychain that accepts a value and then loses
    /// or changes it (some Secret Service setups do) is caught here, not when the server
    /// starts. The error says why, never the value.
    pub fn set_checked(&self, name: SecretName, value: &Secret) -> Result<(), String> {
        self.set(name, value)?;
        match self.get(name) {
            Lookup::Found(read) if read == *value => Ok(()),
            Lookup::Found(_) => Err("it reads back a different value".into()),
            Lookup::Missing => Err("it does not keep the value".into()),
            Lookup::Unavailable(reason) => Err(reason),
        }
    }

    /// Deletes the secret; `Ok(false)` if there was none.
    pub fn delete(&self, name: SecretName) -> Result<bool, String> {
        let store = self.store()?;
        let entry = store
            .build(name.keychain_service(), KEYCHAIN_ACCOUNT, None)
            .map_err(|e| describe(&e))?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(KeyringError::NoEntry) => Ok(false),
            Err(e) => Err(describe(&e)),
        }
    }

    /// Whether a store could be opened, and if not why.
    pub fn availability(&self) -> Result<(), String> {
        self.store().map(|_| ())
    }
}

/// Errors without any secret: keyring errors can carry the bytes they failed to decode.
fn describe(error: &KeyringError) -> String {
    match error {
        KeyringError::PlatformFailure(e) => format!("the keychain failed: {e}"),
        KeyringError::NoStorageAccess(e) => {
            format!("the keychain is locked or access was denied: {e}")
        }
        KeyringError::NoEntry => "no such entry".into(),
        KeyringError::BadEncoding(_) => "the stored value is not UTF-8 text".into(),
        KeyringError::BadDataFormat(_, _) => "the stored value has an unexpected format".into(),
        KeyringError::NoDefaultStore => "no keychain store is available".into(),
        other => format!("the keychain failed: {other}"),
    }
}

/// Tells what to install when no keychain is there.
pub const INSTALL_HINT: &str = "on Linux, run a Secret Service (GNOME Keyring or KeePassXC) in a desktop session with D-Bus; on a server, use the *_FILE variables instead";

#[cfg(target_os = "linux")]
fn open_platform_store() -> Result<Arc<CredentialStore>, String> {
    // Without a session bus there is no Secret Service; don't let D-Bus autolaunch try.
    let has_bus = std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some()
        || std::env::var_os("XDG_RUNTIME_DIR")
            .map(|dir| std::path::Path::new(&dir).join("bus").exists())
            .unwrap_or(false);
    if !has_bus {
        return Err("no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is unset)".into());
    }
    let store: Arc<CredentialStore> =
        zbus_secret_service_keyring_store::Store::new().map_err(|e| describe(&e))?;
    Ok(store)
}

#[cfg(target_os = "macos")]
fn open_platform_store() -> Result<Arc<CredentialStore>, String> {
    let store: Arc<CredentialStore> =
        apple_native_keyring_store::keychain::Store::new().map_err(|e| describe(&e))?;
    Ok(store)
}

#[cfg(windows)]
fn open_platform_store() -> Result<Arc<CredentialStore>, String> {
    let store: Arc<CredentialStore> =
        windows_native_keyring_store::Store::new().map_err(|e| describe(&e))?;
    Ok(store)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn open_platform_store() -> Result<Arc<CredentialStore>, String> {
    Err("this platform has no supported keychain".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The keyring crate's own mock store, in memory.
    fn mock() -> Keychain {
        Keychain::with_store(keyring_core::mock::Store::new().unwrap())
    }

    #[test]
    fn set_get_delete_round_trip() {
        let keychain = mock();
        assert_eq!(keychain.get(SecretName::JwtSecret), Lookup::Missing);
        keychain
            .set(SecretName::JwtSecret, &Secret::new("s3cret"))
            .unwrap();
        assert_eq!(
            keychain.get(SecretName::JwtSecret),
            Lookup::Found(Secret::new("s3cret"))
        );
        assert_eq!(keychain.get(SecretName::Token), Lookup::Missing);
        assert_eq!(keychain.delete(SecretName::JwtSecret), Ok(true));
        assert_eq!(keychain.delete(SecretName::JwtSecret), Ok(false));
        assert_eq!(keychain.get(SecretName::JwtSecret), Lookup::Missing);
    }

    #[test]
    fn an_unusable_keychain_is_skipped_not_fatal() {
        let keychain = Keychain::disabled("no keychain here");
        assert_eq!(
            keychain.get(SecretName::Token),
            Lookup::Unavailable("no keychain here".into())
        );
        assert!(keychain.set(SecretName::Token, &Secret::new("x")).is_err());
    }
}
