//! "New endpoint" and "Edit": an endpoint's URL, description, event types, namespace and prefix
//! filters, secret and whether it is enabled, in a dialog. The server checks each field; its
//! error for one shows at that field.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::EndpointActions;
use crate::components::field_error::{DialogButtons, FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{INPUT, LABEL, Modal};
use crate::components::namespace_select::NamespaceSelect;
use crate::components::text::Hint;
use crate::dto::{NamespaceDto, WebhookDto};
use crate::error::AppError;
use crate::serverfns::webhooks::{CreateWebhook, UpdateWebhook};

/// The fields of the server's errors that show at a field of the dialog.
const FIELDS: &[&str] = &["url", "description", "events", "namespace_id", "prefix", "secret"];

/// The event types a new endpoint starts with.
const NEW_EVENTS: &[&str] = &["key.created", "key.updated", "key.deleted"];

/// The dialog's fields, as typed (an empty namespace: every namespace; an empty secret: a new
/// one is made, or an edit keeps the one it has).
#[derive(Clone, Copy)]
struct Draft {
    url: RwSignal<String>,
    description: RwSignal<String>,
    events: RwSignal<Vec<String>>,
    namespace_id: RwSignal<String>,
    prefix: RwSignal<String>,
    secret: RwSignal<String>,
    enabled: RwSignal<bool>,
}

impl Draft {
    fn of(endpoint: Option<&WebhookDto>) -> Self {
        let events = match endpoint {
            Some(e) => e.events.clone(),
            None => NEW_EVENTS.iter().map(|e| (*e).to_owned()).collect(),
        };
        Self {
            url: RwSignal::new(endpoint.map(|e| e.url.clone()).unwrap_or_default()),
            description: RwSignal::new(endpoint.map(|e| e.description.clone()).unwrap_or_default()),
            events: RwSignal::new(events),
            namespace_id: RwSignal::new(endpoint.and_then(|e| e.namespace_id.clone()).unwrap_or_default()),
            prefix: RwSignal::new(endpoint.and_then(|e| e.prefix.clone()).unwrap_or_default()),
            secret: RwSignal::new(String::new()),
            enabled: RwSignal::new(endpoint.is_none_or(|e| e.enabled)),
        }
    }

    fn secret(&self) -> Option<String> {
        Some(self.secret.get_untracked()).filter(|s| !s.is_empty())
    }

    fn create(&self) -> CreateWebhook {
        CreateWebhook {
            url: self.url.get_untracked().trim().to_owned(),
            description: Some(self.description.get_untracked()),
            events: self.events.get_untracked(),
            namespace_id: Some(self.namespace_id.get_untracked()).filter(|id| !id.is_empty()),
            prefix: Some(self.prefix.get_untracked()).filter(|p| !p.is_empty()),
            enabled: Some(self.enabled.get_untracked()),
            secret: self.secret(),
        }
    }

    /// An edit sends every field: an empty namespace or prefix removes that filter.
    fn update(&self, id: String) -> UpdateWebhook {
        UpdateWebhook {
            id,
            url: Some(self.url.get_untracked().trim().to_owned()),
            description: Some(self.description.get_untracked()),
            events: Some(self.events.get_untracked()),
            namespace_id: Some(self.namespace_id.get_untracked()),
            prefix: Some(self.prefix.get_untracked()),
            enabled: Some(self.enabled.get_untracked()),
            secret: self.secret(),
        }
    }
}

#[component]
pub(super) fn EndpointDialog(
    /// The endpoint edited; none for a new one.
    endpoint: Option<WebhookDto>,
    /// Every event type, in the server's order.
    event_types: Vec<String>,
    namespaces: Vec<NamespaceDto>,
    actions: EndpointActions,
    on_close: Callback<()>,
) -> impl IntoView {
    let draft = Draft::of(endpoint.as_ref());
    let id = endpoint.map(|e| e.id);
    let EndpointActions { create, update, .. } = actions;
    let (error, pending, title, label) = match &id {
        None => {
            on_success(*create, move |_| on_close.run(()));
            (form_error(*create, RwSignal::new(None)), create.pending(), "New endpoint", "Create endpoint")
        }
        Some(_) => {
            on_success(*update, move |_| on_close.run(()));
            (form_error(*update, RwSignal::new(None)), update.pending(), "Edit endpoint", "Save")
        }
    };
    let editing = id.is_some();
    let id = StoredValue::new(id);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        match id.get_value() {
            None => {
                create.dispatch(draft.create());
            }
            Some(id) => {
                update.dispatch(draft.update(id));
            }
        }
    };
    let invalid = move |field: &'static str| {
        move || error.with(|e| e.as_ref().and_then(|e| e.field.as_deref()) == Some(field)).then_some("true")
    };
    view! {
        <Modal title=title.to_owned() on_close>
            <form class="space-y-3" on:submit=submit>
                <FormError error fields=FIELDS />
                <div>
                    <label class=LABEL>
                        "URL"
                        <input
                            class=format!("{INPUT} font-mono")
                            type="text"
                            inputmode="url"
                            required
                            autocomplete="off"
                            spellcheck="false"
                            placeholder="https://hooks.example.com/kv-manager"
                            aria-invalid=invalid("url")
                            bind:value=draft.url
                        />
                    </label>
                    <FieldError error field="url" />
                    <Hint class="mt-1">
                        "Where deliveries are POSTed: https:// (or http://) on a public address; redirects are not followed."
                    </Hint>
                </div>
                <div>
                    <label class=LABEL>
                        "Description (optional)"
                        <input
                            class=INPUT
                            type="text"
                            autocomplete="off"
                            aria-invalid=invalid("description")
                            bind:value=draft.description
                        />
                    </label>
                    <FieldError error field="description" />
                </div>
                <EventChoice events=draft.events event_types error />
                <div class="grid gap-3 sm:grid-cols-2">
                    <div>
                        <NamespaceSelect value=draft.namespace_id namespaces empty="Every namespace" invalid=invalid("namespace_id") />
                        <FieldError error field="namespace_id" />
                    </div>
                    <div>
                        <label class=LABEL>
                            "Only keys starting with"
                            <input
                                class=format!("{INPUT} font-mono")
                                type="text"
                                autocomplete="off"
                                spellcheck="false"
                                placeholder="every key"
                                aria-invalid=invalid("prefix")
                                bind:value=draft.prefix
                            />
                        </label>
                        <FieldError error field="prefix" />
                        <Hint class="mt-1">"Applies to key events; job and threshold events are sent either way."</Hint>
                    </div>
                </div>
                <div>
                    <label class=LABEL>
                        {if editing { "New signing secret (optional)" } else { "Signing secret (optional)" }}
                        <input
                            class=format!("{INPUT} font-mono")
                            type="text"
                            autocomplete="off"
                            spellcheck="false"
                            aria-invalid=invalid("secret")
                            bind:value=draft.secret
                        />
                    </label>
                    <FieldError error field="secret" />
                    <Hint class="mt-1">
                        {if editing {
                            "Leave empty to keep the current secret. A new one signs every delivery from now on: give it to the receiver first."
                        } else {
                            "16 to 256 printable characters without spaces; leave empty for one made for you. It is shown once, after the endpoint is made."
                        }}
                    </Hint>
                </div>
                <div>
                    <label class="flex items-center gap-2 text-sm font-medium">
                        <input type="checkbox" bind:checked=draft.enabled />
                        "Enabled"
                    </label>
                    <Hint class="mt-1">
                        "A disabled endpoint is sent nothing, and what waits in its queue is dropped. A paused one (after failing again and again) keeps its queue."
                    </Hint>
                </div>
                <DialogButtons on_cancel=on_close label pending />
            </form>
        </Modal>
    }
}

/// A checkbox per event type, bound to `events`.
#[component]
fn EventChoice(
    events: RwSignal<Vec<String>>,
    event_types: Vec<String>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    view! {
        <fieldset>
            <legend class=LABEL>"Events"</legend>
            <div class="mt-1 grid gap-1 sm:grid-cols-2">
                {event_types
                    .into_iter()
                    .map(|event| {
                        let initial = events.with_untracked(|e| e.contains(&event));
                        let (is_on, set) = (event.clone(), event.clone());
                        view! {
                            <label class="flex items-center gap-2 text-sm">
                                <input
                                    type="checkbox"
                                    value=event.clone()
                                    checked=initial
                                    prop:checked=move || events.with(|e| e.contains(&is_on))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        events
                                            .update(|e| {
                                                e.retain(|x| *x != set);
                                                if on {
                                                    e.push(set.clone());
                                                }
                                            });
                                    }
                                />
                                <span class="font-mono">{event}</span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
            <FieldError error field="events" />
        </fieldset>
    }
}
