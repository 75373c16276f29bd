//! `/tokens`: the API tokens of the Cloudflare-compatible API (`/client/v4`), for admins: the
//! list (never a secret), a new token whose secret is shown once, and revoking one.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use crate::components::admin_page::AdminPage;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::field_error::{FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{BUTTON, INPUT, LABEL};
use crate::components::shown_once::ShownOnce;
use crate::components::text::{Hint, MUTED};
use crate::components::token_cells::TokenCells;
use crate::dto::{ApiTokenDto, CreatedTokenDto};
use crate::format;
use crate::serverfns::tokens::{CreateApiToken, RevokeApiToken, list_api_tokens};

#[component]
pub fn TokensPage() -> impl IntoView {
    view! {
        <AdminPage
            title="API tokens"
            intro=|| {
                view! {
                    "Tokens sign scripts in to the Cloudflare-compatible API at "
                    <code class="font-mono">"/client/v4"</code>
                    ". A token acts under its own name, with read-write or read-only access."
                }
            }
            refusal="API tokens are managed by admins. Ask one for a token."
        >
            <TokensAdmin />
        </AdminPage>
    }
}

/// What an admin sees: the new-token form, the secret just made, the list and the revoke dialog.
/// The list is read again after each token made or revoked (the actions' versions).
#[component]
fn TokensAdmin() -> impl IntoView {
    let create = ServerAction::<CreateApiToken>::new();
    let revoke = ServerAction::<RevokeApiToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_tokens());
    let created = RwSignal::new(None::<CreatedTokenDto>);
    let revoking = RwSignal::new(None::<ApiTokenDto>);
    on_success(*create, move |token: &CreatedTokenDto| created.set(Some(token.clone())));
    // A revoked token's secret is of no use: its box goes too.
    on_success(*revoke, move |token: &ApiTokenDto| {
        if created.with_untracked(|c| c.as_ref().is_some_and(|c| c.token.id == token.id)) {
            created.set(None);
        }
    });
    let on_revoke = Callback::new(move |token: ApiTokenDto| revoking.set(Some(token)));
    view! {
        <NewTokenForm create />
        {move || {
            created
                .get()
                .map(|token| view! { <SecretBox created=token on_dismiss=Callback::new(move |_| created.set(None)) /> })
        }}
        <Transition fallback=|| view! { <p>"Loading the tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(list) => view! { <TokenTable tokens=list on_revoke /> }.into_any(),
                    Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || {
            revoking
                .get()
                .map(|token| view! { <RevokeDialog token revoke on_close=Callback::new(move |_| revoking.set(None)) /> })
        }}
    }
}

#[component]
fn NewTokenForm(create: ServerAction<CreateApiToken>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let read_only = RwSignal::new(false);
    let error = form_error(*create, RwSignal::new(None));
    let pending = create.pending();
    on_success(*create, move |_| {
        name.set(String::new());
        read_only.set(false);
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateApiToken { name: name.get_untracked(), read_only: Some(read_only.get_untracked()) });
    };
    view! {
        <section
            aria-labelledby="new-token-heading"
            class="rounded-md border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
        >
            <h2 id="new-token-heading" class="text-lg font-semibold">
                "New token"
            </h2>
            <form class="mt-3 space-y-3" on:submit=submit>
                <FormError error fields=&["name"] />
                <div class="flex flex-wrap items-start gap-3">
                    <div class="min-w-48 flex-1">
                        <label class=LABEL>
                            "Name"
                            <input class=INPUT type="text" required autocomplete="off" bind:value=name />
                        </label>
                        <FieldError error field="name" />
                        <Hint class="mt-1">"Who uses it, say “backup script”: writes are audited under this name."</Hint>
                    </div>
                    <label class="mt-7 flex items-center gap-2 text-sm font-medium">
                        <input type="checkbox" bind:checked=read_only />
                        "Read-only"
                    </label>
                    <button type="submit" class=format!("{BUTTON} mt-6") disabled=move || pending.get()>
                        "Create token"
                    </button>
                </div>
            </form>
        </section>
    }
}

/// The secret of the token just made, shown this once, with a copy button and how to use it.
#[component]
fn SecretBox(created: CreatedTokenDto, on_dismiss: Callback<()>) -> impl IntoView {
    let origin = site_origin();
    let read_only = created.token.read_only;
    view! {
        <ShownOnce
            heading=format!("Token “{}” created", created.token.name)
            label="Secret"
            secret=created.secret
            lost_hint="revoke the token and make a new one."
            on_dismiss
        >
            <p>
                "Send it as " <code class="font-mono">"Authorization: Bearer <secret>"</code>
                " to the Cloudflare-compatible API at " <code class="font-mono">{format!("{origin}/client/v4")}</code>
                {if read_only { " (reads only)" } else { "" }} ". To check it:"
            </p>
            <pre class="overflow-x-auto rounded-md bg-slate-100 p-2 font-mono text-xs dark:bg-slate-800" aria-label="Example">
                {format!(
                    "curl -H \"Authorization: Bearer $KVM_API_TOKEN\" \\\n  {origin}/client/v4/user/tokens/verify",
                )}
            </pre>
        </ShownOnce>
    }
}

/// `https://host:port` of the console, for the usage example (the browser knows it; the secret
/// is never rendered on the server).
pub(crate) fn site_origin() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        String::new()
    }
}

const TOKEN_COLUMNS: &[Column] = &[
    Column::new("Name"),
    Column::new("Access"),
    Column::new("Created"),
    Column::new("Last used"),
    Column::new("Status"),
    Column::hidden("Actions"),
];

#[component]
fn TokenTable(tokens: Vec<ApiTokenDto>, on_revoke: Callback<ApiTokenDto>) -> impl IntoView {
    let now = format::now_unix();
    let empty = tokens.is_empty();
    view! {
        <Show when=move || empty>
            <EmptyNote>"No tokens yet. Make one above for each script that uses the API."</EmptyNote>
        </Show>
        <DataTable label="API tokens" columns=TOKEN_COLUMNS>
            {tokens.into_iter().map(|token| view! { <TokenRow token now on_revoke /> }).collect_view()}
        </DataTable>
    }
}

#[component]
fn TokenRow(token: ApiTokenDto, now: i64, on_revoke: Callback<ApiTokenDto>) -> impl IntoView {
    let access = if token.read_only { "read-only" } else { "read-write" };
    let revoke = {
        let token = token.clone();
        Callback::new(move |_| on_revoke.run(token.clone()))
    };
    view! {
        <tr class="border-t border-slate-200 align-top dark:border-slate-800" data-token=token.id.clone()>
            <th scope="row" class="p-2 font-medium break-all">
                {token.name.clone()}
                <div class=format!("font-mono text-xs font-normal {MUTED}")>{token.id.clone()}</div>
            </th>
            <td class="p-2 whitespace-nowrap">{access}</td>
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
fn RevokeDialog(token: ApiTokenDto, revoke: ServerAction<RevokeApiToken>, on_close: Callback<()>) -> impl IntoView {
    on_success(*revoke, move |_| on_close.run(()));
    view! {
        <ConfirmDialog
            title=format!("Revoke {}", token.name)
            label="Revoke"
            on_close
            action=*revoke
            input={
                let token = token.id.clone();
                move || RevokeApiToken { token: token.clone() }
            }
        >
            <p class="text-sm">
                {format!(
                    "Scripts that use the token “{}” are refused from now on (401). This cannot be undone: a new token is needed to give them access again.",
                    token.name,
                )}
            </p>
        </ConfirmDialog>
    }
}
