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
        leptos::task::spawn_local(async move {
            let user = api::me().await.ok();
            ctx.user.set(user);
            ctx.checked.set(true);
        });
        ctx
    }
}

/// The auth context (provided by `App`).
pub fn use_auth() -> AuthCtx {
    expect_context::<AuthCtx>()
}
