//! Admins on page 1: launch for another user, found by email; then the
//! project among theirs.

use leptos::prelude::*;

use super::ctx::{Ctx, FieldMessage};
use crate::api;
use crate::i18n::*;

/// Admins: launch for another user, found by email; then their project.
#[component]
pub fn OwnerFields(ctx: Ctx) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    // (the page is made again on each visit: what Launch depends on lives in the state)
    let enabled =
        RwSignal::new(state.with_untracked(|s| s.owner_email.is_some() || s.owner_unresolved));
    // None: not searched; Some(None): no such user; Some(Some(user)): found
    let found = RwSignal::new(None::<Option<berth_shared::auth::UserInfo>>);
    let search = move || {
        // the typed text, or the owner a Recent history entry brought
        let query = state.with_untracked(|s| {
            if s.owner_text.trim().is_empty() {
                s.owner_email.clone().unwrap_or_default()
            } else {
                s.owner_text.clone()
            }
        });
        leptos::task::spawn_local(async move {
            let user = api::find_user(&query)
                .await
                .ok()
                .and_then(|l| l.items.into_iter().next());
            state.update(|s| {
                s.owner_email = user.as_ref().map(|u| u.email.clone());
                s.owner_unresolved = user.is_none();
                // a project already chosen (loaded) stays when it is theirs
                s.project = user.as_ref().and_then(|u| {
                    s.project
                        .clone()
                        .filter(|p| u.projects.contains(p))
                        .or_else(|| u.projects.first().cloned())
                });
                if s.owner_text.trim().is_empty() {
                    s.owner_text = s.owner_email.clone().unwrap_or_default();
                }
            });
            found.set(Some(user));
        });
    };
    // an owner loaded from Recent history is looked up again, so the page
    // shows who it is and their projects (and Launch waits until then)
    if state.with_untracked(|s| s.owner_email.is_some()) && found.get_untracked().is_none() {
        state.update(|s| s.owner_unresolved = true);
        search();
    }
    let projects =
        move || found.with(|f| f.clone().flatten().map(|u| u.projects).unwrap_or_default());
    view! {
        <div class="owner-fields">
            <label class="switch">
                <input type="checkbox" role="switch" id="owner-toggle"
                    prop:checked=move || enabled.get()
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        enabled.set(on);
                        found.set(None);
                        // on: Launch waits until a search finds the owner
                        state.update(|s| { s.owner_email = None; s.project = None; s.owner_unresolved = on; });
                    } />
                {t!(i18n, owner_toggle)}
            </label>
            <Show when=move || enabled.get()>
                <div class="field">
                    <label for="owner-email">{t!(i18n, owner_email)}</label>
                    <div class="inline-row">
                        <input id="owner-email" type="email" autocomplete="off"
                            prop:value=move || state.with(|s| s.owner_text.clone())
                            on:input=move |ev| {
                                // the user found was for the old text: search again
                                found.set(None);
                                state.update(|s| {
                                    s.owner_text = event_target_value(&ev);
                                    s.owner_email = None;
                                    s.project = None;
                                    s.owner_unresolved = true;
                                });
                            }
                            aria-invalid=move || ctx.error.run("owner_email".into()).is_some().to_string()
                            on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Enter" { ev.prevent_default(); search() }
                            aria-describedby="owner-result owner-email-error" />
                        <button type="button" class="btn" id="owner-search" on:click=move |_| search()>{t!(i18n, owner_search)}</button>
                    </div>
                    <p id="owner-result" class="field-hint" aria-live="polite">
                        {move || match found.get() {
                            None => String::new(),
                            Some(None) => t_string!(i18n, owner_not_found).to_string(),
                            Some(Some(u)) => {
                                let name = if u.full_name.is_empty() { u.email.clone() } else { u.full_name.clone() };
                                t_string!(i18n, owner_found, name = name, key = u.access_key.clone()).to_string()
                            }
                        }}
                    </p>
                    <FieldMessage ctx=ctx field="owner_email" id="owner-email-error" />
                </div>
                <Show when=move || !projects().is_empty()>
                    <div class="field">
                        <label for="owner-project">{t!(i18n, project)}</label>
                        <select id="owner-project" on:change=move |ev| state.update(|s| s.project = Some(event_target_value(&ev)))>
                            {move || projects().into_iter().map(|p| {
                                let selected = state.with(|s| s.project.as_deref() == Some(p.as_str()));
                                view! { <option value=p.clone() selected=selected>{p.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                </Show>
            </Show>
        </div>
    }
}
