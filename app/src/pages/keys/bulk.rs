//! The keys page's bulk bar and its dialogs: copy, move, TTL, tags and delete for the selected
//! keys, or for every key matching the prefix. Each dialog previews first (a dry run: how many
//! keys would be created, changed, deleted or skipped, the first of each, a diff of a changed
//! one); its button then runs the job as previewed, and any change to the dialog asks for a new
//! preview. A separate chunk of the release bundle, loaded when something is first selected.

use std::collections::BTreeSet;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::field_error::{DialogButtons, FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::job_progress::WatchedJob;
use crate::components::modal::{BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL, Modal};
use crate::components::preview::{ChangedKeys, PreviewClass};
use crate::components::radio_group::RadioGroup;
use crate::components::text::Hint;
use crate::dto::{BulkDto, BulkPreviewDto, JobStartedDto};
use crate::error::AppError;
use crate::serverfns::jobs::{BulkDelete, BulkTag, BulkTtl, bulk_copy, bulk_move};
use crate::serverfns::namespaces::list_namespaces;

/// The keys a bulk action works on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Selection {
    /// Rows ticked one by one.
    pub keys: BTreeSet<String>,
    /// Every key matching the prefix filter instead of the rows.
    pub all_matching: bool,
}

impl Selection {
    pub fn is_empty(&self) -> bool {
        !self.all_matching && self.keys.is_empty()
    }
}

/// What the bulk bar needs from the keys page.
#[derive(Clone, Copy)]
pub struct BulkContext {
    pub namespace_id: Memo<String>,
    pub namespace_title: Signal<String>,
    /// Keys in the namespace, when known.
    pub key_count: Signal<Option<u64>>,
    pub prefix: Memo<String>,
    pub selection: RwSignal<Selection>,
    pub on_started: Callback<WatchedJob>,
}

impl BulkContext {
    /// The `(keys, prefix)` arguments of a bulk server function.
    fn target(&self) -> (Option<Vec<String>>, Option<String>) {
        let selection = self.selection.get_untracked();
        if selection.all_matching {
            (None, Some(self.prefix.get_untracked()))
        } else {
            (Some(selection.keys.into_iter().collect()), None)
        }
    }

    /// "3 keys", "all 20000 keys", "all keys matching the prefix "user:"".
    fn describe(&self) -> String {
        let selection = self.selection.get();
        if !selection.all_matching {
            return crate::format::count(selection.keys.len() as u64, "key");
        }
        let prefix = self.prefix.get();
        if prefix.is_empty() {
            match self.key_count.get() {
                Some(n) => format!("all {}", crate::format::count(n, "key")),
                None => "every key".to_owned(),
            }
        } else {
            format!("all keys matching the prefix \"{prefix}\"")
        }
    }

    fn started(&self, operation: &str, started: JobStartedDto) {
        self.selection.set(Selection::default());
        self.on_started.run(WatchedJob {
            job_id: started.job_id,
            operation: operation.to_owned(),
            namespace: self.namespace_title.get_untracked(),
        });
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BulkAction {
    Copy,
    Move,
    Ttl,
    Tags,
    Delete,
}

#[lazy]
pub fn bulk_bar(ctx: BulkContext) -> AnyView {
    view! { <BulkBar ctx /> }.into_any()
}

#[component]
fn BulkBar(ctx: BulkContext) -> impl IntoView {
    let open = RwSignal::new(None::<BulkAction>);
    let close = Callback::new(move |_: ()| open.set(None));
    let button = move |action: BulkAction, label: &'static str| {
        let class = if action == BulkAction::Delete { BUTTON_DANGER } else { BUTTON_SECONDARY };
        view! {
            <button type="button" class=class on:click=move |_| open.set(Some(action))>
                {label}
            </button>
        }
    };
    view! {
        <div
            role="region"
            aria-label="Bulk actions"
            class="sticky bottom-2 z-30 flex flex-wrap items-center gap-2 rounded-md border border-indigo-200 bg-indigo-50 p-2 text-sm shadow dark:border-indigo-900 dark:bg-indigo-950"
        >
            <span class="mr-auto font-medium" data-testid="selection-summary">
                {move || format!("Selected: {}", ctx.describe())}
            </span>
            {button(BulkAction::Copy, "Copy to namespace")}
            {button(BulkAction::Move, "Move to namespace")}
            {button(BulkAction::Ttl, "Update TTL")}
            {button(BulkAction::Tags, "Apply tags")}
            {button(BulkAction::Delete, "Delete selected")}
            <button type="button" class=BUTTON_SECONDARY on:click=move |_| ctx.selection.set(Selection::default())>
                "Clear selection"
            </button>
        </div>
        {move || {
            open.get()
                .map(|action| match action {
                    BulkAction::Copy => view! { <TransferDialog ctx moving=false on_close=close /> }.into_any(),
                    BulkAction::Move => view! { <TransferDialog ctx moving=true on_close=close /> }.into_any(),
                    BulkAction::Ttl => view! { <TtlDialog ctx on_close=close /> }.into_any(),
                    BulkAction::Tags => view! { <TagsDialog ctx on_close=close /> }.into_any(),
                    BulkAction::Delete => view! { <DeleteDialog ctx on_close=close /> }.into_any(),
                })
        }}
    }
}

/// A dialog's preview: set by a dry run's answer, dropped when anything in the dialog changes.
type Plan = RwSignal<Option<BulkPreviewDto>>;

/// On each answer of `action`: a preview shows in the dialog; a job started clears the
/// selection, closes the dialog and opens the job's progress.
fn on_answer<I: 'static>(
    action: Action<I, Result<BulkDto, AppError>>,
    ctx: BulkContext,
    operation: &'static str,
    on_close: Callback<()>,
    plan: Plan,
) {
    on_success(action, move |answer: &BulkDto| match answer {
        BulkDto::Preview(preview) => plan.set(Some(preview.clone())),
        BulkDto::Started(started) => {
            on_close.run(());
            ctx.started(operation, started.clone());
        }
    });
}

/// "Preview" until the dialog has one, then `verb` (which runs the job as previewed).
fn step_label(plan: Plan, verb: &'static str) -> Signal<&'static str> {
    Signal::derive(move || if plan.with(Option::is_some) { verb } else { "Preview" })
}

/// Whether the next submit is a dry run (no preview yet).
fn dry_run(plan: Plan) -> Option<bool> {
    Some(plan.with_untracked(Option::is_none))
}

/// A bulk job's preview: each class with its count and first names, and the diff of a key it
/// would change.
#[component]
fn PlanView(preview: BulkPreviewDto) -> impl IntoView {
    let c = &preview.counts;
    let moving = preview.job_type == "bulk_move";
    let rows = [
        ("Created", c.created, preview.created.clone()),
        ("Changed", c.changed, preview.changed.clone()),
        (if moving { "Taken from this namespace" } else { "Deleted" }, c.deleted, preview.deleted.clone()),
        ("Skipped (left as they are)", c.skipped, preview.skipped.clone()),
    ];
    let nothing = c.created + c.changed + c.deleted == 0;
    view! {
        <div class="rounded-md border border-slate-200 p-3 text-sm dark:border-slate-700" data-testid="bulk-preview">
            <p class="font-medium">"Nothing is written until you confirm. The job would:"</p>
            <ul class="mt-1 space-y-1">
                {rows.into_iter().map(|(what, n, first)| view! { <PreviewClass what n first /> }).collect_view()}
            </ul>
            {nothing.then(|| view! { <p role="status" class="mt-2">"No key would change."</p> })}
            <ChangedKeys changes=preview.changes.clone() then="copied from here".to_owned() />
        </div>
    }
}

/// Copy or move: the keys chosen, the target namespace and whether to overwrite.
type TransferInput = (String, Option<Vec<String>>, Option<String>, String, Option<bool>, Option<bool>);

#[component]
fn TransferDialog(ctx: BulkContext, moving: bool, on_close: Callback<()>) -> impl IntoView {
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    let target = RwSignal::new(String::new());
    let overwrite = RwSignal::new(false);
    let (title, operation, verb) =
        if moving { ("Move to namespace", "Move keys", "Move") } else { ("Copy to namespace", "Copy keys", "Copy") };
    let start = Action::new(move |input: &TransferInput| {
        let (namespace_id, keys, prefix, target, overwrite, dry_run) = input.clone();
        async move {
            if moving {
                bulk_move(namespace_id, keys, prefix, target, overwrite, dry_run).await
            } else {
                bulk_copy(namespace_id, keys, prefix, target, overwrite, dry_run).await
            }
        }
    });
    let plan: Plan = RwSignal::new(None);
    Effect::watch(move || (target.get(), overwrite.get()), move |_, _, _| plan.set(None), false);
    on_answer(start, ctx, operation, on_close, plan);
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(start, checked);
    let pending = start.pending();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (keys, prefix) = ctx.target();
        let namespace_id = ctx.namespace_id.get_untracked();
        let target = target.get_untracked();
        if target.is_empty() {
            return checked
                .set(Some(AppError::invalid("target_namespace_id", "target_namespace_id: choose a namespace")));
        }
        checked.set(None);
        start.dispatch((namespace_id, keys, prefix, target, Some(overwrite.get_untracked()), dry_run(plan)));
    };
    view! {
        <Modal title=title.to_owned() on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["target_namespace_id", "overwrite"] />
                <p class="text-sm">{move || format!("{verb} {} to another namespace.", ctx.describe())}</p>
                <Suspense fallback=|| view! { <p>"Loading namespaces…"</p> }>
                    {move || Suspend::new(async move {
                        let current = ctx.namespace_id.get_untracked();
                        let others: Vec<_> = namespaces
                            .await
                            .map(|p| p.namespaces)
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|n| n.id != current)
                            .collect();
                        view! {
                            <label class=LABEL>
                                "Target namespace"
                                <select class=INPUT required on:change=move |ev| target.set(event_target_value(&ev))>
                                    <option value="">"Choose a namespace"</option>
                                    {others
                                        .into_iter()
                                        .map(|n| view! { <option value=n.id>{n.title}</option> })
                                        .collect_view()}
                                </select>
                            </label>
                        }
                    })}
                </Suspense>
                <FieldError error field="target_namespace_id" />
                <label class="flex items-center gap-2 text-sm">
                    <input type="checkbox" bind:checked=overwrite />
                    "Overwrite existing keys"
                </label>
                <Hint>
                    {move || {
                        if overwrite.get() {
                            "Keys that already exist in the target are replaced."
                        } else if moving {
                            "Keys that already exist in the target are skipped and stay in this namespace."
                        } else {
                            "Keys that already exist in the target are skipped."
                        }
                    }}
                </Hint>
                {move || plan.get().map(|preview| view! { <PlanView preview /> })}
                <DialogButtons on_cancel=on_close label=step_label(plan, verb) pending />
            </form>
        </Modal>
    }
}

#[component]
fn TtlDialog(ctx: BulkContext, on_close: Callback<()>) -> impl IntoView {
    let remove = RwSignal::new(false);
    let seconds = RwSignal::new("3600".to_owned());
    let start = ServerAction::<BulkTtl>::new();
    let plan: Plan = RwSignal::new(None);
    Effect::watch(move || (remove.get(), seconds.get()), move |_, _, _| plan.set(None), false);
    on_answer(*start, ctx, "Update TTL", on_close, plan);
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(*start, checked);
    let pending = start.pending();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (keys, prefix) = ctx.target();
        let namespace_id = ctx.namespace_id.get_untracked();
        let ttl = if remove.get_untracked() {
            None
        } else {
            match seconds.get_untracked().trim().parse::<i64>() {
                Ok(s) => Some(s),
                Err(_) => {
                    return checked.set(Some(AppError::invalid(
                        "expiration_ttl",
                        "expiration_ttl: enter a whole number of seconds",
                    )));
                }
            }
        };
        let remove = remove.get_untracked().then_some(true);
        checked.set(None);
        let dry_run = dry_run(plan);
        start.dispatch(BulkTtl { namespace_id, keys, prefix, expiration_ttl: ttl, expiration: None, remove, dry_run });
    };
    view! {
        <Modal title="Update TTL".to_owned() on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["expiration_ttl", "expiration", "remove"] />
                <p class="text-sm">{move || format!("Change the expiration of {}. Values and metadata stay as they are.", ctx.describe())}</p>
                <fieldset class="space-y-2">
                    <legend class=LABEL>"Expiration"</legend>
                    <RadioGroup name="bulk-ttl" value=remove options=vec![(false, "Expire after a TTL"), (true, "Remove expiration")] />
                </fieldset>
                <Show when=move || !remove.get()>
                    <label class=LABEL>
                        "TTL (seconds)"
                        <input class=INPUT type="number" min="60" value=seconds.get_untracked() bind:value=seconds />
                    </label>
                    <Hint>"At least 60 seconds; counted from when each key is updated."</Hint>
                </Show>
                <FieldError error field="expiration_ttl" />
                {move || plan.get().map(|preview| view! { <PlanView preview /> })}
                <DialogButtons on_cancel=on_close label=step_label(plan, "Update TTL") pending />
            </form>
        </Modal>
    }
}

#[component]
fn TagsDialog(ctx: BulkContext, on_close: Callback<()>) -> impl IntoView {
    let tags = RwSignal::new(String::new());
    let operation = RwSignal::new("add");
    let start = ServerAction::<BulkTag>::new();
    let plan: Plan = RwSignal::new(None);
    Effect::watch(move || (tags.get(), operation.get()), move |_, _, _| plan.set(None), false);
    on_answer(*start, ctx, "Apply tags", on_close, plan);
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(*start, checked);
    let pending = start.pending();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let (keys, prefix) = ctx.target();
        let namespace_id = ctx.namespace_id.get_untracked();
        let list: Vec<String> =
            tags.get_untracked().split(',').map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned).collect();
        let op = operation.get_untracked();
        if list.is_empty() && op != "replace" {
            return checked.set(Some(AppError::invalid("tags", "tags: enter at least one tag")));
        }
        checked.set(None);
        let dry_run = dry_run(plan);
        start.dispatch(BulkTag { namespace_id, keys, prefix, tags: list, operation: op.to_owned(), dry_run });
    };
    view! {
        <Modal title="Apply tags".to_owned() on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["tags", "operation"] />
                <p class="text-sm">{move || format!("Change the tags of {}.", ctx.describe())}</p>
                <label class=LABEL>
                    "Tags"
                    <input class=INPUT type="text" placeholder="hot, eu" autocomplete="off" bind:value=tags />
                </label>
                <Hint>"Separate tags with commas."</Hint>
                <FieldError error field="tags" />
                <fieldset class="space-y-1">
                    <legend class=LABEL>"How"</legend>
                    <RadioGroup
                        name="bulk-tags"
                        value=operation
                        options=vec![
                            ("add", "Add these tags"),
                            ("remove", "Remove these tags"),
                            ("replace", "Replace all tags with these"),
                        ]
                    />
                </fieldset>
                <Hint>
                    {move || match operation.get() {
                        "add" => "Each key keeps its tags and gains these.",
                        "remove" => "These tags are taken off each key; its other tags stay.",
                        _ => "Each key's tags become exactly these; its other tags are removed.",
                    }}
                </Hint>
                <FieldError error field="operation" />
                {move || plan.get().map(|preview| view! { <PlanView preview /> })}
                <DialogButtons on_cancel=on_close label=step_label(plan, "Apply tags") pending />
            </form>
        </Modal>
    }
}

#[component]
fn DeleteDialog(ctx: BulkContext, on_close: Callback<()>) -> impl IntoView {
    let delete = ServerAction::<BulkDelete>::new();
    let plan: Plan = RwSignal::new(None);
    on_answer(*delete, ctx, "Delete keys", on_close, plan);
    let input = move || {
        let (keys, prefix) = ctx.target();
        BulkDelete { namespace_id: ctx.namespace_id.get_untracked(), keys, prefix, dry_run: dry_run(plan) }
    };
    view! {
        <ConfirmDialog
            title="Delete selected keys".to_owned()
            label=step_label(plan, "Delete")
            on_close
            action=*delete
            input
        >
            <p class="text-sm" data-testid="delete-summary">
                {move || format!("Delete {}? Their tags and custom metadata go with them.", ctx.describe())}
            </p>
            {move || plan.get().map(|preview| view! { <PlanView preview /> })}
        </ConfirmDialog>
    }
}
