//! The review page's prediction: what the scheduler would do with this
//! launch now (`POST /sessions/dry-run`, the scheduler's own decision on
//! the current state). Asked again, debounced, whenever the settings or any
//! session change.

use berth_shared::sessions::{DryRun, Prediction};
use leptos::prelude::*;

use super::ctx::Ctx;
use crate::api::{self, ApiError};
use crate::components::status::check_text;
use crate::i18n::*;
use crate::live::use_live;

/// How long settings must rest before the scheduler is asked.
const DEBOUNCE_MS: u64 = 400;

/// The section, under the review cards.
#[component]
pub fn PredictionBox(ctx: Ctx) -> impl IntoView {
    let Ctx { i18n, state, .. } = ctx;
    let live = use_live();
    // the request, once it could be launched at all
    let req = Memo::new(move |_| state.with(|s| s.can_launch().then(|| s.to_request())));
    let answer = RwSignal::new(None::<Result<DryRun, ApiError>>);
    // only the latest question's answer is shown
    let asked = StoredValue::new(0u64);
    Effect::new(move || {
        live.version.track();
        let Some(r) = req.get() else {
            answer.set(None);
            return;
        };
        let n = asked.get_value() + 1;
        asked.set_value(n);
        set_timeout(
            move || {
                if asked.try_get_value() != Some(n) {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let res = api::dry_run(&r).await;
                    if asked.try_get_value() == Some(n) {
                        answer.try_set(Some(res));
                    }
                });
            },
            std::time::Duration::from_millis(DEBOUNCE_MS),
        );
    });
    let line = move |p: &Prediction| -> Vec<String> {
        match p {
            Prediction::StartsNow { agent } => {
                vec![t_string!(i18n, prediction_starts_now, agent = agent.clone()).to_string()]
            }
            Prediction::Waits {
                resource_group,
                position,
                failed_predicates,
                ..
            } => {
                let mut out = vec![t_string!(
                    i18n,
                    prediction_waits,
                    position = *position,
                    group = resource_group.clone()
                )
                .to_string()];
                out.extend(failed_predicates.iter().map(|f| match &f.why {
                    Some(why) => check_text(i18n, why),
                    None => f.msg.clone(),
                }));
                out
            }
        }
    };
    view! {
        <section class="prediction" id="prediction" aria-labelledby="prediction-title">
            <h3 id="prediction-title">{t!(i18n, prediction_title)}</h3>
            <div id="prediction-text" role="status" aria-live="polite">
                {move || match answer.get() {
                    None if req.with(Option::is_none) => view! { <p class="muted">{t!(i18n, prediction_blocked)}</p> }.into_any(),
                    None => view! { <p class="muted">{t!(i18n, prediction_asking)}</p> }.into_any(),
                    Some(Err(_)) => view! { <p class="muted">{t!(i18n, prediction_unknown)}</p> }.into_any(),
                    Some(Ok(d)) => {
                        let starts = d.sessions.iter().all(|p| matches!(p, Prediction::StartsNow { .. }));
                        let class = if starts { "prediction-now" } else { "prediction-waits" };
                        view! {
                            <ul class=class>
                                {d.sessions.iter().map(|p| view! {
                                    <li>{line(p).into_iter().map(|t| view! { <span class="prediction-line">{t}</span> }).collect_view()}</li>
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }
                }}
            </div>
        </section>
    }
}
