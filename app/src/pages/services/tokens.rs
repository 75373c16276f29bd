//! The tokens of the service picked: issue one more, revoke one.

use leptos::prelude::*;

use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::field_error::FormError;
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{BUTTON, BUTTON_SECONDARY};
use crate::components::token_cells::TokenCells;
use crate::dto::ServiceTokenDto;
use crate::format;
use crate::serverfns::services::{IssueServiceToken, RevokeServiceToken, list_service_tokens};

/// The tokens of one service: issue one more, revoke one.
#[component]
pub(super) fn ServiceTokens(
    name: String,
    /// Changes when a token of any service is made or revoked.
    tokens_changed: Signal<usize>,
    issue: ServerAction<IssueServiceToken>,
    revoke: ServerAction<RevokeServiceToken>,
    on_close: Callback<()>,
) -> impl IntoView {
    let tokens = {
        let name = name.clone();
        Resource::new(move || tokens_changed.get(), move |_| list_service_tokens(name.clone()))
    };
    let error = form_error(*issue, RwSignal::new(None));
    let pending = issue.pending();
    let revoking = RwSignal::new(None::<ServiceTokenDto>);
    let issue_one = {
        let name = name.clone();
        move |_| {
            issue.dispatch(IssueServiceToken { name: name.clone() });
        }
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
                    <button type="button" class=BUTTON disabled=move || pending.get() on:click=issue_one>
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
                    .map(|token| view! { <RevokeDialog token revoke on_close=Callback::new(move |_| revoking.set(None)) /> })
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
fn RevokeDialog(
    token: ServiceTokenDto,
    revoke: ServerAction<RevokeServiceToken>,
    on_close: Callback<()>,
) -> impl IntoView {
    on_success(*revoke, move |_| on_close.run(()));
    let (name, token_id) = (token.service.clone(), token.id.clone());
    let input = move || RevokeServiceToken { name: name.clone(), token_id: token_id.clone() };
    view! {
        <ConfirmDialog
            title=format!("Revoke {}", token.id)
            label="Revoke"
            on_close
            action=*revoke
            input
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
