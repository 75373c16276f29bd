//! `/services`: the services of the multi-tenant KV API (`/v1/kv`), for admins: the list, a new
//! service (its first token's secret shown once), changing one (every field but its name),
//! disabling and enabling it, and its tokens (issue, with the secret shown once; revoke).

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::admin_page::AdminPage;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::field_error::{DialogButtons, FieldError, FormError, run_submit};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY, INPUT, LABEL, Modal};
use crate::components::shown_once::ShownOnce;
use crate::components::text::{Hint, MUTED, Muted};
use crate::components::token_cells::TokenCells;
use crate::dto::{NamespaceDto, NamespacePageDto, ServiceDto, ServiceSecretDto, ServiceTokenDto};
use crate::error::AppError;
use crate::format;
use crate::pages::tokens::site_origin;
use crate::serverfns::namespaces::list_namespaces;
use crate::serverfns::services::{
    create_service, issue_service_token, list_service_tokens, list_services, revoke_service_token, update_service,
};

/// The fields of a service's form that name a field of the server's errors.
const FIELDS: &[&str] = &["name", "storage", "role", "prefix", "allowed_origins", "public_keys", "description"];

/// Items of a list typed one a line or separated by commas.
fn split_list(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

/// What the service form edits (every field but the name).
#[derive(Clone, Copy)]
struct Draft {
    storage: RwSignal<String>,
    role: RwSignal<String>,
    prefix: RwSignal<String>,
    origins: RwSignal<String>,
    public_keys: RwSignal<String>,
    description: RwSignal<String>,
}

impl Draft {
    fn new() -> Self {
        Self {
            storage: RwSignal::new(String::new()),
            role: RwSignal::new("read-only".to_owned()),
            prefix: RwSignal::new(String::new()),
            origins: RwSignal::new(String::new()),
            public_keys: RwSignal::new(String::new()),
            description: RwSignal::new(String::new()),
        }
    }

    fn of(service: &ServiceDto) -> Self {
        Self {
            storage: RwSignal::new(service.namespace_id.clone()),
            role: RwSignal::new(service.role.clone()),
            prefix: RwSignal::new(service.prefix.clone()),
            origins: RwSignal::new(service.allowed_origins.join("\n")),
            public_keys: RwSignal::new(service.public_keys.join("\n")),
            description: RwSignal::new(service.description.clone()),
        }
    }

    /// Empties the form for the next service; the namespace stays chosen.
    fn clear(&self) {
        self.role.set("read-only".to_owned());
        self.prefix.set(String::new());
        self.origins.set(String::new());
        self.public_keys.set(String::new());
        self.description.set(String::new());
    }
}

#[component]
pub fn ServicesPage() -> impl IntoView {
    view! {
        <AdminPage
            title="Services"
            intro=|| {
                view! {
                    "Services are the tenants of the KV API at " <code class="font-mono">"/v1/kv"</code>
                    ": a token (sent as " <code class="font-mono">"X-Kevi-Token"</code>
                    ") names a service, and the service its namespace, its role, the prefix its keys are stored under, the browser origins it accepts and the keys anyone may read."
                }
            }
            refusal="Services of the KV API are managed by admins. Ask one for a service or a token."
        >
            <ServicesAdmin />
        </AdminPage>
    }
}

/// What an admin sees: the new-service form, the secret just made, the list, the edit dialog and
/// the tokens of the service picked.
#[component]
fn ServicesAdmin() -> impl IntoView {
    let reload = RwSignal::new(0u32);
    let services = Resource::new(move || reload.get(), |_| list_services());
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    let created = RwSignal::new(None::<ServiceSecretDto>);
    let editing = RwSignal::new(None::<ServiceDto>);
    let selected = RwSignal::new(None::<String>);
    let tokens_changed = RwSignal::new(0u32);
    let notice = RwSignal::new(None::<AppError>);
    let on_secret = Callback::new(move |made: ServiceSecretDto| {
        selected.set(Some(made.service.name.clone()));
        created.set(Some(made));
        reload.update(|n| *n += 1);
        tokens_changed.update(|n| *n += 1);
    });
    let on_changed = Callback::new(move |_: ()| reload.update(|n| *n += 1));
    let on_edit = Callback::new(move |service: ServiceDto| editing.set(Some(service)));
    view! {
        <NewServiceForm namespaces on_created=on_secret />
        {move || {
            created
                .get()
                .map(|made| view! { <SecretBox made on_dismiss=Callback::new(move |_| created.set(None)) /> })
        }}
        <FormError error=notice fields=&[] />
        <Transition fallback=|| view! { <p>"Loading the services…"</p> }>
            {move || Suspend::new(async move {
                match services.await {
                    Ok(list) => view! { <ServiceTable services=list selected on_edit on_changed notice /> }.into_any(),
                    Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || {
            selected
                .get()
                .map(|name| view! { <ServiceTokens name created tokens_changed on_issued=on_secret on_close=Callback::new(move |_| selected.set(None)) /> })
        }}
        {move || {
            editing
                .get()
                .map(|service| {
                    view! {
                        <EditDialog
                            service
                            namespaces
                            on_close=Callback::new(move |_| editing.set(None))
                            on_done=on_changed
                        />
                    }
                })
        }}
    }
}

/// The fields of a service but its name: namespace, role, prefix, origins, public keys and
/// description, each with the server's error for it. `form_id` keeps the ids of two forms apart.
#[component]
fn ServiceFields(
    form_id: &'static str,
    draft: Draft,
    error: RwSignal<Option<AppError>>,
    namespaces: Vec<NamespaceDto>,
) -> impl IntoView {
    let invalid = move |field: &'static str| {
        move || error.with(|e| e.as_ref().and_then(|e| e.field.as_deref()) == Some(field)).then_some("true")
    };
    let field_id = move |field: &str| format!("{form_id}-{field}");
    // A namespace that is gone (or the form's first load) still shows what the service has.
    let current = draft.storage.get_untracked();
    let missing = (!current.is_empty() && !namespaces.iter().any(|n| n.id == current)).then_some(current);
    let storage = draft.storage;
    let role = draft.role;
    let option = move |value: String, label: String| {
        let selected = {
            let value = value.clone();
            move || storage.with(|s| *s == value)
        };
        let again = selected.clone();
        view! {
            <option value=value selected=selected prop:selected=again>
                {label}
            </option>
        }
    };
    let role_option = move |value: &'static str, label: &'static str| {
        view! {
            <option value=value selected=move || role.with(|r| r == value) prop:selected=move || role.with(|r| r == value)>
                {label}
            </option>
        }
    };
    view! {
        <div class="grid gap-3 sm:grid-cols-3">
            <div data-field="storage">
                <label class=LABEL for=field_id("storage")>
                    "Namespace"
                </label>
                <select
                    id=field_id("storage")
                    class=INPUT
                    required
                    aria-invalid=invalid("storage")
                    on:change=move |ev| storage.set(event_target_value(&ev))
                >
                    {option(String::new(), "Choose a namespace".to_owned())}
                    {missing.map(|id| option(id.clone(), format!("{id} (not found)")))}
                    {namespaces.into_iter().map(|n| option(n.id, n.title)).collect_view()}
                </select>
                <FieldError error field="storage" />
            </div>
            <div data-field="role">
                <label class=LABEL for=field_id("role")>
                    "Role"
                </label>
                <select
                    id=field_id("role")
                    class=INPUT
                    aria-invalid=invalid("role")
                    on:change=move |ev| role.set(event_target_value(&ev))
                >
                    {role_option("read-only", "read-only (reads only)")}
                    {role_option("admin", "admin (reads and writes)")}
                </select>
                <FieldError error field="role" />
            </div>
            <div data-field="prefix">
                <label class=LABEL for=field_id("prefix")>
                    "Prefix"
                </label>
                <input
                    id=field_id("prefix")
                    class=format!("{INPUT} font-mono")
                    type="text"
                    required
                    autocomplete="off"
                    spellcheck="false"
                    aria-invalid=invalid("prefix")
                    bind:value=draft.prefix
                />
                <FieldError error field="prefix" />
                <Hint class="mt-1">
                    "Keys are stored as " <code class="font-mono">"<prefix>:<key>"</code>
                    "; unique in the namespace. 1 to 64 of A–Z, a–z, 0–9, “.”, “_” and “-”."
                </Hint>
            </div>
            <div data-field="allowed_origins">
                <label class=LABEL for=field_id("allowed_origins")>
                    "Allowed origins"
                </label>
                <textarea
                    id=field_id("allowed_origins")
                    class=format!("{INPUT} font-mono")
                    rows="3"
                    spellcheck="false"
                    aria-invalid=invalid("allowed_origins")
                    bind:value=draft.origins
                >
                    {draft.origins.get_untracked()}
                </textarea>
                <FieldError error field="allowed_origins" />
                <Hint class="mt-1">
                    "Browser pages that may call the API, one a line or separated by commas: "
                    <code class="font-mono">"https://app.example.com"</code> ", or " <code class="font-mono">"*"</code>
                    " for any. Calls without an Origin (servers, scripts) need none."
                </Hint>
            </div>
            <div data-field="public_keys">
                <label class=LABEL for=field_id("public_keys")>
                    "Public keys"
                </label>
                <textarea
                    id=field_id("public_keys")
                    class=format!("{INPUT} font-mono")
                    rows="3"
                    spellcheck="false"
                    aria-invalid=invalid("public_keys")
                    bind:value=draft.public_keys
                >
                    {draft.public_keys.get_untracked()}
                </textarea>
                <FieldError error field="public_keys" />
                <Hint class="mt-1">
                    "Keys a token may read from any origin: names, or prefixes ending in "
                    <code class="font-mono">"*"</code> ", one a line or separated by commas."
                </Hint>
            </div>
            <div data-field="description">
                <label class=LABEL for=field_id("description")>
                    "Description"
                </label>
                <textarea
                    id=field_id("description")
                    class=INPUT
                    rows="3"
                    aria-invalid=invalid("description")
                    bind:value=draft.description
                >
                    {draft.description.get_untracked()}
                </textarea>
                <FieldError error field="description" />
            </div>
        </div>
    }
}

#[component]
fn NewServiceForm(
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
    on_created: Callback<ServiceSecretDto>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let draft = Draft::new();
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let call = create_service(
            name.get_untracked(),
            draft.storage.get_untracked(),
            draft.role.get_untracked(),
            draft.prefix.get_untracked(),
            Some(split_list(&draft.origins.get_untracked())),
            Some(split_list(&draft.public_keys.get_untracked())),
            Some(draft.description.get_untracked()),
            None,
        );
        run_submit(pending, error, call, move |made| {
            name.set(String::new());
            draft.clear();
            on_created.run(made);
        });
    };
    let invalid = move || error.with(|e| e.as_ref().and_then(|e| e.field.as_deref()) == Some("name")).then_some("true");
    view! {
        <section
            aria-labelledby="new-service-heading"
            class="rounded-md border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
        >
            <h2 id="new-service-heading" class="text-lg font-semibold">
                "New service"
            </h2>
            <form class="mt-3 space-y-3" on:submit=submit>
                <FormError error fields=FIELDS />
                <div data-field="name" class="max-w-md">
                    <label class=LABEL for="new-service-name">
                        "Name"
                    </label>
                    <input
                        id="new-service-name"
                        class=INPUT
                        type="text"
                        required
                        autocomplete="off"
                        spellcheck="false"
                        aria-invalid=invalid
                        bind:value=name
                    />
                    <FieldError error field="name" />
                    <Hint class="mt-1">
                        "3 to 30 of a–z, 0–9 and “-”; it cannot be changed later. Writes are audited under this name."
                    </Hint>
                </div>
                <Suspense fallback=|| view! { <p>"Loading the namespaces…"</p> }>
                    {move || Suspend::new(async move {
                        match namespaces.await {
                            Ok(page) => {
                                view! { <ServiceFields form_id="new-service" draft error namespaces=page.namespaces /> }
                                    .into_any()
                            }
                            Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <div class="flex justify-end">
                    <button type="submit" class=BUTTON disabled=move || pending.get()>
                        "Create service"
                    </button>
                </div>
            </form>
        </section>
    }
}

/// The secret of the token just made (with a new service, or issued for one), shown this once,
/// with a copy button and how to use it.
#[component]
fn SecretBox(made: ServiceSecretDto, on_dismiss: Callback<()>) -> impl IntoView {
    let origin = site_origin();
    let name = made.service.name.clone();
    let read_only = made.service.role != "admin";
    view! {
        <ShownOnce
            heading=format!("Token for “{name}” created")
            label="Token"
            secret=made.secret
            lost_hint="issue a new token and revoke this one."
            on_dismiss
            token_id=made.token.id.clone()
        >
            <p>
                "Token " <code class="font-mono">{made.token.id.clone()}</code> ". Send it as "
                <code class="font-mono">"X-Kevi-Token: <token>"</code> " to the KV API at "
                <code class="font-mono">{format!("{origin}/v1/kv")}</code>
                {if read_only { " (reads only)" } else { "" }} ". To list the service’s keys:"
            </p>
            <pre class="overflow-x-auto rounded-md bg-slate-100 p-2 font-mono text-xs dark:bg-slate-800" aria-label="Example">
                {format!("curl -H \"X-Kevi-Token: $KEVI_TOKEN\" {origin}/v1/kv")}
            </pre>
        </ShownOnce>
    }
}

/// A list of strings, one a line, or a dash for none.
fn list_cell(items: &[String]) -> AnyView {
    if items.is_empty() {
        return view! { <Muted>"—"</Muted> }.into_any();
    }
    view! {
        <ul class="font-mono text-xs">
            {items.iter().map(|item| view! { <li class="break-all">{item.clone()}</li> }).collect_view()}
        </ul>
    }
    .into_any()
}

const SERVICE_COLUMNS: &[Column] = &[
    Column::new("Name"),
    Column::new("Namespace"),
    Column::new("Role"),
    Column::new("Prefix"),
    Column::new("Allowed origins"),
    Column::new("Public keys"),
    Column::new("Status"),
    Column::hidden("Actions"),
];

#[component]
fn ServiceTable(
    services: Vec<ServiceDto>,
    selected: RwSignal<Option<String>>,
    on_edit: Callback<ServiceDto>,
    on_changed: Callback<()>,
    notice: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let empty = services.is_empty();
    view! {
        <Show when=move || empty>
            <EmptyNote>"No services yet. Make one above for each application that uses the KV API."</EmptyNote>
        </Show>
        <DataTable label="Services" columns=SERVICE_COLUMNS>
            {services
                .into_iter()
                .map(|service| view! { <ServiceRow service selected on_edit on_changed notice /> })
                .collect_view()}
        </DataTable>
    }
}

#[component]
fn ServiceRow(
    service: ServiceDto,
    selected: RwSignal<Option<String>>,
    on_edit: Callback<ServiceDto>,
    on_changed: Callback<()>,
    notice: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let name = service.name.clone();
    let disabled = service.disabled;
    let busy = RwSignal::new(false);
    let toggle = {
        let name = name.clone();
        move |_| {
            let call = update_service(name.clone(), None, None, None, None, None, None, Some(!disabled));
            run_submit(busy, notice, call, move |_| on_changed.run(()));
        }
    };
    let status = if disabled {
        view! { <span class=format!("font-medium {MUTED}")>"disabled"</span> }.into_any()
    } else {
        view! { <span class="font-medium text-green-700 dark:text-green-400">"enabled"</span> }.into_any()
    };
    let namespace = match &service.namespace_title {
        Some(title) => view! { <span class="break-all">{title.clone()}</span> }.into_any(),
        None => view! { <Muted>"(not found)"</Muted> }.into_any(),
    };
    let show_tokens = {
        let name = name.clone();
        move |_| selected.set(Some(name.clone()))
    };
    let edit = {
        let service = service.clone();
        move |_| on_edit.run(service.clone())
    };
    let is_selected = {
        let name = name.clone();
        move || selected.with(|s| s.as_deref() == Some(name.as_str())).then_some("true")
    };
    view! {
        <tr class="border-t border-slate-200 align-top dark:border-slate-800" data-service=name.clone()>
            <th scope="row" class="p-2 font-medium break-all">
                {name.clone()}
                {(!service.description.is_empty())
                    .then(|| view! { <div class=format!("text-xs font-normal {MUTED}")>{service.description.clone()}</div> })}
            </th>
            <td class="p-2">
                {namespace}
                <div class=format!("font-mono text-xs {MUTED} break-all")>{service.namespace_id.clone()}</div>
            </td>
            <td class="p-2 whitespace-nowrap" data-testid="service-role">{service.role.clone()}</td>
            <td class="p-2 font-mono text-xs break-all">{service.prefix.clone()}</td>
            <td class="p-2">{list_cell(&service.allowed_origins)}</td>
            <td class="p-2">{list_cell(&service.public_keys)}</td>
            <td class="p-2 whitespace-nowrap" data-testid="service-status">{status}</td>
            <td class="p-2">
                <div class="flex flex-wrap justify-end gap-1">
                    <button type="button" class=BUTTON_SECONDARY aria-pressed=is_selected on:click=show_tokens>
                        "Tokens"
                    </button>
                    <button type="button" class=BUTTON_SECONDARY on:click=edit>
                        "Edit"
                    </button>
                    <button type="button" class=BUTTON_SECONDARY disabled=move || busy.get() on:click=toggle>
                        {if disabled { "Enable" } else { "Disable" }}
                    </button>
                </div>
            </td>
        </tr>
    }
}

#[component]
fn EditDialog(
    service: ServiceDto,
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
    on_close: Callback<()>,
    on_done: Callback<()>,
) -> impl IntoView {
    let draft = Draft::of(&service);
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let name = service.name.clone();
    let submit = {
        let name = name.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            let call = update_service(
                name.clone(),
                Some(draft.storage.get_untracked()),
                Some(draft.role.get_untracked()),
                Some(draft.prefix.get_untracked()),
                Some(split_list(&draft.origins.get_untracked())),
                Some(split_list(&draft.public_keys.get_untracked())),
                Some(draft.description.get_untracked()),
                None,
            );
            run_submit(pending, error, call, move |_| {
                on_done.run(());
                on_close.run(());
            });
        }
    };
    view! {
        <Modal title=format!("Edit {name}") on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=FIELDS />
                <p class="text-sm">
                    "Name " <strong class="break-all">{name.clone()}</strong>
                    " (fixed). Its tokens stay; changes apply to the next request."
                </p>
                <Suspense fallback=|| view! { <p>"Loading the namespaces…"</p> }>
                    {move || Suspend::new(async move {
                        match namespaces.await {
                            Ok(page) => {
                                view! { <ServiceFields form_id="edit-service" draft error namespaces=page.namespaces /> }
                                    .into_any()
                            }
                            Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                        }
                    })}
                </Suspense>
                <DialogButtons on_cancel=on_close label="Save" pending />
            </form>
        </Modal>
    }
}

/// The tokens of one service: issue one more, revoke one.
#[component]
fn ServiceTokens(
    name: String,
    created: RwSignal<Option<ServiceSecretDto>>,
    tokens_changed: RwSignal<u32>,
    on_issued: Callback<ServiceSecretDto>,
    on_close: Callback<()>,
) -> impl IntoView {
    let tokens = {
        let name = name.clone();
        Resource::new(move || tokens_changed.get(), move |_| list_service_tokens(name.clone()))
    };
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let revoking = RwSignal::new(None::<ServiceTokenDto>);
    let issue = {
        let name = name.clone();
        move |_| run_submit(pending, error, issue_service_token(name.clone()), move |made| on_issued.run(made))
    };
    let on_revoke = Callback::new(move |token: ServiceTokenDto| revoking.set(Some(token)));
    let heading = format!("Tokens of {name}");
    view! {
        <section
            aria-labelledby="service-tokens-heading"
            class="space-y-3 rounded-md border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
        >
            <div class="flex flex-wrap items-center gap-2">
                <h2 id="service-tokens-heading" class="text-lg font-semibold break-all">
                    {heading.clone()}
                </h2>
                <div class="ml-auto flex gap-2">
                    <button type="button" class=BUTTON disabled=move || pending.get() on:click=issue>
                        "Issue token"
                    </button>
                    <button type="button" class=BUTTON_SECONDARY on:click=move |_| on_close.run(())>
                        "Close"
                    </button>
                </div>
            </div>
            <FormError error fields=&[] />
            <Transition fallback=|| view! { <p>"Loading the tokens…"</p> }>
                {move || {
                    let heading = heading.clone();
                    Suspend::new(async move {
                        match tokens.await {
                            Ok(list) => view! { <TokenTable label=heading tokens=list on_revoke /> }.into_any(),
                            Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                        }
                    })
                }}
            </Transition>
            {move || {
                revoking
                    .get()
                    .map(|token| {
                        // A revoked token's secret is of no use: its box goes too.
                        let id = token.id.clone();
                        let on_done = Callback::new(move |_| {
                            if created.with_untracked(|c| c.as_ref().is_some_and(|c| c.token.id == id)) {
                                created.set(None);
                            }
                            tokens_changed.update(|n| *n += 1);
                        });
                        view! { <RevokeDialog token on_close=Callback::new(move |_| revoking.set(None)) on_done /> }
                    })
            }}
        </section>
    }
}

const TOKEN_COLUMNS: &[Column] = &[
    Column::new("Token"),
    Column::new("Created"),
    Column::new("Last used"),
    Column::new("Status"),
    Column::hidden("Actions"),
];

#[component]
fn TokenTable(label: String, tokens: Vec<ServiceTokenDto>, on_revoke: Callback<ServiceTokenDto>) -> impl IntoView {
    let now = format::now_unix();
    if tokens.is_empty() {
        return view! { <EmptyNote>"No tokens: issue one for the service’s application."</EmptyNote> }.into_any();
    }
    view! {
        <DataTable label columns=TOKEN_COLUMNS bare=true>
            {tokens.into_iter().map(|token| view! { <TokenRow token now on_revoke /> }).collect_view()}
        </DataTable>
    }
    .into_any()
}

#[component]
fn TokenRow(token: ServiceTokenDto, now: i64, on_revoke: Callback<ServiceTokenDto>) -> impl IntoView {
    let revoke = {
        let token = token.clone();
        Callback::new(move |_| on_revoke.run(token.clone()))
    };
    view! {
        <tr class="border-t border-slate-200 align-top dark:border-slate-800" data-token=token.id.clone()>
            <th scope="row" class="p-2 font-mono text-xs font-normal break-all">{token.id.clone()}</th>
            <TokenCells
                created_at=token.created_at
                created_by=token.created_by
                last_used_at=token.last_used_at
                revoked_at=token.revoked_at
                now
                on_revoke=revoke
            />
        </tr>
    }
}

#[component]
fn RevokeDialog(token: ServiceTokenDto, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let (service, id) = (token.service.clone(), token.id.clone());
    view! {
        <ConfirmDialog
            title=format!("Revoke {}", token.id)
            label="Revoke"
            on_close
            confirm=move || revoke_service_token(service.clone(), id.clone())
            on_done=move |_| {
                on_done.run(());
                on_close.run(());
            }
        >
            <p class="text-sm">
                {format!(
                    "Requests with the token {} of “{}” are refused from now on (401). This cannot be undone: the service’s other tokens keep working.",
                    token.id,
                    token.service,
                )}
            </p>
        </ConfirmDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::split_list;

    #[test]
    fn lists_split_on_commas_and_lines() {
        assert_eq!(
            split_list(" https://a.example, https://b.example\n\n*\r\n"),
            vec!["https://a.example", "https://b.example", "*"]
        );
        assert!(split_list(" , \n").is_empty());
    }
}
