//! `/services`: the services of the multi-tenant KV API (`/v1/kv`), for admins: the list, a new
//! service (its first token's secret shown once), changing one (every field but its name),
//! disabling and enabling it, and its tokens (issue, with the secret shown once; revoke).

mod fields;
mod form;
mod table;
mod tokens;

use leptos::prelude::*;

use crate::components::admin_page::AdminPage;
use crate::components::field_error::FormError;
use crate::components::form_action::{form_error, on_success};
use crate::dto::{ServiceDto, ServiceSecretDto, ServiceTokenDto};
use crate::serverfns::namespaces::list_namespaces;
use crate::serverfns::services::{CreateService, IssueServiceToken, RevokeServiceToken, UpdateService, list_services};
use form::{EditDialog, NewServiceForm, SecretBox};
use table::ServiceTable;
use tokens::ServiceTokens;

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
    let create = ServerAction::<CreateService>::new();
    let update = ServerAction::<UpdateService>::new();
    let toggle = ServerAction::<UpdateService>::new();
    let issue = ServerAction::<IssueServiceToken>::new();
    let revoke = ServerAction::<RevokeServiceToken>::new();
    // Read again after each change (the actions' versions).
    let services = Resource::new(
        move || (create.version().get(), update.version().get(), toggle.version().get(), issue.version().get()),
        |_| list_services(),
    );
    let tokens_changed =
        Signal::derive(move || create.version().get() + issue.version().get() + revoke.version().get());
    let namespaces = Resource::new(|| (), |_| list_namespaces(Some(1), Some(1000), None));
    let created = RwSignal::new(None::<ServiceSecretDto>);
    let editing = RwSignal::new(None::<ServiceDto>);
    let selected = RwSignal::new(None::<String>);
    let on_secret = move |made: &ServiceSecretDto| {
        selected.set(Some(made.service.name.clone()));
        created.set(Some(made.clone()));
    };
    on_success(*create, on_secret);
    on_success(*issue, on_secret);
    // A revoked token's secret is of no use: its box goes too.
    on_success(*revoke, move |token: &ServiceTokenDto| {
        if created.with_untracked(|c| c.as_ref().is_some_and(|c| c.token.id == token.id)) {
            created.set(None);
        }
    });
    let notice = form_error(*toggle, RwSignal::new(None));
    let on_edit = Callback::new(move |service: ServiceDto| editing.set(Some(service)));
    view! {
        <NewServiceForm namespaces create />
        {move || {
            created
                .get()
                .map(|made| view! { <SecretBox made on_dismiss=Callback::new(move |_| created.set(None)) /> })
        }}
        <FormError error=notice fields=&[] />
        <Transition fallback=|| view! { <p>"Loading the services…"</p> }>
            {move || Suspend::new(async move {
                match services.await {
                    Ok(list) => view! { <ServiceTable services=list selected on_edit toggle /> }.into_any(),
                    Err(err) => view! { <p role="alert" class="text-red-600">{err.message}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || {
            selected
                .get()
                .map(|name| view! { <ServiceTokens name tokens_changed issue revoke on_close=Callback::new(move |_| selected.set(None)) /> })
        }}
        {move || {
            editing
                .get()
                .map(|service| view! { <EditDialog service namespaces update on_close=Callback::new(move |_| editing.set(None)) /> })
        }}
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
