//! Uploads with real progress: `XMLHttpRequest`, whose upload events tell
//! how many bytes the browser has sent (fetch cannot), and which can be
//! aborted. The file goes as the raw request body (`PUT`), so the server
//! streams it to disk.

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{File, ProgressEvent, XmlHttpRequest};

/// Where an upload is.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadState {
    /// Bytes sent so far, of the total.
    Sending {
        /// Sent.
        loaded: f64,
        /// In all.
        total: f64,
    },
    /// The server stored it.
    Done,
    /// It failed: what the server (or the network) said.
    Failed(String),
    /// Cancelled by the user.
    Cancelled,
}

impl UploadState {
    /// Percent sent (100 once done).
    pub fn percent(&self) -> f64 {
        match self {
            UploadState::Sending { loaded, total } if *total > 0.0 => {
                (loaded / total * 100.0).clamp(0.0, 100.0)
            }
            UploadState::Sending { .. } => 0.0,
            UploadState::Done => 100.0,
            _ => 0.0,
        }
    }
}

/// One file being uploaded, shown with its progress bar.
#[derive(Clone)]
pub struct Upload {
    /// Increasing id (this page).
    pub id: u64,
    /// The file's name.
    pub name: String,
    /// Where it is.
    pub state: RwSignal<UploadState>,
    xhr: StoredValue<Option<XmlHttpRequest>, LocalStorage>,
}

impl Upload {
    /// Stops the upload (the server keeps nothing of it).
    pub fn cancel(&self) {
        if let Some(Some(xhr)) = self.xhr.try_get_value() {
            let _ = xhr.abort();
        }
    }
}

type Handler = Closure<dyn FnMut(ProgressEvent)>;

/// The message of a failed answer: the problem's detail when there is one.
fn failure(xhr: &XmlHttpRequest) -> String {
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    serde_json::from_str::<berth_shared::Problem>(&text)
        .ok()
        .map(|p| {
            p.errors
                .first()
                .map(|e| e.message.clone())
                .or(p.detail)
                .unwrap_or(p.title)
        })
        .unwrap_or_else(|| format!("HTTP {}", xhr.status().unwrap_or(0)))
}

/// Starts sending `file` to `url`; `on_end` runs once when it is over
/// (done, failed or cancelled).
pub fn start(id: u64, url: &str, file: File, on_end: Callback<()>) -> Upload {
    let state = RwSignal::new(UploadState::Sending {
        loaded: 0.0,
        total: file.size(),
    });
    let upload = Upload {
        id,
        name: file.name(),
        state,
        xhr: StoredValue::new_local(None),
    };
    let Ok(xhr) = XmlHttpRequest::new() else {
        state.set(UploadState::Failed("XMLHttpRequest".into()));
        return upload;
    };
    if xhr.open("PUT", url).is_err() {
        state.set(UploadState::Failed("open".into()));
        return upload;
    }
    let _ = xhr.set_request_header("content-type", "application/octet-stream");
    let progress: Handler = Closure::new(move |e: ProgressEvent| {
        if e.length_computable() {
            state.try_set(UploadState::Sending {
                loaded: e.loaded(),
                total: e.total(),
            });
        }
    });
    let x2 = xhr.clone();
    let done: Handler = Closure::new(move |_| {
        let ok = x2.status().is_ok_and(|s| (200..300).contains(&s));
        state.try_set(if ok {
            UploadState::Done
        } else {
            UploadState::Failed(failure(&x2))
        });
        on_end.run(());
    });
    let error: Handler = Closure::new(move |_| {
        state.try_set(UploadState::Failed(String::new()));
        on_end.run(());
    });
    let abort: Handler = Closure::new(move |_| {
        state.try_set(UploadState::Cancelled);
        on_end.run(());
    });
    if let Ok(up) = xhr.upload() {
        up.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    xhr.set_onload(Some(done.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(error.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(abort.as_ref().unchecked_ref()));
    // the handlers live as long as the page: an upload is short-lived and
    // they hold nothing but signals
    progress.forget();
    done.forget();
    error.forget();
    abort.forget();
    if xhr.send_with_opt_blob(Some(&file)).is_err() {
        state.set(UploadState::Failed("send".into()));
    }
    upload.xhr.set_value(Some(xhr));
    upload
}

#[cfg(test)]
mod tests {
    use super::UploadState;

    #[test]
    fn progress_reads_as_percent() {
        let sending = |loaded, total| UploadState::Sending { loaded, total };
        assert_eq!(sending(0.0, 0.0).percent(), 0.0);
        assert_eq!(sending(25.0, 100.0).percent(), 25.0);
        assert_eq!(sending(150.0, 100.0).percent(), 100.0);
        assert_eq!(UploadState::Done.percent(), 100.0);
        assert_eq!(UploadState::Failed("x".into()).percent(), 0.0);
    }
}
