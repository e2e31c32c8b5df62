//! Resource policies: limits bound to a user's keypair (concurrent
//! sessions, total CPU and memory, lifetime).

use berth_shared::auth::UserInfo;
use berth_shared::resources::{ResourcePolicy, ResourcePolicyList};

use super::{ResourceError, ResourceResult};
use crate::accounts;
use crate::services::Services;
use crate::store::{PolicyRow, Store, StoreResult};

/// Every policy.
pub async fn list(store: &Store) -> ResourceResult<ResourcePolicyList> {
    let items = store
        .policies()
        .await?
        .into_iter()
        .map(ResourcePolicy::from)
        .collect();
    Ok(ResourcePolicyList { items })
}

/// Creates or replaces a policy (after its rules); the scheduler looks again.
pub async fn put(svc: &Services, p: &ResourcePolicy) -> ResourceResult<ResourcePolicy> {
    p.validate().map_err(ResourceError::Invalid)?;
    let row = PolicyRow {
        name: p.name.trim().to_string(),
        max_concurrent_sessions: i64::from(p.max_concurrent_sessions),
        max_total_cpu: p.max_total_cpu,
        max_total_mem: p.max_total_mem.0.min(i64::MAX as u64) as i64,
        max_session_lifetime: p.max_session_lifetime.min(i64::MAX as u64) as i64,
        max_folders: i64::from(p.max_folders),
        idle_timeout: p.idle_timeout.map(|t| t.min(i64::MAX as u64) as i64),
        max_customized_images: i64::from(p.max_customized_images),
        max_pending_sessions: i64::from(p.max_pending_sessions),
        max_folder_bytes: p.max_folder_bytes.0.min(i64::MAX as u64) as i64,
    };
    svc.store().put_policy(&row).await?;
    svc.wake_scheduler();
    Ok(ResourcePolicy::from(row))
}

/// Deletes a policy: not `default`, and not while a keypair uses it.
pub async fn delete(store: &Store, name: &str) -> ResourceResult<()> {
    if !store.policies().await?.iter().any(|p| p.name == name) {
        return Err(ResourceError::NotFound("resource policy"));
    }
    if store.delete_policy(name).await? {
        Ok(())
    } else {
        Err(ResourceError::Conflict(format!(
            "Policy {name} is the default, or is bound to a keypair."
        )))
    }
}

/// The policy bounding one user's sessions (`default` for a keypair bound
/// to none).
pub async fn of_user(store: &Store, user: &UserInfo) -> StoreResult<Option<ResourcePolicy>> {
    Ok(store.policy_of(&user.access_key).await?.map(Into::into))
}

/// The policy that bounds the caller's sessions, or (admins) those of the
/// user named by `owner_email`: the launcher caps its sliders with it.
pub async fn for_owner(
    store: &Store,
    caller: UserInfo,
    owner_email: Option<&str>,
) -> ResourceResult<ResourcePolicy> {
    let email = owner_email.map(str::trim).filter(|e| !e.is_empty());
    let owner = match email {
        Some(e) if !e.eq_ignore_ascii_case(&caller.email) => {
            if !caller.role.is_admin() {
                return Err(ResourceError::Forbidden(
                    "Only admins launch sessions for other users.",
                ));
            }
            accounts::user_by_email(store, e)
                .await?
                .ok_or(ResourceError::NotFound("user"))?
        }
        _ => caller,
    };
    of_user(store, &owner)
        .await?
        .ok_or(ResourceError::NotFound("resource policy"))
}
