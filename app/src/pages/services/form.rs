//! The new-service form, the edit dialog, and the secret of a token just made.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;

use super::fields::ServiceFields;
use super::{Draft, FIELDS, split_list};
use crate::components::field_error::{DialogButtons, FieldError, FormError};
use crate::components::form_action::{form_error, on_success};
use crate::components::modal::{BUTTON, INPUT, LABEL, Modal};
use crate::components::shown_once::ShownOnce;
use crate::components::text::Hint;
use crate::dto::{NamespacePageDto, ServiceDto, ServiceSecretDto};
use crate::error::AppError;
use crate::pages::tokens::site_origin;
use crate::serverfns::services::{CreateService, UpdateService};

#[component]
pub(super) fn NewServiceForm(
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
    create: ServerAction<CreateService>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let draft = Draft::new();
    let error = form_error(*create, RwSignal::new(None));
    let pending = create.pending();
    on_success(*create, move |_| {
        name.set(String::new());
        draft.clear();
    });
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateService {
            name: name.get_untracked(),
            storage: draft.storage.get_untracked(),
            role: draft.role.get_untracked(),
            prefix: draft.prefix.get_untracked(),
            allowed_origins: Some(split_list(&draft.origins.get_untracked())),
            public_keys: Some(split_list(&draft.public_keys.get_untracked())),
            description: Some(draft.description.get_untracked()),
            disabled: None,
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
pub(super) fn SecretBox(made: ServiceSecretDto, on_dismiss: Callback<()>) -> impl IntoView {
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

#[component]
pub(super) fn EditDialog(
    service: ServiceDto,
    namespaces: Resource<Result<NamespacePageDto, AppError>>,
    update: ServerAction<UpdateService>,
    on_close: Callback<()>,
) -> impl IntoView {
    let draft = Draft::of(&service);
    let error = form_error(*update, RwSignal::new(None));
    let pending = update.pending();
    on_success(*update, move |_| on_close.run(()));
    let name = service.name.clone();
    let submit = {
        let name = name.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            update.dispatch(UpdateService {
                name: name.clone(),
                storage: Some(draft.storage.get_untracked()),
                role: Some(draft.role.get_untracked()),
                prefix: Some(draft.prefix.get_untracked()),
                allowed_origins: Some(split_list(&draft.origins.get_untracked())),
                public_keys: Some(split_list(&draft.public_keys.get_untracked())),
                description: Some(draft.description.get_untracked()),
                disabled: None,
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
