//! The tokens of the service picked: issue one more, revoke one.

use leptos::prelude::*;

use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::field_error::{FormError, run_submit};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY};
use crate::components::token_cells::TokenCells;
use crate::dto::{ServiceSecretDto, ServiceTokenDto};
use crate::error::AppError;
use crate::format;
use crate::serverfns::services::{issue_service_token, list_service_tokens, revoke_service_token};

/// The tokens of one service: issue one more, revoke one.
#[component]
pub(super) fn ServiceTokens(
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
