//! Operations on accounts: users, their keypairs and projects, browser
//! logins and personal API tokens. HTTP handlers and the CLI call these; SQL
//! stays in `store`.

mod password;
pub mod secrets;
pub mod throttle;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use berth_shared::auth::{CreateTokenRequest, Role, TokenCreated, TokenInfo, UserInfo};
use berth_shared::users::{CreateUserRequest, UpdateUserRequest};
use berth_shared::FieldError;
use chrono::{DateTime, TimeZone, Utc};

use crate::store::{now_ms, NewKeypair, Store, StoreError, TokenRow, UserRow};
use throttle::Throttle;

/// The project every user joins when none is named.
pub const DEFAULT_PROJECT: &str = "default";

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The input broke a rule.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// Wrong email or password, a disabled account, or a bad token. Never
    /// says which.
    #[error("not authenticated")]
    Unauthenticated,
    /// The thing does not exist (or is not the caller's).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Too many failed logins: try again after this long.
    #[error("too many failed logins")]
    Throttled(std::time::Duration),
    /// Too many passwords are being checked at once: try again shortly.
    #[error("too many logins at once")]
    Busy,
    /// A storage failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An unexpected failure.
    #[error("{0}")]
    Internal(String),
}

/// Converts stored epoch milliseconds.
pub fn ms_to_time(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// An email as accounts are found by: trimmed, lowercase.
pub fn normalise_email(email: &str) -> String {
    email.trim().to_lowercase()
}

fn to_info(row: UserRow, access_key: String, projects: Vec<String>) -> UserInfo {
    UserInfo {
        role: Role::parse(&row.role).unwrap_or(Role::User),
        id: row.id,
        email: row.email,
        full_name: row.full_name,
        is_active: row.is_active != 0,
        access_key,
        projects,
        created_at: ms_to_time(row.created_at),
        locale: row.locale,
    }
}

/// Records the UI language a user chose.
pub async fn set_locale(store: &Store, user_id: &str, locale: &str) -> Result<(), AccountError> {
    store.set_locale(user_id, Some(locale)).await?;
    Ok(())
}

/// Creates a user with a main keypair, in the named projects (or `default`).
pub async fn create_user(store: &Store, req: &CreateUserRequest) -> Result<UserInfo, AccountError> {
    req.validate().map_err(AccountError::Invalid)?;
    let email = normalise_email(&req.email);
    let names: Vec<String> = if req.projects.is_empty() {
        vec![DEFAULT_PROJECT.to_string()]
    } else {
        req.projects.iter().map(|p| p.trim().to_string()).collect()
    };
    let mut project_ids = Vec::with_capacity(names.len());
    let mut unknown = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match store.project_id(name).await? {
            Some(id) if !project_ids.contains(&id) => project_ids.push(id),
            Some(_) => {}
            None => unknown.push(FieldError::new(
                format!("projects[{i}]"),
                "unknown_project",
                format!("There is no project named {name:?}."),
            )),
        }
    }
    if !unknown.is_empty() {
        return Err(AccountError::Invalid(unknown));
    }
    let row = UserRow {
        id: uuid::Uuid::new_v4().to_string(),
        email: email.clone(),
        full_name: req.full_name.trim().to_string(),
        password_hash: password::hash(req.password.clone()).await?,
        role: req.role.as_str().to_string(),
        is_active: 1,
        created_at: now_ms(),
        locale: None,
    };
    let keypair = NewKeypair {
        access_key: secrets::access_key(),
        secret_key: secrets::secret_key(),
    };
    match store.insert_user(&row, &keypair, &project_ids).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(AccountError::Invalid(vec![FieldError::new(
                "email",
                "taken",
                "An account with this email already exists.",
            )]))
        }
        Err(e) => return Err(e.into()),
    }
    let mut projects = names;
    projects.sort();
    projects.dedup();
    Ok(to_info(row, keypair.access_key, projects))
}

/// The full view of one user.
pub async fn user_info(store: &Store, user_id: &str) -> Result<UserInfo, AccountError> {
    let row = store
        .user_by_id(user_id)
        .await?
        .ok_or(AccountError::NotFound("user"))?;
    complete(store, row).await
}

/// A user row with its main access key and projects.
async fn complete(store: &Store, row: UserRow) -> Result<UserInfo, AccountError> {
    let access_key = store.main_access_key(&row.id).await?.unwrap_or_default();
    let projects = store.projects_of(&row.id).await?;
    Ok(to_info(row, access_key, projects))
}

/// Gives the user's API keypair a new secret key, returned this once.
pub async fn regenerate_secret(
    store: &Store,
    user_id: &str,
) -> Result<berth_shared::auth::KeypairCreated, AccountError> {
    let secret_key = secrets::secret_key();
    let access_key = store
        .set_main_secret(user_id, &secret_key)
        .await?
        .ok_or(AccountError::NotFound("keypair"))?;
    Ok(berth_shared::auth::KeypairCreated {
        access_key,
        secret_key,
    })
}

/// The active user an access key names, with its secret (for checking a
/// request's signature); none when the key or its user is not active.
pub async fn keypair_user(
    store: &Store,
    access_key: &str,
) -> Result<Option<(UserInfo, String)>, AccountError> {
    let Some((user_id, secret)) = store.keypair_secret(access_key).await? else {
        return Ok(None);
    };
    let user = user_info(store, &user_id).await?;
    Ok(user.is_active.then_some((user, secret)))
}

/// Changes a user's name, role or active flag.
pub async fn update_user(
    store: &Store,
    id: &str,
    req: &UpdateUserRequest,
) -> Result<UserInfo, AccountError> {
    req.validate().map_err(AccountError::Invalid)?;
    // every check first, then every write in one transaction: all or nothing
    let policy = req.resource_policy.as_deref();
    if let Some(policy) = policy {
        if !store.policies().await?.iter().any(|p| p.name == policy) {
            return Err(AccountError::Invalid(vec![FieldError::new(
                "resource_policy",
                "unknown_policy",
                format!("There is no resource policy {policy:?}."),
            )]));
        }
    }
    let updated = store
        .update_user(
            id,
            req.full_name.as_deref().map(str::trim),
            req.role.map(Role::as_str),
            req.is_active,
            policy,
        )
        .await?;
    if !updated {
        return Err(AccountError::NotFound("user"));
    }
    user_info(store, id).await
}

/// The user with this email, if any (one user's rows only).
pub async fn user_by_email(store: &Store, email: &str) -> Result<Option<UserInfo>, AccountError> {
    match store.user_by_email(&normalise_email(email)).await? {
        Some(row) => Ok(Some(complete(store, row).await?)),
        None => Ok(None),
    }
}

/// Every user, or only the one with `email`.
pub async fn list_users(store: &Store, email: Option<&str>) -> Result<Vec<UserInfo>, AccountError> {
    let rows = match email {
        Some(email) => return Ok(user_by_email(store, email).await?.into_iter().collect()),
        None => store.list_users().await?,
    };
    let mut keys: HashMap<String, String> = HashMap::new();
    for k in store.all_main_access_keys().await? {
        keys.entry(k.user_id).or_insert(k.access_key);
    }
    let mut projects: HashMap<String, Vec<String>> = HashMap::new();
    for m in store.all_memberships().await? {
        projects.entry(m.user_id).or_default().push(m.name);
    }
    Ok(rows
        .into_iter()
        .map(|row| {
            let ak = keys.remove(&row.id).unwrap_or_default();
            let ps = projects.remove(&row.id).unwrap_or_default();
            to_info(row, ak, ps)
        })
        .collect())
}

/// Checks an email and password; the active user they belong to.
pub async fn authenticate(
    store: &Store,
    email: &str,
    password: &str,
) -> Result<UserInfo, AccountError> {
    let row = store.user_by_email(&normalise_email(email)).await?;
    let ok = password::verify(
        password.to_string(),
        row.as_ref().map(|r| r.password_hash.clone()),
    )
    .await?;
    match row {
        Some(row) if ok && row.is_active != 0 => user_info(store, &row.id).await,
        _ => Err(AccountError::Unauthenticated),
    }
}

/// [`authenticate`] for a client at `addr`, refused before any hashing
/// when it failed too often or has too many attempts in flight (see
/// [`throttle`]).
pub async fn authenticate_throttled(
    store: &Store,
    throttle: &Mutex<Throttle>,
    addr: IpAddr,
    email: &str,
    password: &str,
) -> Result<UserInfo, AccountError> {
    let email = normalise_email(email);
    let locked = || throttle.lock().unwrap_or_else(PoisonError::into_inner);
    locked()
        .begin(&email, addr, Instant::now())
        .map_err(AccountError::Throttled)?;
    // the place is given back however this ends, a dropped request included
    let mut attempt = Attempt {
        throttle,
        email: &email,
        addr,
        outcome: throttle::Outcome::Undecided,
    };
    let outcome = authenticate(store, &email, password).await;
    attempt.outcome = match &outcome {
        Ok(_) => throttle::Outcome::Succeeded,
        Err(AccountError::Unauthenticated) => throttle::Outcome::Failed,
        Err(_) => throttle::Outcome::Undecided,
    };
    drop(attempt);
    outcome
}

/// A login attempt in flight; ends it in the throttle when dropped.
struct Attempt<'a> {
    throttle: &'a Mutex<Throttle>,
    email: &'a str,
    addr: IpAddr,
    outcome: throttle::Outcome,
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        self.throttle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .end(self.email, self.addr, Instant::now(), self.outcome);
    }
}

/// Starts a browser login; the cookie token (shown only here).
pub async fn start_login(
    store: &Store,
    user_id: &str,
    ttl_hours: u32,
) -> Result<String, AccountError> {
    let token = secrets::login_token();
    let now = now_ms();
    let expires = now + i64::from(ttl_hours) * 3_600_000;
    store
        .insert_login(&secrets::token_hash(&token), user_id, now, expires)
        .await?;
    Ok(token)
}

/// Ends a browser login.
pub async fn end_login(store: &Store, token: &str) -> Result<(), AccountError> {
    store.delete_login(&secrets::token_hash(token)).await?;
    Ok(())
}

/// The active user behind a login cookie or an API token.
pub async fn resolve(store: &Store, credential: Credential<'_>) -> Result<UserInfo, AccountError> {
    let now = now_ms();
    let user_id = match credential {
        Credential::Login(token) => store.login_user(&secrets::token_hash(token), now).await?,
        Credential::Bearer(token) => store.use_token(&secrets::token_hash(token), now).await?,
    }
    .ok_or(AccountError::Unauthenticated)?;
    match user_info(store, &user_id).await {
        Ok(user) if user.is_active => Ok(user),
        Ok(_) | Err(AccountError::NotFound(_)) => Err(AccountError::Unauthenticated),
        Err(e) => Err(e),
    }
}

/// A credential as a request carried it (owned, so it outlives the
/// request's headers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedCredential {
    /// The browser's login cookie.
    Login(String),
    /// `Authorization: Bearer <token>`.
    Bearer(String),
}

impl OwnedCredential {
    /// Borrowed, for [`resolve`].
    pub fn as_credential(&self) -> Credential<'_> {
        match self {
            OwnedCredential::Login(t) => Credential::Login(t),
            OwnedCredential::Bearer(t) => Credential::Bearer(t),
        }
    }

    /// A key that tells logins apart without holding the secret.
    pub fn cache_key(&self) -> String {
        match self {
            OwnedCredential::Login(t) => format!("c{}", secrets::token_hash(t)),
            OwnedCredential::Bearer(t) => format!("b{}", secrets::token_hash(t)),
        }
    }
}

/// How a request proves who it is.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    /// The browser's login cookie.
    Login(&'a str),
    /// `Authorization: Bearer <token>`.
    Bearer(&'a str),
}

fn token_info(row: TokenRow) -> TokenInfo {
    TokenInfo {
        id: row.id,
        name: row.name,
        prefix: row.prefix,
        created_at: ms_to_time(row.created_at),
        last_used_at: row.last_used_at.map(ms_to_time),
        expires_at: row.expires_at.map(ms_to_time),
    }
}

/// Creates a personal API token, ending after `expires_in_days` when
/// given; refused when the user already holds `max_tokens` live ones.
pub async fn create_token(
    store: &Store,
    user_id: &str,
    req: &CreateTokenRequest,
    max_tokens: u32,
) -> Result<TokenCreated, AccountError> {
    req.validate().map_err(AccountError::Invalid)?;
    let now = now_ms();
    let held = store.tokens_of(user_id, now).await?.len();
    if held >= max_tokens as usize {
        return Err(AccountError::Invalid(vec![FieldError::new(
            "name",
            "too_many",
            format!("You hold {held} tokens, the most this server allows: revoke one first."),
        )
        .with("limit", max_tokens)]));
    }
    let token = secrets::api_token();
    let row = TokenRow {
        id: uuid::Uuid::new_v4().to_string(),
        user_id: user_id.to_string(),
        name: req.name.trim().to_string(),
        prefix: token
            .chars()
            .take(secrets::TOKEN_PREFIX.len() + 6)
            .collect(),
        created_at: now,
        last_used_at: None,
        expires_at: req
            .expires_in_days
            .map(|d| now.saturating_add(i64::from(d) * 86_400_000)),
    };
    store
        .insert_token(&row, &secrets::token_hash(&token))
        .await?;
    Ok(TokenCreated {
        token,
        info: token_info(row),
    })
}

/// A user's live tokens.
pub async fn list_tokens(store: &Store, user_id: &str) -> Result<Vec<TokenInfo>, AccountError> {
    Ok(store
        .tokens_of(user_id, now_ms())
        .await?
        .into_iter()
        .map(token_info)
        .collect())
}

/// Revokes one of the user's tokens.
pub async fn revoke_token(
    store: &Store,
    user_id: &str,
    token_id: &str,
) -> Result<(), AccountError> {
    if store.revoke_token(token_id, user_id, now_ms()).await? {
        Ok(())
    } else {
        Err(AccountError::NotFound("token"))
    }
}

/// Credentials of a superadmin created at first start.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    /// The account.
    pub email: String,
    /// The password when it was generated (print it once), else `None`.
    pub generated_password: Option<String>,
}

/// Creates the first superadmin when there is none.
pub async fn ensure_superadmin(
    store: &Store,
    email: &str,
    password: Option<&str>,
) -> Result<Option<Bootstrapped>, AccountError> {
    if store.count_superadmins().await? > 0 {
        return Ok(None);
    }
    let generated = password.is_none().then(secrets::generate_password);
    let password = password
        .map(str::to_string)
        .or_else(|| generated.clone())
        .unwrap_or_default();
    let user = create_user(
        store,
        &CreateUserRequest {
            email: email.to_string(),
            password,
            full_name: "Administrator".into(),
            role: Role::Superadmin,
            projects: vec![],
        },
    )
    .await?;
    Ok(Some(Bootstrapped {
        email: user.email,
        generated_password: generated,
    }))
}
