//! The import dialog: a file dropped or chosen, or JSON / NDJSON pasted, checked in the browser,
//! then uploaded (pasted text as a file would be: the same checks, the same job).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::check::ImportCheck;
#[cfg(target_arch = "wasm32")]
use super::check::check_import;
use crate::components::field_error::{DialogButtons, FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::job_progress::WatchedJob;
use crate::components::modal::{INPUT, LABEL, Modal};
use crate::components::radio_group::RadioGroup;
use crate::components::text::Hint;
use crate::dto::NamespaceDto;
use crate::error::AppError;

/// Files up to this size are checked whole in the browser; larger ones by their start.
#[cfg(target_arch = "wasm32")]
const CHECK_LIMIT: f64 = 8.0 * 1024.0 * 1024.0;

/// The chosen file's name and size.
#[derive(Clone)]
struct Chosen {
    name: String,
    size: f64,
}

#[component]
pub(super) fn ImportDialog(
    ns: NamespaceDto,
    on_close: Callback<()>,
    on_started: Callback<WatchedJob>,
) -> impl IntoView {
    let collision = RwSignal::new("skip");
    let chosen = RwSignal::new(None::<Chosen>);
    let check = RwSignal::new(None::<ImportCheck>);
    let reading = RwSignal::new(false);
    // The browser's `File` itself, kept beside the signals (it stays on the browser's thread).
    #[cfg(target_arch = "wasm32")]
    let file = StoredValue::new_local(None::<web_sys::Blob>);
    let (id, title) = (ns.id.clone(), ns.title.clone());
    let import = upload_action(
        id,
        #[cfg(target_arch = "wasm32")]
        file,
    );
    // What reading the file in the browser found.
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(import, checked);
    let pending = import.pending();
    on_success(import, move |job_id: &String| {
        on_close.run(());
        on_started.run(WatchedJob { job_id: job_id.clone(), operation: "Import".to_owned(), namespace: title.clone() });
    });
    // Pasted text, while no file was chosen since.
    let pasted = RwSignal::new(String::new());
    let paste = move |ev: leptos::ev::Event| {
        let text = event_target_value(&ev);
        checked.set(None);
        import.clear();
        #[cfg(target_arch = "wasm32")]
        {
            let blob = (!text.trim().is_empty()).then(|| crate::browser::text_blob(&text)).flatten();
            chosen.set(blob.as_ref().map(|b| Chosen { name: "Pasted text".to_owned(), size: b.size() }));
            check.set(blob.is_some().then(|| check_import(&text, true)));
            file.set_value(blob);
        }
        pasted.set(text);
    };
    let take = Callback::new(move |list: wasm_bindgen::JsValue| {
        #[cfg(target_arch = "wasm32")]
        {
            let Some((blob, name)) = crate::browser::first_file(&list) else { return };
            pasted.set(String::new());
            let size = blob.size();
            file.set_value(Some(blob.clone()));
            chosen.set(Some(Chosen { name, size }));
            check.set(None);
            // A new file: no error of the last one stays.
            checked.set(None);
            import.clear();
            reading.set(true);
            leptos::task::spawn_local(async move {
                match crate::browser::read_text(&blob, CHECK_LIMIT).await {
                    Ok(text) => check.set(Some(check_import(&text, size <= CHECK_LIMIT))),
                    Err(err) => checked.set(Some(AppError::invalid("file", format!("file: could not read it: {err}")))),
                }
                reading.set(false);
            });
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = list;
    });
    let blocked = Signal::derive(move || {
        chosen.with(Option::is_none)
            || reading.get()
            || check.with(|c| c.as_ref().is_some_and(|c| !c.problems.is_empty()))
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if chosen.with_untracked(Option::is_none) {
            return;
        }
        #[cfg(target_arch = "wasm32")]
        if file.with_value(Option::is_none) {
            return;
        }
        checked.set(None);
        import.dispatch_local(collision.get_untracked());
    };
    view! {
        <Modal title=format!("Import into {}", ns.title) on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["file", "collision", "format"] />
                <DropZone chosen on_files=take />
                <label class=LABEL>
                    "Or paste JSON or NDJSON"
                    <textarea
                        class=format!("{INPUT} font-mono text-xs")
                        rows="5"
                        spellcheck="false"
                        placeholder="{\"name\": \"user:1\", \"value\": \"…\"}"
                        prop:value=move || pasted.get()
                        on:input=paste
                    ></textarea>
                </label>
                <FieldError error field="file" />
                <CollisionChoice collision />
                <FieldError error field="collision" />
                <Show when=move || reading.get()>
                    <p class="text-sm">"Reading the file…"</p>
                </Show>
                {move || check.get().map(|c| view! { <CheckReport check=c /> })}
                <DialogButtons on_cancel=on_close label="Start import" pending blocked />
            </form>
        </Modal>
    }
}

/// Sends the file to `/api/import/{namespace}?collision=…` (the input), answering the job's id.
/// The upload is no server function (its body is the file), so the action is around it; its
/// future holds the browser's file, so it stays on this thread.
fn upload_action(
    namespace_id: String,
    #[cfg(target_arch = "wasm32")] file: StoredValue<Option<web_sys::Blob>, LocalStorage>,
) -> Action<&'static str, Result<String, AppError>> {
    Action::new_local(move |collision: &&'static str| {
        let url = format!("/api/import/{}?collision={collision}", crate::pages::encode_query(&namespace_id));
        #[cfg(target_arch = "wasm32")]
        let blob = file.get_value();
        async move {
            #[cfg(target_arch = "wasm32")]
            {
                match blob {
                    Some(blob) => upload(&url, &blob).await,
                    None => Err(AppError::invalid("file", "file: choose a file")),
                }
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                let _ = url;
                Err::<String, _>(AppError::internal())
            }
        }
    })
}

/// Where a file is dropped or chosen; the chosen file's name and size under it.
#[component]
fn DropZone(chosen: RwSignal<Option<Chosen>>, on_files: Callback<wasm_bindgen::JsValue>) -> impl IntoView {
    let dragging = RwSignal::new(false);
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(target_arch = "wasm32")]
        if let Some(files) = ev.target().and_then(|t| crate::browser::property(&t, "files")) {
            on_files.run(files);
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = ev;
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(target_arch = "wasm32")]
        if let Some(files) =
            crate::browser::property(&ev, "dataTransfer").and_then(|d| crate::browser::property(&d, "files"))
        {
            on_files.run(files);
        }
    };
    #[cfg(not(target_arch = "wasm32"))]
    let _ = on_files;
    view! {
                <div
                    data-testid="drop-zone"
                    class="rounded-md border-2 border-dashed p-4 text-center text-sm"
                    class=("border-indigo-500", move || dragging.get())
                    class=("border-slate-300", move || !dragging.get())
                    class=("dark:border-slate-700", move || !dragging.get())
                    on:dragover=move |ev: leptos::ev::DragEvent| {
                        ev.prevent_default();
                        dragging.set(true);
                    }
                    on:dragleave=move |_| dragging.set(false)
                    on:drop=on_drop
                >
                    <p>"Drop a JSON or NDJSON file here, or choose one."</p>
                    <label class=format!("{LABEL} mt-2")>
                        "File"
                        <input class=INPUT type="file" accept=".json,.ndjson,.jsonl,application/json,application/x-ndjson" on:change=on_file />
                    </label>
                    {move || {
                        chosen.get().map(|f| view! { <p class="mt-1 text-xs" data-testid="chosen-file">{format!("{} ({})", f.name, crate::format::bytes(f.size as u64))}</p> })
                    }}
                </div>
    }
}

/// What happens to keys that already exist, and a word on each choice.
#[component]
fn CollisionChoice(collision: RwSignal<&'static str>) -> impl IntoView {
    view! {
                <fieldset class="space-y-1">
                    <legend class=LABEL>"When a key already exists"</legend>
                    <RadioGroup
                        name="import-collision"
                        value=collision
                        options=vec![
                            ("skip", "Skip existing keys"),
                            ("overwrite", "Overwrite existing keys"),
                            ("fail", "Fail if any key exists"),
                        ]
                    />
                </fieldset>
                <Hint>
                    {move || match collision.get() {
                        "skip" => "Keys already in the namespace keep their value; only new keys are written.",
                        "overwrite" => "Keys already in the namespace get the file's value.",
                        _ => "Nothing is written unless every key in the file is new.",
                    }}
                </Hint>
    }
}

#[component]
fn CheckReport(check: ImportCheck) -> impl IntoView {
    let summary = format!(
        "{} detected; {}{}.",
        check.format,
        crate::format::count(check.items as u64, "item"),
        if check.partial { " in the part checked (the server checks the rest)" } else { "" },
    );
    let problems = check.problems.clone();
    let has_problems = !problems.is_empty();
    view! {
        <div class="space-y-2 text-sm" data-testid="import-check">
            <p>{summary}</p>
            {(!check.preview.is_empty())
                .then(|| {
                    view! {
                        <table class="w-full text-left text-xs" aria-label="Preview">
                            <thead>
                                <tr>
                                    <th scope="col" class="p-1">"Key"</th>
                                    <th scope="col" class="p-1">"Value"</th>
                                </tr>
                            </thead>
                            <tbody>
                                {check
                                    .preview
                                    .into_iter()
                                    .map(|(k, v)| view! { <tr class="border-t border-slate-200 dark:border-slate-800"><td class="p-1 font-mono break-all">{k}</td><td class="p-1 font-mono break-all">{v}</td></tr> })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                })}
            {has_problems
                .then(|| {
                    view! {
                        <div role="alert" class="rounded-md bg-red-50 p-2 text-red-700 dark:bg-red-950 dark:text-red-300">
                            <p class="font-medium">"Fix these before importing:"</p>
                            <ul class="list-disc pl-5" aria-label="Problems">
                                {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                            </ul>
                        </div>
                    }
                })}
        </div>
    }
}

/// Uploads the file as the request body; answers the job's id.
#[cfg(target_arch = "wasm32")]
async fn upload(url: &str, file: &web_sys::Blob) -> Result<String, AppError> {
    let (status, text) = crate::browser::fetch_text("POST", url, Some(file.as_ref()))
        .await
        .map_err(|err| AppError::new("unreachable", format!("the server could not be reached: {err}"), None))?;
    if status == 202 {
        #[derive(serde::Deserialize)]
        struct Started {
            job_id: String,
        }
        return serde_json::from_str::<Started>(&text)
            .map(|s| s.job_id)
            .map_err(|err| AppError::new("internal", format!("unexpected response from the server: {err}"), None));
    }
    Err(serde_json::from_str::<AppError>(&text)
        .unwrap_or_else(|_| AppError::new("internal", format!("the upload failed ({status})"), None)))
}
