//! Who is asking: users, roles, passwords and credentials.
//!
//! Every request but `/health`, the login and the customer's chat start carries a credential:
//! a browser session (cookie `sb_session`), an API token for integrations, or a chat
//! customer's token, sent as `Authorization: Bearer ...`, as the cookie, or (for WebSockets,
//! which browsers open without headers) as `?access_token=...`. A credential belongs to one
//! tenant, so the tenant of every request follows from it and a user of one tenant has no
//! way to name another's data.
//!
//! Secrets are 32 random bytes shown once; storage keeps only their SHA-256. Passwords are
//! Argon2id hashes. The [`Keyring`] is the in-memory copy of every tenant's users and live
//! credentials; tenants' dispatchers write it after their changes are stored, handlers
//! read it.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use argon2::Argon2;
use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sb_storage::{Accounts, TokenRecord, UserRecord};
use sha2::{Digest, Sha256};

/// How long a browser session lasts.
pub const SESSION_TTL_MS: i64 = 12 * 3600 * 1000;
/// How long a chat customer's token lasts: long enough to come back after a reload.
pub const CUSTOMER_TTL_MS: i64 = 24 * 3600 * 1000;
/// Shortest accepted password.
pub const MIN_PASSWORD: usize = 8;

/// What a user may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Their own work: offers, conversations, presence.
    Agent,
    /// Everything live in the tenant, agents' states and skills; no user management.
    Supervisor,
    /// Everything, users and credentials included.
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    pub fn from_name(name: &str) -> Option<Role> {
        match name {
            "agent" => Some(Role::Agent),
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// The kind of a credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    Session,
    Api,
    Customer,
}

impl TokenKind {
    pub fn name(self) -> &'static str {
        match self {
            TokenKind::Session => "session",
            TokenKind::Api => "api",
            TokenKind::Customer => "customer",
        }
    }

    fn from_name(name: &str) -> Option<TokenKind> {
        match name {
            "session" => Some(TokenKind::Session),
            "api" => Some(TokenKind::Api),
            "customer" => Some(TokenKind::Customer),
            _ => None,
        }
    }
}

/// Who a request comes from, once its credential is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub tenant: Arc<str>,
    /// The user, or `customer` for a chat customer.
    pub username: String,
    /// `None` for a chat customer.
    pub role: Option<Role>,
    /// The agent id the user works as, if any.
    pub agent: Option<String>,
    pub kind: TokenKind,
    /// A customer's one interaction.
    pub interaction: Option<u64>,
    /// The hash of the credential used, to revoke it.
    pub token_hash: String,
    /// The client's address, for the audit log.
    pub source: String,
}

impl Principal {
    /// Whether the user has at least this role (customers have none).
    pub fn at_least(&self, role: Role) -> bool {
        self.role.is_some_and(|r| r >= role)
    }

    /// The audit log's name of the actor.
    pub fn actor(&self) -> String {
        match self.kind {
            TokenKind::Customer => format!("customer:{}", self.interaction.unwrap_or_default()),
            TokenKind::Api => format!("{} (api token)", self.username),
            TokenKind::Session => self.username.clone(),
        }
    }
}

/// Why a credential was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no credential: sign in, or send Authorization: Bearer TOKEN")]
    Missing,
    #[error("unknown or revoked credential")]
    Unknown,
    #[error("the credential expired; sign in again")]
    Expired,
    #[error("the user is disabled")]
    Disabled,
}

/// A credential in memory.
#[derive(Clone, Debug)]
struct Credential {
    tenant: Arc<str>,
    record: TokenRecord,
}

/// Every tenant's users and live credentials.
#[derive(Debug, Default)]
pub struct Keyring {
    tokens: HashMap<String, Credential>,
    users: HashMap<(Arc<str>, String), UserRecord>,
}

/// The keyring as shared between dispatchers (writers) and handlers (readers).
pub type SharedKeyring = Arc<RwLock<Keyring>>;

impl Keyring {
    /// Replaces a tenant's entries with what its storage holds.
    pub fn load(&mut self, tenant: &Arc<str>, accounts: Accounts) {
        self.tokens.retain(|_, c| c.tenant != *tenant);
        self.users.retain(|(t, _), _| t != tenant);
        for user in accounts.users {
            self.users.insert((tenant.clone(), user.username.clone()), user);
        }
        for record in accounts.tokens {
            self.tokens.insert(record.hash.clone(), Credential { tenant: tenant.clone(), record });
        }
    }

    pub fn put_user(&mut self, tenant: &Arc<str>, user: UserRecord) {
        self.users.insert((tenant.clone(), user.username.clone()), user);
    }

    pub fn put_token(&mut self, tenant: &Arc<str>, record: TokenRecord) {
        self.tokens.insert(record.hash.clone(), Credential { tenant: tenant.clone(), record });
    }

    pub fn revoke(&mut self, hash: &str) {
        self.tokens.remove(hash);
    }

    pub fn user(&self, tenant: &str, username: &str) -> Option<&UserRecord> {
        self.users.get(&(Arc::from(tenant), username.to_string()))
    }

    pub fn users(&self, tenant: &str) -> Vec<UserRecord> {
        let mut users: Vec<UserRecord> =
            self.users.iter().filter(|((t, _), _)| &**t == tenant).map(|(_, u)| u.clone()).collect();
        users.sort_by(|a, b| a.username.cmp(&b.username));
        users
    }

    /// A tenant's credentials of the given kinds.
    pub fn tokens(&self, tenant: &str, kinds: &[TokenKind]) -> Vec<TokenRecord> {
        let mut tokens: Vec<TokenRecord> = self
            .tokens
            .values()
            .filter(|c| &*c.tenant == tenant)
            .filter(|c| TokenKind::from_name(&c.record.kind).is_some_and(|k| kinds.contains(&k)))
            .map(|c| c.record.clone())
            .collect();
        tokens.sort_by_key(|t| t.created_at_ms);
        tokens
    }

    /// Checks a secret at `now_ms` and says who it stands for.
    pub fn authenticate(&self, secret: &str, now_ms: i64, source: String) -> Result<Principal, AuthError> {
        let hash = token_hash(secret);
        let credential = self.tokens.get(&hash).ok_or(AuthError::Unknown)?;
        let record = &credential.record;
        if record.expires_at_ms.is_some_and(|e| e <= now_ms) {
            return Err(AuthError::Expired);
        }
        let kind = TokenKind::from_name(&record.kind).ok_or(AuthError::Unknown)?;
        let (role, agent) = if kind == TokenKind::Customer {
            (None, None)
        } else {
            let user =
                self.users.get(&(credential.tenant.clone(), record.username.clone())).ok_or(AuthError::Unknown)?;
            if user.disabled {
                return Err(AuthError::Disabled);
            }
            (Role::from_name(&user.role), user.agent.clone())
        };
        Ok(Principal {
            tenant: credential.tenant.clone(),
            username: record.username.clone(),
            role,
            agent,
            kind,
            interaction: record.interaction,
            token_hash: hash,
            source,
        })
    }
}

/// A new random secret: 32 bytes from the operating system, as 64 hex digits behind `sb_`.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    format!("sb_{}", hex(&bytes))
}

/// A short random password for generated accounts (16 characters of a 32-letter alphabet).
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789-";
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| ALPHABET[usize::from(b & 31)] as char).collect()
}

/// The stored form of a secret: hex SHA-256.
pub fn token_hash(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// The public id of a credential: the first 12 hex digits of its hash.
pub fn token_id(hash: &str) -> &str {
    &hash[..hash.len().min(12)]
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An Argon2id hash (PHC string) of a password, with a fresh salt.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default().hash_password(password.as_bytes(), &salt).expect("Argon2 with default parameters").to_string()
}

/// Whether the password matches the stored hash; an unreadable hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash that no password matches, verified when the user does not exist so that a wrong
/// username takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&new_secret()))
}

/// Checks a new password against the rules, saying what is wrong.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(format!("a password needs at least {MIN_PASSWORD} characters"));
    }
    if password.len() > 1024 {
        return Err("a password may have at most 1,024 bytes".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(name: &str, role: &str, disabled: bool) -> UserRecord {
        UserRecord {
            username: name.into(),
            display_name: name.into(),
            role: role.into(),
            agent: None,
            password_hash: String::new(),
            disabled,
            created_at_ms: 0,
        }
    }

    fn token(secret: &str, user: &str, kind: &str, expires_at_ms: Option<i64>) -> TokenRecord {
        TokenRecord {
            hash: token_hash(secret),
            username: user.into(),
            kind: kind.into(),
            label: String::new(),
            interaction: (kind == "customer").then_some(7),
            created_at_ms: 0,
            expires_at_ms,
        }
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let hash = hash_password("correct horse");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct horse "));
        assert!(!verify_password("not a hash", "anything"));
        assert!(!verify_password(decoy_hash(), ""));
        assert_ne!(hash_password("correct horse"), hash, "salted");
    }

    #[test]
    fn secrets_are_random_and_stored_as_hashes() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 3 + 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), token_hash(&b));
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            "SHA-256 of \"abc\" (FIPS 180-2, appendix B.1)"
        );
        assert_eq!(new_password().len(), 16);
    }

    #[test]
    fn credentials_are_checked_against_tenant_user_and_time() {
        let acme: Arc<str> = Arc::from("acme");
        let globex: Arc<str> = Arc::from("globex");
        let mut keyring = Keyring::default();
        keyring.load(
            &acme,
            Accounts {
                users: vec![user("ann", "supervisor", false), user("bob", "agent", true)],
                tokens: vec![
                    token("s1", "ann", "session", Some(1_000)),
                    token("s2", "bob", "session", None),
                    token("c1", "customer", "customer", None),
                ],
            },
        );
        keyring.load(&globex, Accounts { users: vec![user("ann", "admin", false)], tokens: vec![] });
        let who = keyring.authenticate("s1", 999, "127.0.0.1".into()).unwrap();
        assert_eq!((&*who.tenant, who.username.as_str(), who.role), ("acme", "ann", Some(Role::Supervisor)));
        assert!(who.at_least(Role::Agent) && who.at_least(Role::Supervisor) && !who.at_least(Role::Admin));
        assert_eq!(keyring.authenticate("s1", 1_000, String::new()), Err(AuthError::Expired));
        assert_eq!(keyring.authenticate("s2", 0, String::new()), Err(AuthError::Disabled));
        assert_eq!(keyring.authenticate("nope", 0, String::new()), Err(AuthError::Unknown));
        let customer = keyring.authenticate("c1", 0, String::new()).unwrap();
        assert_eq!((customer.role, customer.interaction), (None, Some(7)));
        assert!(!customer.at_least(Role::Agent));
        keyring.revoke(&token_hash("s1"));
        assert_eq!(keyring.authenticate("s1", 0, String::new()), Err(AuthError::Unknown));
        // Reloading one tenant leaves the other alone.
        keyring.load(&acme, Accounts::default());
        assert_eq!(keyring.users("acme"), []);
        assert_eq!(keyring.users("globex").len(), 1);
    }
}
