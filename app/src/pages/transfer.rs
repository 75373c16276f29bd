//! The namespaces page's export and import dialogs, a separate chunk of the release bundle loaded
//! when one is first opened. Both start a job and hand it to the progress dialog.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::field_error::{DialogButtons, FieldError, FormError, run_submit};
use crate::components::job_progress::WatchedJob;
use crate::components::modal::{INPUT, LABEL, Modal};
use crate::components::radio_group::RadioGroup;
use crate::components::text::Hint;
use crate::dto::NamespaceDto;
use crate::error::AppError;
use crate::serverfns::jobs::start_export;

/// Which dialog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    Export,
    Import,
}

#[lazy]
pub fn transfer_dialog(
    which: Transfer,
    ns: NamespaceDto,
    on_close: Callback<()>,
    on_started: Callback<WatchedJob>,
) -> AnyView {
    match which {
        Transfer::Export => view! { <ExportDialog ns on_close on_started /> }.into_any(),
        Transfer::Import => view! { <ImportDialog ns on_close on_started /> }.into_any(),
    }
}

#[component]
fn ExportDialog(ns: NamespaceDto, on_close: Callback<()>, on_started: Callback<WatchedJob>) -> impl IntoView {
    let format = RwSignal::new("ndjson");
    let prefix = RwSignal::new(String::new());
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let (id, title) = (ns.id.clone(), ns.title.clone());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let prefix = Some(prefix.get_untracked()).filter(|p| !p.is_empty());
        let call = start_export(id.clone(), Some(format.get_untracked().to_owned()), prefix);
        let namespace = title.clone();
        run_submit(pending, error, call, move |started| {
            on_close.run(());
            on_started.run(WatchedJob { job_id: started.job_id, operation: "Export".to_owned(), namespace });
        });
    };
    view! {
        <Modal title=format!("Export {}", ns.title) on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["format", "prefix"] />
                <fieldset class="space-y-1">
                    <legend class=LABEL>"Format"</legend>
                    <RadioGroup
                        name="export-format"
                        value=format
                        options=vec![("json", "JSON (one array)"), ("ndjson", "NDJSON (one key per line)")]
                    />
                </fieldset>
                <FieldError error field="format" />
                <label class=LABEL>
                    "Prefix (optional)"
                    <input class=INPUT type="text" autocomplete="off" placeholder="Every key when empty" bind:value=prefix />
                </label>
                <FieldError error field="prefix" />
                <Hint>"The file downloads when the export is done; it stays available for a while from the job history."</Hint>
                <DialogButtons on_cancel=on_close label="Start export" pending />
            </form>
        </Modal>
    }
}

/// What the browser makes of a file before it is uploaded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportCheck {
    /// "JSON" or "NDJSON".
    pub format: &'static str,
    /// Items read (of the part read, for a large file).
    pub items: usize,
    /// The first five items: name and the start of the value.
    pub preview: Vec<(String, String)>,
    /// What is wrong, item by item (the first twenty).
    pub problems: Vec<String>,
    /// Only the start of the file was checked.
    pub partial: bool,
}

const MAX_PROBLEMS: usize = 20;

/// Checks an import file's text the way the server will: JSON (an array) when it starts with
/// `[`, NDJSON otherwise; each item an object with a `name` (or `key`) and a `value` (or
/// `value_base64`). `complete` is false when `text` is only the start of the file.
pub fn check_import(text: &str, complete: bool) -> ImportCheck {
    let mut check = ImportCheck { partial: !complete, ..Default::default() };
    let item = |check: &mut ImportCheck, where_: String, value: &serde_json::Value| {
        check.items += 1;
        let problem = match value {
            serde_json::Value::Object(map) => {
                let name = map.get("name").or_else(|| map.get("key"));
                match name {
                    None => Some("missing \"name\" (or \"key\")".to_owned()),
                    Some(n) if !n.is_string() => Some("\"name\" is not a string".to_owned()),
                    Some(n) if !map.contains_key("value") && !map.contains_key("value_base64") => {
                        Some(format!("{}: missing \"value\" (or \"value_base64\")", n.as_str().unwrap_or_default()))
                    }
                    Some(n) => {
                        if check.preview.len() < 5 {
                            let value = match map.get("value").or_else(|| map.get("value_base64")) {
                                Some(serde_json::Value::String(s)) => s.clone(),
                                Some(other) => other.to_string(),
                                None => String::new(),
                            };
                            let short: String = value.chars().take(60).collect();
                            let short = if short.len() < value.len() { format!("{short}…") } else { short };
                            check.preview.push((n.as_str().unwrap_or_default().to_owned(), short));
                        }
                        None
                    }
                }
            }
            _ => Some("not a JSON object".to_owned()),
        };
        if let Some(problem) = problem
            && check.problems.len() < MAX_PROBLEMS
        {
            check.problems.push(format!("{where_}: {problem}"));
        }
    };
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('[') {
        check.format = "JSON";
        if !complete {
            return check;
        }
        match serde_json::from_str::<Vec<serde_json::Value>>(trimmed) {
            Ok(items) => {
                for (i, value) in items.iter().enumerate() {
                    item(&mut check, format!("item {}", i + 1), value);
                }
            }
            Err(err) => check.problems.push(format!("not valid JSON: {err}")),
        }
    } else {
        check.format = "NDJSON";
        let mut lines: Vec<&str> = text.lines().collect();
        if !complete {
            // The last line may be cut short.
            lines.pop();
        }
        for (i, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(line) {
                Ok(value) => item(&mut check, format!("line {}", i + 1), &value),
                Err(err) => {
                    check.items += 1;
                    if check.problems.len() < MAX_PROBLEMS {
                        check.problems.push(format!("line {}: not valid JSON: {err}", i + 1));
                    }
                }
            }
        }
        if check.items == 0 && check.problems.is_empty() {
            check.problems.push("the file holds no items".to_owned());
        }
    }
    check
}

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
fn ImportDialog(ns: NamespaceDto, on_close: Callback<()>, on_started: Callback<WatchedJob>) -> impl IntoView {
    let collision = RwSignal::new("skip");
    let chosen = RwSignal::new(None::<Chosen>);
    let check = RwSignal::new(None::<ImportCheck>);
    let reading = RwSignal::new(false);
    let dragging = RwSignal::new(false);
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    // The browser's `File` itself, kept beside the signals (it stays on the browser's thread).
    #[cfg(target_arch = "wasm32")]
    let file = StoredValue::new_local(None::<web_sys::Blob>);
    #[cfg(target_arch = "wasm32")]
    let take = move |list: wasm_bindgen::JsValue| {
        let Some((blob, name)) = crate::browser::first_file(&list) else { return };
        let size = blob.size();
        file.set_value(Some(blob.clone()));
        chosen.set(Some(Chosen { name, size }));
        check.set(None);
        error.set(None);
        reading.set(true);
        leptos::task::spawn_local(async move {
            match crate::browser::read_text(&blob, CHECK_LIMIT).await {
                Ok(text) => check.set(Some(check_import(&text, size <= CHECK_LIMIT))),
                Err(err) => error.set(Some(AppError::invalid("file", format!("file: could not read it: {err}")))),
            }
            reading.set(false);
        });
    };
    #[cfg(not(target_arch = "wasm32"))]
    let take = move |_: ()| {};
    let on_file = move |ev: leptos::ev::Event| {
        #[cfg(target_arch = "wasm32")]
        if let Some(files) = ev.target().and_then(|t| crate::browser::property(&t, "files")) {
            take(files);
        }
        #[cfg(not(target_arch = "wasm32"))]
        let _ = (ev, take);
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(target_arch = "wasm32")]
        if let Some(files) =
            crate::browser::property(&ev, "dataTransfer").and_then(|d| crate::browser::property(&d, "files"))
        {
            take(files);
        }
    };
    let blocked = Signal::derive(move || {
        chosen.with(Option::is_none)
            || reading.get()
            || check.with(|c| c.as_ref().is_some_and(|c| !c.problems.is_empty()))
    });
    let (id, title) = (ns.id.clone(), ns.title.clone());
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if chosen.with_untracked(Option::is_none) {
            return;
        }
        #[cfg(target_arch = "wasm32")]
        let Some(blob) = file.get_value() else { return };
        let url = format!("/api/import/{}?collision={}", crate::pages::encode_query(&id), collision.get_untracked());
        let namespace = title.clone();
        let call = async move {
            #[cfg(target_arch = "wasm32")]
            {
                upload(&url, &blob).await
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                let _ = url;
                Err::<String, _>(AppError::internal())
            }
        };
        run_submit(pending, error, call, move |job_id| {
            on_close.run(());
            on_started.run(WatchedJob { job_id, operation: "Import".to_owned(), namespace });
        });
    };
    view! {
        <Modal title=format!("Import into {}", ns.title) on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["file", "collision", "format"] />
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
                <FieldError error field="file" />
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

#[cfg(test)]
mod tests {
    use super::check_import;

    #[test]
    fn ndjson_is_previewed_and_checked_line_by_line() {
        let text = "{\"name\":\"a\",\"value\":\"1\"}\n{\"key\":\"b\",\"value\":\"2\"}\nnope\n{\"value\":\"x\"}\n{\"name\":\"c\"}\n";
        let check = check_import(text, true);
        assert_eq!(check.format, "NDJSON");
        assert_eq!(check.items, 5);
        assert_eq!(check.preview, vec![("a".into(), "1".into()), ("b".into(), "2".into())]);
        assert_eq!(check.problems.len(), 3);
        assert!(check.problems[0].starts_with("line 3: not valid JSON"));
        assert_eq!(check.problems[1], "line 4: missing \"name\" (or \"key\")");
        assert_eq!(check.problems[2], "line 5: c: missing \"value\" (or \"value_base64\")");
    }

    #[test]
    fn json_arrays_and_cut_files() {
        let check = check_import("[{\"name\":\"a\",\"value_base64\":\"AA==\"}, 3]", true);
        assert_eq!(check.format, "JSON");
        assert_eq!(check.problems, vec!["item 2: not a JSON object".to_owned()]);
        assert!(!check_import("[1, 2", true).problems.is_empty());
        // A cut NDJSON file drops its last, partial line.
        let check = check_import("{\"name\":\"a\",\"value\":\"1\"}\n{\"name\":\"b\",\"va", false);
        assert!(check.problems.is_empty() && check.partial);
        assert_eq!(check.items, 1);
    }
}
