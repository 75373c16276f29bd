//! Every service, with "Tokens", "Edit" and "Disable" or "Enable" on each.

use leptos::prelude::*;

use crate::components::data_table::{Column, DataTable, EmptyNote};
use crate::components::modal::BUTTON_SECONDARY;
use crate::components::text::{MUTED, Muted};
use crate::dto::ServiceDto;
use crate::serverfns::services::UpdateService;

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
pub(super) fn ServiceTable(
    services: Vec<ServiceDto>,
    selected: RwSignal<Option<String>>,
    on_edit: Callback<ServiceDto>,
    toggle: ServerAction<UpdateService>,
) -> impl IntoView {
    let empty = services.is_empty();
    view! {
        <Show when=move || empty>
            <EmptyNote>"No services yet. Make one above for each application that uses the KV API."</EmptyNote>
        </Show>
        <DataTable label="Services" columns=SERVICE_COLUMNS>
            {services
                .into_iter()
                .map(|service| view! { <ServiceRow service selected on_edit toggle /> })
                .collect_view()}
        </DataTable>
    }
}

#[component]
fn ServiceRow(
    service: ServiceDto,
    selected: RwSignal<Option<String>>,
    on_edit: Callback<ServiceDto>,
    /// "Disable" and "Enable"; a failure shows above the table.
    toggle: ServerAction<UpdateService>,
) -> impl IntoView {
    let name = service.name.clone();
    let disabled = service.disabled;
    let busy = {
        let name = name.clone();
        move || toggle.input().with(|sent| sent.as_ref().is_some_and(|sent| sent.name == name))
    };
    let flip = {
        let name = name.clone();
        move |_| {
            toggle.dispatch(UpdateService {
                name: name.clone(),
                storage: None,
                role: None,
                prefix: None,
                allowed_origins: None,
                public_keys: None,
                description: None,
                disabled: Some(!disabled),
            });
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
                    <button type="button" class=BUTTON_SECONDARY disabled=busy on:click=flip>
                        {if disabled { "Enable" } else { "Disable" }}
                    </button>
                </div>
            </td>
        </tr>
    }
}
