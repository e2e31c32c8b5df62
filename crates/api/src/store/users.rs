//! users and keypairs.

use sqlx::FromRow;

use super::{Store, StoreResult};

/// A row of `users`.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    /// UUID.
    pub id: String,
    /// Lowercase email.
    pub email: String,
    /// Full name.
    pub full_name: String,
    /// argon2 PHC string.
    pub password_hash: String,
    /// `superadmin` | `admin` | `user`.
    pub role: String,
    /// 1 when the account may sign in.
    pub is_active: i64,
    /// Epoch ms.
    pub created_at: i64,
    /// The UI language the user chose (`None`: the browser's).
    pub locale: Option<String>,
}

/// A keypair to store with a new user.
#[derive(Debug, Clone)]
pub struct NewKeypair {
    /// Public identifier.
    pub access_key: String,
    /// Shared secret.
    pub secret_key: String,
}

/// `(user_id, access_key)` of a main keypair.
#[derive(Debug, Clone, FromRow)]
pub struct AccessKeyRow {
    /// Owner.
    pub user_id: String,
    /// The key.
    pub access_key: String,
}

const USER_COLUMNS: &str =
    "id, email, full_name, password_hash, role, is_active, created_at, locale";

impl Store {
    /// Stores a user, its main keypair and its project memberships at once.
    pub async fn insert_user(
        &self,
        user: &UserRow,
        keypair: &NewKeypair,
        project_ids: &[String],
    ) -> StoreResult<()> {
        let mut tx = self.pool().begin().await?;
        sqlx::query(
            "INSERT INTO users (id, email, full_name, password_hash, role, is_active, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&user.id)
        .bind(&user.email)
        .bind(&user.full_name)
        .bind(&user.password_hash)
        .bind(&user.role)
        .bind(user.is_active)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO keypairs (access_key, secret_key, user_id, is_main, is_active, created_at)
             VALUES ($1, $2, $3, 1, 1, $4)",
        )
        .bind(&keypair.access_key)
        .bind(&keypair.secret_key)
        .bind(&user.id)
        .bind(user.created_at)
        .execute(&mut *tx)
        .await?;
        for project_id in project_ids {
            sqlx::query("INSERT INTO project_members (project_id, user_id) VALUES ($1, $2)")
                .bind(project_id)
                .bind(&user.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The user with this (lowercase) email.
    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(self.pool())
            .await?)
    }

    /// The user with this id.
    pub async fn user_by_id(&self, id: &str) -> StoreResult<Option<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?)
    }

    /// Every user, oldest first.
    pub async fn list_users(&self) -> StoreResult<Vec<UserRow>> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY created_at, email");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?)
    }

    /// How many superadmins exist.
    pub async fn count_superadmins(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = 'superadmin'")
            .fetch_one(self.pool())
            .await?;
        Ok(n)
    }

    /// The main access key of one user.
    pub async fn main_access_key(&self, user_id: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT access_key FROM keypairs WHERE user_id = $1 AND is_main = 1 ORDER BY created_at LIMIT 1",
        )
        .bind(user_id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|(k,)| k))
    }

    /// The owner and secret of an active access key (its user may be
    /// inactive: the caller checks).
    pub async fn keypair_secret(&self, access_key: &str) -> StoreResult<Option<(String, String)>> {
        Ok(sqlx::query_as(
            "SELECT user_id, secret_key FROM keypairs WHERE access_key = $1 AND is_active = 1",
        )
        .bind(access_key)
        .fetch_optional(self.pool())
        .await?)
    }

    /// Gives a user's main keypair a new secret; its access key, or none
    /// when the user has no keypair.
    pub async fn set_main_secret(
        &self,
        user_id: &str,
        secret: &str,
    ) -> StoreResult<Option<String>> {
        let Some(access_key) = self.main_access_key(user_id).await? else {
            return Ok(None);
        };
        sqlx::query("UPDATE keypairs SET secret_key = $1 WHERE access_key = $2")
            .bind(secret)
            .bind(&access_key)
            .execute(self.pool())
            .await?;
        Ok(Some(access_key))
    }

    /// The main access key of every user.
    pub async fn all_main_access_keys(&self) -> StoreResult<Vec<AccessKeyRow>> {
        Ok(sqlx::query_as(
            "SELECT user_id, access_key FROM keypairs WHERE is_main = 1 ORDER BY created_at",
        )
        .fetch_all(self.pool())
        .await?)
    }

    /// Records the UI language a user chose; false when there is no such user.
    pub async fn set_locale(&self, id: &str, locale: Option<&str>) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE users SET locale = $1 WHERE id = $2")
            .bind(locale)
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Changes the given fields of a user; false when there is no such user.
    pub async fn update_user(
        &self,
        id: &str,
        full_name: Option<&str>,
        role: Option<&str>,
        is_active: Option<bool>,
        policy: Option<&str>,
    ) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await?;
        let done = sqlx::query(
            "UPDATE users SET full_name = COALESCE($1, full_name), role = COALESCE($2, role),
             is_active = COALESCE($3, is_active) WHERE id = $4",
        )
        .bind(full_name)
        .bind(role)
        .bind(is_active.map(i64::from))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(policy) = policy {
            sqlx::query(
                "UPDATE keypairs SET resource_policy = $1 WHERE user_id = $2 AND is_main = 1",
            )
            .bind(policy)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}
