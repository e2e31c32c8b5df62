//! The Data page's "Customized images" section: the caller's sessions
//! saved as images, with where they came from, a copy button for the full
//! reference (the launcher's manual image field takes it), and delete
//! behind a confirmation (refused while a session runs it).

use berth_shared::images::{display_name, CustomizedImage};
use leptos::prelude::*;

use crate::api;
use crate::components::confirm_dialog::{ConfirmAction, ConfirmDialog};
use crate::components::loaded::Loaded;
use crate::format::local_datetime;
use crate::i18n::*;
use crate::live::use_live;

/// Copies text to the clipboard (the browser may refuse; nothing breaks).
pub fn copy_text(text: &str) {
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
}

/// The section.
#[component]
pub fn CustomizedImages() -> impl IntoView {
    let i18n = use_i18n();
    let live = use_live();
    let refresh = RwSignal::new(0u32);
    let deleting = RwSignal::new(None::<CustomizedImage>);
    let images = LocalResource::new(move || {
        // a commit's end arrives as an event
        live.version.track();
        refresh.track();
        api::customized_images()
    });
    view! {
        <section class="card customized-images" aria-labelledby="images-title" id="customized-images">
            <h2 id="images-title" class="card-title">{t!(i18n, images_title)}</h2>
            <Loaded value=Signal::derive(move || images.get()) let:list>
                <p class="muted" id="images-quota">{
                    let (n, max) = (list.items.len(), list.max);
                    if max == 0 {
                        t_string!(i18n, images_count, count = n).to_string()
                    } else {
                        t_string!(i18n, images_quota, count = n, max = max).to_string()
                    }
                }</p>
                {if list.items.is_empty() {
                    view! { <p class="empty" id="images-empty">{t!(i18n, images_empty)}</p> }.into_any()
                } else {
                    view! {
                        <table class="folders-table" id="images-table">
                            <thead><tr>
                                <th scope="col">{t!(i18n, col_name)}</th>
                                <th scope="col">{t!(i18n, images_from)}</th>
                                <th scope="col">{t!(i18n, col_created)}</th>
                                <th scope="col"><span class="sr-only">{t!(i18n, explorer_actions)}</span></th>
                            </tr></thead>
                            <tbody>
                                {list.items.into_iter().map(|img| {
                                    let copied = RwSignal::new(false);
                                    let reference = img.reference.clone();
                                    let shown = img.clone();
                                    view! {
                                        <tr data-image=img.id.clone() data-row=format!("image-{}", img.id)>
                                            <td><span class="image-name">{display_name(&img.name)}</span>
                                                <br /><code class="muted image-ref">{img.reference.clone()}</code></td>
                                            <td>{format!("{} · {}", img.from_session, img.from_image)}</td>
                                            <td>{local_datetime(i18n, img.created_at)}</td>
                                            <td class="row-actions">
                                                <button type="button" class="btn btn-small image-copy"
                                                    on:click=move |_| { copy_text(&reference); copied.set(true); }>
                                                    {move || if copied.get() { t_string!(i18n, btn_copied).to_string() } else { t_string!(i18n, images_copy).to_string() }}
                                                </button>
                                                <button type="button" class="btn btn-small btn-danger image-delete" aria-haspopup="dialog"
                                                    on:click=move |_| deleting.set(Some(shown.clone()))>{t!(i18n, btn_delete)}</button>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any()
                }}
            </Loaded>
            <DeleteImageDialog image=deleting on_deleted=Callback::new(move |_| refresh.update(|n| *n += 1)) />
        </section>
    }
}

#[component]
fn DeleteImageDialog(
    image: RwSignal<Option<CustomizedImage>>,
    on_deleted: Callback<()>,
) -> impl IntoView {
    let i18n = use_i18n();
    let open = Signal::derive(move || image.with(Option::is_some));
    let delete: ConfirmAction = Action::new_unsync(move |_: &()| {
        let img = image.get_untracked();
        async move {
            match img {
                Some(img) => api::delete_customized_image(&img.id).await,
                None => Ok(()),
            }
        }
    });
    view! {
        <ConfirmDialog open=open on_close=Callback::new(move |_| image.set(None)) id="delete-image"
            title=Signal::derive(move || t_string!(i18n, images_delete_title).to_string())
            body=Signal::derive(move || image.get().map(|i| t_string!(i18n, images_delete_body, name = display_name(&i.name)).to_string()).unwrap_or_default())
            confirm=Signal::derive(move || t_string!(i18n, btn_delete).to_string())
            action=delete on_done=on_deleted />
    }
}
