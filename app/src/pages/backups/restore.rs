//! "Restore…": a backup (or the keys with a prefix of it) into an existing namespace or a new
//! one, in a mode. A preview always comes first (how many keys are created, changed, deleted,
//! left alone, and which); the restore then runs as a job with exactly the parameters
//! previewed. Changing any of them asks for a new preview.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::NamespaceSelect;
use crate::components::field_error::{FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::job_progress::WatchedJob;
use crate::components::modal::{BUTTON, BUTTON_DANGER, BUTTON_SECONDARY, INPUT, LABEL, Modal};
use crate::components::preview::{ChangedKeys, PreviewClass};
use crate::components::radio_group::RadioGroup;
use crate::components::text::Hint;
use crate::dto::{BackupDto, NamespaceDto, RestoreDto, RestorePreviewDto};
use crate::error::AppError;
use crate::format;
use crate::serverfns::backups::restore_backup;

/// The dialog's fields.
#[derive(Clone, Copy)]
struct Fields {
    /// Into a new namespace (titled `title`) rather than the existing `namespace_id`.
    new_namespace: RwSignal<bool>,
    namespace_id: RwSignal<String>,
    title: RwSignal<String>,
    prefix: RwSignal<String>,
    mode: RwSignal<&'static str>,
}

/// What the dialog asks the server, less whether to only look.
#[derive(Clone, Debug, PartialEq)]
struct Ask {
    backup_id: String,
    target: String,
    namespace_id: Option<String>,
    new_namespace_title: Option<String>,
    prefix: Option<String>,
    mode: &'static str,
}

impl Fields {
    /// The request the fields make now, or what is missing, by field.
    fn ask(&self, backup_id: &str, target: &str) -> Result<Ask, AppError> {
        let (namespace_id, new_namespace_title) = if self.new_namespace.get_untracked() {
            let title = self.title.get_untracked().trim().to_owned();
            if title.is_empty() {
                return Err(AppError::invalid("new_namespace_title", "new_namespace_title: enter a title"));
            }
            (None, Some(title))
        } else {
            let id = self.namespace_id.get_untracked();
            if id.is_empty() {
                return Err(AppError::invalid("namespace_id", "namespace_id: choose a namespace"));
            }
            (Some(id), None)
        };
        let prefix = Some(self.prefix.get_untracked()).filter(|p| !p.is_empty());
        let (backup_id, target, mode) = (backup_id.to_owned(), target.to_owned(), self.mode.get_untracked());
        Ok(Ask { backup_id, target, namespace_id, new_namespace_title, prefix, mode })
    }

    /// The title of the namespace restored into.
    fn destination(&self, namespaces: &[NamespaceDto]) -> String {
        if self.new_namespace.get_untracked() {
            return self.title.get_untracked().trim().to_owned();
        }
        let id = self.namespace_id.get_untracked();
        namespaces.iter().find(|n| n.id == id).map(|n| n.title.clone()).unwrap_or(id)
    }
}

/// The dialog's one action: a preview (`true`: a dry run) or the restore itself, of an ask;
/// it answers with the ask.
type RestoreAction = Action<(Ask, bool), Result<(Ask, RestoreDto), AppError>>;

/// The action, and what follows its answers: a preview is kept with the parameters it was asked
/// for (unless the fields changed meanwhile); a started restore closes the dialog and hands its
/// job to the page.
fn restore_action(
    fields: Fields,
    source: StoredValue<(String, String)>,
    namespaces: StoredValue<Vec<NamespaceDto>>,
    preview: RwSignal<Option<(Ask, RestorePreviewDto)>>,
    on_close: Callback<()>,
    on_started: Callback<WatchedJob>,
) -> RestoreAction {
    let action: RestoreAction = Action::new(|(ask, dry_run): &(Ask, bool)| {
        let (asked, a, dry_run) = (ask.clone(), ask.clone(), *dry_run);
        async move {
            let mode = Some(a.mode.to_owned());
            let answer = restore_backup(
                a.backup_id,
                a.namespace_id,
                a.new_namespace_title,
                a.prefix,
                mode,
                Some(dry_run),
                Some(a.target),
            )
            .await?;
            Ok((asked, answer))
        }
    });
    on_success(action, move |(asked, answer): &(Ask, RestoreDto)| match answer {
        RestoreDto::Preview(p) => {
            let now = source.with_value(|(backup_id, target)| fields.ask(backup_id, target).ok());
            if now.as_ref() == Some(asked) {
                preview.set(Some((asked.clone(), (**p).clone())));
            }
        }
        RestoreDto::Started(started) => {
            let namespace = namespaces.with_value(|list| fields.destination(list));
            on_close.run(());
            on_started.run(WatchedJob { job_id: started.job_id.clone(), operation: "Restore".to_owned(), namespace });
        }
    });
    action
}

#[component]
pub(super) fn RestoreDialog(
    backup: BackupDto,
    /// The target the backup is on.
    target: String,
    namespaces: Vec<NamespaceDto>,
    on_close: Callback<()>,
    on_started: Callback<WatchedJob>,
) -> impl IntoView {
    let known = |id: &String| namespaces.iter().any(|n| n.id == *id);
    let fields = Fields {
        new_namespace: RwSignal::new(false),
        namespace_id: RwSignal::new(backup.namespace_id.clone().filter(known).unwrap_or_default()),
        title: RwSignal::new(String::new()),
        prefix: RwSignal::new(String::new()),
        mode: RwSignal::new("add"),
    };
    // The parameters previewed, and what the preview found; any change to the fields drops it.
    let preview = RwSignal::new(None::<(Ask, RestorePreviewDto)>);
    let f = fields;
    Effect::watch(
        move || (f.new_namespace.get(), f.namespace_id.get(), f.title.get(), f.prefix.get(), f.mode.get()),
        move |_, _, _| preview.set(None),
        false,
    );
    let source = StoredValue::new((backup.backup_id.clone(), target));
    let namespaces = StoredValue::new(namespaces);
    let ask = restore_action(fields, source, namespaces, preview, on_close, on_started);
    let checked = RwSignal::new(None::<AppError>);
    let error = form_error(ask, checked);
    let pending = ask.pending();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let next = match preview.get_untracked() {
            Some((previewed, _)) => Ok((previewed, false)),
            None => source.with_value(|(backup_id, target)| fields.ask(backup_id, target)).map(|a| (a, true)),
        };
        match next {
            Ok(next) => {
                checked.set(None);
                ask.dispatch(next);
            }
            Err(err) => checked.set(Some(err)),
        }
    };
    let previewed = move || preview.with(Option::is_some);
    view! {
        <Modal title="Restore a backup".to_owned() on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=&["namespace_id", "new_namespace_title", "prefix", "mode"] />
                <BackupSummary backup />
                <IntoChoice fields namespaces=namespaces.get_value() error />
                <label class=LABEL>
                    "Only keys starting with"
                    <input class=INPUT type="text" autocomplete="off" placeholder="every key of the backup" bind:value=fields.prefix />
                </label>
                <FieldError error field="prefix" />
                <ModeChoice mode=fields.mode />
                <FieldError error field="mode" />
                {move || preview.get().map(|(_, p)| view! { <RestorePreview preview=p /> })}
                <div class="flex justify-end gap-2">
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_close.run(())>
                        "Cancel"
                    </button>
                    <button type="submit" class=move || if previewed() { BUTTON_DANGER } else { BUTTON } disabled=move || pending.get()>
                        {move || if previewed() { "Restore" } else { "Preview" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// Which backup: its id, namespace, size and moment.
#[component]
fn BackupSummary(backup: BackupDto) -> impl IntoView {
    let namespace = backup.namespace_title.or(backup.namespace_id).unwrap_or_default();
    let keys = format::count(backup.key_count.unwrap_or_default(), "key");
    let taken = backup.snapshot_at.map(format::utc_seconds).unwrap_or_default();
    view! {
        <p class="text-sm">
            {format!("The backup of {namespace} ({keys}, taken {taken}): ")}
            <span class="font-mono text-xs break-all">{backup.backup_id}</span>
        </p>
    }
}

/// Into an existing namespace (a select) or a new one (its title).
#[component]
fn IntoChoice(fields: Fields, namespaces: Vec<NamespaceDto>, error: Signal<Option<AppError>>) -> impl IntoView {
    let namespaces = StoredValue::new(namespaces);
    view! {
        <fieldset class="space-y-1">
            <legend class=LABEL>"Restore into"</legend>
            <RadioGroup
                name="restore-into"
                value=fields.new_namespace
                options=vec![(false, "An existing namespace"), (true, "A new namespace")]
            />
        </fieldset>
        {move || {
            if fields.new_namespace.get() {
                view! {
                    <label class=LABEL>
                        "New namespace title"
                        <input class=INPUT type="text" autocomplete="off" required bind:value=fields.title />
                    </label>
                    <FieldError error field="new_namespace_title" />
                }
                    .into_any()
            } else {
                view! {
                    <NamespaceSelect label="Namespace" value=fields.namespace_id namespaces=namespaces.get_value() />
                    <FieldError error field="namespace_id" />
                }
                    .into_any()
            }
        }}
    }
}

/// Which keys a restore writes, and a word on each choice.
#[component]
fn ModeChoice(mode: RwSignal<&'static str>) -> impl IntoView {
    view! {
        <fieldset class="space-y-1">
            <legend class=LABEL>"Mode"</legend>
            <RadioGroup
                name="restore-mode"
                value=mode
                options=vec![("add", "Add missing keys"), ("overwrite", "Overwrite"), ("equal", "Make equal")]
            />
        </fieldset>
        <Hint>
            {move || match mode.get() {
                "add" => "Only keys the namespace lacks are written; the others keep their value.",
                "overwrite" => "Every key of the backup is written; keys the backup lacks stay.",
                _ => "Every key of the backup is written, and keys within the prefix that the backup lacks are deleted.",
            }}
        </Hint>
    }
}

/// The counts of a preview and the first keys of each class.
#[component]
fn RestorePreview(preview: RestorePreviewDto) -> impl IntoView {
    let c = &preview.counts;
    let rows = [
        ("Created", c.created, preview.created.clone()),
        ("Changed", c.changed, preview.changed.clone()),
        ("Deleted", c.deleted, preview.deleted.clone()),
        ("Unchanged", c.unchanged, preview.unchanged.clone()),
        ("Kept as they are (by the mode)", c.kept, preview.kept.clone()),
        ("Expired (not written)", c.expired, preview.expired.clone()),
        ("Failed", c.failed, preview.failed.clone()),
    ];
    view! {
        <div class="rounded-md border border-slate-200 p-3 text-sm dark:border-slate-700" data-testid="restore-preview">
            <p class="font-medium">{format!("What the restore ({}) would do:", preview.mode)}</p>
            <ul class="mt-1 space-y-1">
                {rows.into_iter().map(|(what, n, first)| view! { <PreviewClass what n first /> }).collect_view()}
            </ul>
            <ChangedKeys changes=preview.changes then="in the backup".to_owned() />
        </div>
    }
}
