//! Who is signed in, shared through the component tree.

use berth_shared::auth::UserInfo;
use leptos::prelude::*;

use crate::api;

/// The signed-in user, once the server has been asked.
#[derive(Debug, Clone, Copy)]
pub struct AuthCtx {
    /// `Some` when signed in.
    pub user: RwSignal<Option<UserInfo>>,
    /// True once `/auth/me` has answered (until then, show nothing).
    pub checked: RwSignal<bool>,
}

impl AuthCtx {
    /// Provides the context and asks the server who we are.
    pub fn provide() -> Self {
        let ctx = AuthCtx {
            user: RwSignal::new(None),
            checked: RwSignal::new(false),
        };
        provide_context(ctx);
        // A call answered 401 while someone was signed in: the login ended
        // elsewhere (logout in another tab, a revoked or expired login).
        // The one way back to the sign-in page: `Protected` sees no user
        // and sends the browser there, with the page it was on.
        api::on_unauthorized(move || {
            if ctx.user.with_untracked(Option::is_some) {
                ctx.user.set(None);
            }
        });
        leptos::task::spawn_local(async move {
            let user = api::me().await.ok();
            ctx.user.set(user);
            ctx.checked.set(true);
        });
        ctx
    }
}

/// Where to go after signing in: `next` when it is a page of this app (a
/// path on this origin, not the sign-in page), else the sessions list.
pub fn after_login(next: Option<&str>) -> &str {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.starts_with("/login") =>
        {
            n
        }
        _ => "/sessions",
    }
}

/// The auth context (provided by `App`).
pub fn use_auth() -> AuthCtx {
    expect_context::<AuthCtx>()
}

#[cfg(test)]
mod tests {
    use super::after_login;

    #[test]
    fn only_pages_of_this_app_are_returned_to() {
        assert_eq!(after_login(Some("/data?tab=x")), "/data?tab=x");
        assert_eq!(
            after_login(Some("/sessions?panel=abc")),
            "/sessions?panel=abc"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil",
            "/login?next=/x",
            "data",
            "",
        ] {
            assert_eq!(after_login(Some(bad)), "/sessions", "{bad}");
        }
        assert_eq!(after_login(None), "/sessions");
    }
}
