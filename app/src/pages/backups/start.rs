//! "Back up now": one namespace or several (one job, one backup each), or the keys with a prefix
//! of each, to one of the server's backup targets, as a job whose progress the page follows.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::LOCAL;
use crate::components::field_error::{FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::job_progress::WatchedJob;
use crate::components::modal::{BUTTON, INPUT, LABEL};
use crate::dto::{JobStartedDto, NamespaceDto, NamespacePageDto};
use crate::error::AppError;
use crate::serverfns::backups::{list_backup_targets, start_backup};

/// What the form asks the server.
#[derive(Clone)]
struct Ask {
    namespace_ids: Vec<String>,
    prefix: Option<String>,
    target: String,
}

#[component]
pub(super) fn BackupNowForm(
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
    /// The target chosen: where the backup goes, and whose backups the page lists.
    target: RwSignal<String>,
    on_started: Callback<WatchedJob>,
) -> impl IntoView {
    let chosen = RwSignal::new(Vec::<String>::new());
    let prefix = RwSignal::new(String::new());
    // The title of the namespace being backed up, for the progress dialog.
    let title = StoredValue::new(String::new());
    let start = Action::new(|ask: &Ask| {
        let ask = ask.clone();
        start_backup(None, Some(ask.namespace_ids), ask.prefix, Some(ask.target))
    });
    on_success(start, move |started: &JobStartedDto| {
        let operation = "Backup".to_owned();
        on_started.run(WatchedJob { job_id: started.job_id.clone(), operation, namespace: title.get_value() });
    });
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(start, checked);
    let pending = start.pending();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let namespace_ids = chosen.get_untracked();
        if namespace_ids.is_empty() {
            return checked.set(Some(AppError::invalid("namespace_ids", "namespace_ids: choose a namespace")));
        }
        checked.set(None);
        let titles: Vec<String> = namespaces
            .get_untracked()
            .and_then(Result::ok)
            .map(|page| {
                page.namespaces.into_iter().filter(|n| namespace_ids.contains(&n.id)).map(|n| n.title).collect()
            })
            .unwrap_or_default();
        title.set_value(match titles.as_slice() {
            [one] => one.clone(),
            _ => format!("{} namespaces", namespace_ids.len()),
        });
        let prefix = Some(prefix.get_untracked()).filter(|p| !p.is_empty());
        start.dispatch(Ask { namespace_ids, prefix, target: target.get_untracked() });
    };
    view! {
        <form
            class="grid items-start gap-3 rounded-md border border-slate-200 bg-white p-3 sm:grid-cols-4 dark:border-slate-800 dark:bg-slate-900"
            aria-labelledby="back-up-now"
            on:submit=submit
        >
            <h2 id="back-up-now" class="text-lg font-semibold sm:col-span-4">
                "Back up now"
            </h2>
            <div class="sm:col-span-4">
                <FormError error fields=&["namespace_ids", "prefix", "target"] />
            </div>
            <div>
                <Suspense fallback=|| view! { <p>"Loading namespaces…"</p> }>
                    {move || Suspend::new(async move {
                        let list = namespaces.await.map(|p| p.namespaces).unwrap_or_default();
                        view! { <NamespaceChecks chosen namespaces=list /> }
                    })}
                </Suspense>
                <FieldError error field="namespace_ids" />
            </div>
            <div>
                <label class=LABEL>
                    "Only keys starting with"
                    <input class=INPUT type="text" autocomplete="off" placeholder="every key" bind:value=prefix />
                </label>
                <FieldError error field="prefix" />
            </div>
            <div>
                <TargetSelect target />
                <FieldError error field="target" />
            </div>
            <button type="submit" class=format!("{BUTTON} self-end justify-self-start") disabled=move || pending.get()>
                "Back up now"
            </button>
        </form>
    }
}

/// A checkbox per namespace: the ones backed up (one job, one backup each).
#[component]
fn NamespaceChecks(chosen: RwSignal<Vec<String>>, namespaces: Vec<NamespaceDto>) -> impl IntoView {
    view! {
        <fieldset>
            <legend class=LABEL>"Namespaces"</legend>
            <div class="mt-1 max-h-40 space-y-1 overflow-auto rounded-md border border-slate-200 p-2 dark:border-slate-700">
                {namespaces
                    .into_iter()
                    .map(|n| {
                        let (id, toggled) = (n.id.clone(), n.id);
                        let checked = move || chosen.with(|c| c.contains(&id));
                        let toggle = move |ev| {
                            let on = event_target_checked(&ev);
                            chosen.update(|c| {
                                c.retain(|x| *x != toggled);
                                if on {
                                    c.push(toggled.clone());
                                }
                            });
                        };
                        view! {
                            <label class="flex items-center gap-2 text-sm">
                                <input type="checkbox" prop:checked=checked on:change=toggle />
                                {n.title}
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </fieldset>
    }
}

/// The server's backup targets (`local` first), each with where it is; a plan's dialog has one
/// too.
#[component]
pub(super) fn TargetSelect(target: RwSignal<String>) -> impl IntoView {
    let targets = Resource::new(|| (), |_| list_backup_targets());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let options: Vec<(String, String)> = match targets.await {
                    Ok(list) => list.targets.into_iter().map(|t| {
                        let label = if t.location.is_empty() { t.name.clone() } else { format!("{} ({})", t.name, t.location) };
                        (t.name, label)
                    }).collect(),
                    Err(_) => vec![(LOCAL.to_owned(), LOCAL.to_owned())],
                };
                view! {
                    <label class=LABEL>
                        "Target"
                        <select class=INPUT aria-label="Target" on:change=move |ev| target.set(event_target_value(&ev))>
                            {options
                                .into_iter()
                                .map(|(name, text)| {
                                    let chosen = name.clone();
                                    view! {
                                        <option value=name selected=move || target.with(|t| *t == chosen)>
                                            {text}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                }
            })}
        </Suspense>
    }
}
