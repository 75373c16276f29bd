//! `/webhooks` (admins): the endpoints events are sent to, each with its filter, its state
//! (delivering, paused with the reason, disabled), what waits in its queue and its last
//! delivery; "New endpoint" (its signing secret shown once), "Edit", "Disable" or "Enable",
//! "Resume" for a paused one, "Send test event", "Delete", and the delivery log of the endpoint
//! the address names (`?log=<id>`, older pages with `&before=`). Then how a receiver checks a
//! delivery's signature.

mod dialog;
mod help;
mod log;
mod table;

use leptos::Params;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query};
use leptos_router::params::Params;

use crate::components::admin_page::AdminPage;
use crate::components::confirm_dialog::ConfirmDialog;
use crate::components::field_error::FormError;
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::BUTTON;
use crate::components::shown_once::ShownOnce;
use crate::dto::{NamespaceDto, WebhookAttemptDto, WebhookDto, WebhookSecretDto};
use crate::error::AppError;
use crate::format;
use crate::serverfns::namespaces::list_namespaces;
use crate::serverfns::webhooks::{
    CreateWebhook, DeleteWebhook, ResumeWebhook, UpdateWebhook, list_webhook_attempts, list_webhooks, test_webhook,
};
use dialog::EndpointDialog;
use help::SignatureHelp;
use log::DeliveryLog;
use table::EndpointTable;

/// The address's query: the endpoint whose delivery log is open, and where its page starts.
#[derive(Params, Clone, Debug, PartialEq)]
struct WebhooksQuery {
    log: Option<String>,
    before: Option<i64>,
}

/// The dialog open over the page.
#[derive(Clone, Debug, PartialEq)]
enum Open {
    /// "New endpoint".
    New,
    Edit(WebhookDto),
    /// "Disable" of an endpoint with a queue, which disabling drops.
    Disable(WebhookDto),
    Delete(WebhookDto),
}

/// "Send test event" to an endpoint (its id and URL); it answers with the URL and the attempt.
type TestAction = Action<(String, String), Result<(String, WebhookAttemptDto), AppError>>;

/// The page's actions and its open dialog, handed to each row.
#[derive(Clone, Copy)]
struct EndpointActions {
    create: ServerAction<CreateWebhook>,
    /// The edit dialog's "Save".
    update: ServerAction<UpdateWebhook>,
    /// "Disable" and "Enable".
    toggle: ServerAction<UpdateWebhook>,
    resume: ServerAction<ResumeWebhook>,
    test: TestAction,
    delete: ServerAction<DeleteWebhook>,
    open: RwSignal<Option<Open>>,
}

impl EndpointActions {
    fn new() -> Self {
        let test: TestAction = Action::new(|(id, url): &(String, String)| {
            let (id, url) = (id.clone(), url.clone());
            async move { Ok((url, test_webhook(id).await?)) }
        });
        Self {
            create: ServerAction::new(),
            update: ServerAction::new(),
            toggle: ServerAction::new(),
            resume: ServerAction::new(),
            test,
            delete: ServerAction::new(),
            open: RwSignal::new(None),
        }
    }

    /// Changes whenever any of them succeeded or failed: the lists are read again.
    fn changed(&self) -> usize {
        self.create.version().get()
            + self.update.version().get()
            + self.toggle.version().get()
            + self.resume.version().get()
            + self.test.version().get()
            + self.delete.version().get()
    }
}

/// An endpoint's namespace filter in the console's words: "every namespace", its title, or the
/// id of one that is gone.
fn namespace_label(namespace_id: Option<&str>, namespaces: &[NamespaceDto]) -> String {
    match namespace_id {
        None => "every namespace".to_owned(),
        Some(id) => {
            namespaces.iter().find(|n| n.id == id).map_or_else(|| format!("{id} (not found)"), |n| n.title.clone())
        }
    }
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! {
        <AdminPage
            title="Webhooks"
            intro=|| {
                view! {
                    "Endpoints are sent the events they choose (keys created, updated or deleted, jobs that end, thresholds and expiring keys) as signed HTTP POSTs, in order and at least once: an endpoint that does not answer is retried, and paused if it keeps failing, without losing what it missed."
                }
            }
            refusal="Webhooks are managed by admins. Ask one to send events to your service."
        >
            <WebhooksAdmin />
        </AdminPage>
    }
}

/// What an admin sees: "New endpoint", the secret just made, the endpoints, the delivery log
/// of the one the address names, the dialog open over them and the signature help.
#[component]
fn WebhooksAdmin() -> impl IntoView {
    let actions = EndpointActions::new();
    let EndpointActions { create, toggle, resume, test, delete, open, .. } = actions;
    let query = use_query::<WebhooksQuery>();
    let log_id = Memo::new(move |_| query.read().as_ref().ok().and_then(|q| q.log.clone()).filter(|id| !id.is_empty()));
    let before = Memo::new(move |_| query.read().as_ref().ok().and_then(|q| q.before));
    // "Refresh" reads the endpoints and the log again (deliveries happen in the background).
    let refresh = RwSignal::new(0usize);
    let endpoints = Resource::new(move || (actions.changed(), refresh.get()), |_| list_webhooks());
    let attempts = Resource::new(
        move || (log_id.get(), before.get(), actions.changed(), refresh.get()),
        |(id, before, _, _)| async move {
            match id {
                Some(id) => list_webhook_attempts(id, before).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    let created = RwSignal::new(None::<WebhookSecretDto>);
    on_success(*create, move |made: &WebhookSecretDto| created.set(Some(made.clone())));
    let tested = RwSignal::new(None::<(String, WebhookAttemptDto)>);
    on_success(test, move |result: &(String, WebhookAttemptDto)| tested.set(Some(result.clone())));
    let navigate = use_navigate();
    // A deleted endpoint's secret box and delivery log go with it.
    let on_deleted = Callback::new(move |id: String| {
        if created.with_untracked(|c| c.as_ref().is_some_and(|c| c.endpoint.id == id)) {
            created.set(None);
        }
        if tested.with_untracked(|t| t.as_ref().is_some_and(|(_, a)| a.endpoint_id == id)) {
            tested.set(None);
        }
        if log_id.get_untracked().as_deref() == Some(id.as_str()) {
            navigate("/webhooks", NavigateOptions { scroll: false, ..Default::default() });
        }
    });
    let toggle_error = form_error(*toggle, RwSignal::new(None));
    let resume_error = form_error(*resume, RwSignal::new(None));
    let test_error = form_error(test, RwSignal::new(None));
    let on_close = Callback::new(move |_| open.set(None));
    let known = move || namespaces.get_untracked().and_then(Result::ok).map(|p| p.namespaces).unwrap_or_default();
    let event_types =
        move || endpoints.get_untracked().and_then(Result::ok).map(|list| list.event_types).unwrap_or_default();
    view! {
        <div class="flex flex-wrap items-center gap-2">
            <button type="button" class=BUTTON on:click=move |_| open.set(Some(Open::New))>
                "New endpoint"
            </button>
        </div>
        {move || {
            created
                .get()
                .map(|made| view! { <SecretBox made on_dismiss=Callback::new(move |_| created.set(None)) /> })
        }}
        <FormError error=toggle_error fields=&[] />
        <FormError error=resume_error fields=&[] />
        <FormError error=test_error fields=&[] />
        <p role="status" class="text-sm" data-testid="webhook-test-result">
            {move || tested.get().map(|(url, attempt)| test_result(&url, &attempt))}
        </p>
        <Transition fallback=|| view! { <p>"Loading the endpoints…"</p> }>
            {move || Suspend::new(async move {
                let known = namespaces.await.map(|page| page.namespaces).unwrap_or_default();
                match endpoints.await {
                    Ok(list) => {
                        view! { <EndpointTable endpoints=list.endpoints namespaces=known log_id actions /> }.into_any()
                    }
                    Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || log_id.get().map(|id| view! { <DeliveryLog id endpoints attempts before refresh /> })}
        <SignatureHelp />
        {move || {
            open.get()
                .map(|dialog| match dialog {
                    Open::New => {
                        view! { <EndpointDialog endpoint=None event_types=event_types() namespaces=known() actions on_close /> }
                            .into_any()
                    }
                    Open::Edit(endpoint) => {
                        view! { <EndpointDialog endpoint=Some(endpoint) event_types=event_types() namespaces=known() actions on_close /> }
                            .into_any()
                    }
                    Open::Disable(endpoint) => view! { <DisableDialog endpoint toggle on_close /> }.into_any(),
                    Open::Delete(endpoint) => view! { <DeleteDialog endpoint delete on_close on_deleted /> }.into_any(),
                })
        }}
    }
}

/// What "Send test event" came to, in a sentence.
fn test_result(url: &str, attempt: &WebhookAttemptDto) -> String {
    let status = attempt.status_code.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
    let took = format!("in {} ms", attempt.duration_ms);
    match (attempt.outcome.as_str(), &attempt.error) {
        ("test_delivered", _) => format!("Test event delivered to {url}{status} {took}."),
        (_, Some(error)) => format!("Test event to {url} failed{status} {took}: {error}"),
        _ => format!("Test event to {url} failed{status} {took}."),
    }
}

/// The secret of the endpoint just made, shown this once, with what a receiver does with it.
#[component]
fn SecretBox(made: WebhookSecretDto, on_dismiss: Callback<()>) -> impl IntoView {
    view! {
        <ShownOnce
            heading=format!("Endpoint {} created", made.endpoint.url)
            label="Signing secret"
            secret=made.secret
            lost_hint="edit the endpoint and give it a new secret."
            kept=true
            on_dismiss
        >
            <p>
                "The receiver checks each delivery with it: " <code class="font-mono">"KVM-Webhook-Signature"</code>
                " is HMAC-SHA256 of the timestamp, a dot and the raw body (see “How to verify signatures” below). "
                "“Send test event” on the endpoint’s row sends one now."
            </p>
        </ShownOnce>
    }
}

/// Asks before an endpoint with a queue is disabled: what waits is dropped.
#[component]
fn DisableDialog(endpoint: WebhookDto, toggle: ServerAction<UpdateWebhook>, on_close: Callback<()>) -> impl IntoView {
    on_success(*toggle, move |_| on_close.run(()));
    let id = endpoint.id.clone();
    view! {
        <ConfirmDialog
            title="Disable the endpoint".to_owned()
            label="Disable"
            on_close
            action=*toggle
            input=move || UpdateWebhook {
                id: id.clone(),
                url: None,
                description: None,
                events: None,
                namespace_id: None,
                prefix: None,
                enabled: Some(false),
                secret: None,
            }
        >
            <p class="text-sm break-all">{endpoint.url.clone()}</p>
            <p class="text-sm">
                {format!(
                    "A disabled endpoint is sent nothing. The {} waiting for it are dropped and not sent when it is enabled again; to stop deliveries for a while without losing any, leave it enabled and fix the receiver: a paused endpoint keeps its queue.",
                    format::count(endpoint.pending.max(0) as u64, "change"),
                )}
            </p>
        </ConfirmDialog>
    }
}

/// Asks before an endpoint is deleted with its queue and its delivery log.
#[component]
fn DeleteDialog(
    endpoint: WebhookDto,
    delete: ServerAction<DeleteWebhook>,
    on_close: Callback<()>,
    on_deleted: Callback<String>,
) -> impl IntoView {
    let id = endpoint.id.clone();
    {
        let id = id.clone();
        on_success(*delete, move |_| {
            on_deleted.run(id.clone());
            on_close.run(());
        });
    }
    view! {
        <ConfirmDialog
            title="Delete the endpoint".to_owned()
            label="Delete"
            on_close
            action=*delete
            input=move || DeleteWebhook { id: id.clone() }
        >
            <p class="text-sm break-all">{endpoint.url.clone()}</p>
            <p class="text-sm">
                {format!(
                    "Events are no longer sent to it. Its queue ({} not yet delivered) and its delivery log are deleted too. This cannot be undone.",
                    format::count(endpoint.pending.max(0) as u64, "change"),
                )}
            </p>
        </ConfirmDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::test_result;
    use crate::dto::WebhookAttemptDto;

    fn attempt(outcome: &str, status: Option<i64>, error: Option<&str>) -> WebhookAttemptDto {
        WebhookAttemptDto {
            id: 1,
            endpoint_id: "whk_1".into(),
            at: 0,
            outcome: outcome.into(),
            events: 1,
            first_event: None,
            last_event: None,
            status_code: status,
            error: error.map(Into::into),
            response: None,
            duration_ms: 12,
            retry_at: None,
        }
    }

    #[test]
    fn test_results_read_well() {
        let url = "https://hooks.example/in";
        assert_eq!(
            test_result(url, &attempt("test_delivered", Some(200), None)),
            "Test event delivered to https://hooks.example/in (HTTP 200) in 12 ms."
        );
        assert_eq!(
            test_result(url, &attempt("test_failed", None, Some("connection refused"))),
            "Test event to https://hooks.example/in failed in 12 ms: connection refused"
        );
        assert_eq!(
            test_result(url, &attempt("test_failed", Some(500), None)),
            "Test event to https://hooks.example/in failed (HTTP 500) in 12 ms."
        );
    }
}
