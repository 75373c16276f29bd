//! The console's tables and the note shown where a list is empty.

use leptos::prelude::*;

/// A column heading of a [`DataTable`].
#[derive(Clone, Copy, Debug)]
pub struct Column {
    label: &'static str,
    class: &'static str,
    hidden: bool,
}

impl Column {
    pub const fn new(label: &'static str) -> Self {
        Self { label, class: "p-2", hidden: false }
    }

    /// A column of numbers, aligned right.
    pub const fn right(label: &'static str) -> Self {
        Self { label, class: "p-2 text-right", hidden: false }
    }

    /// A heading for screen readers only (a column of buttons, say).
    pub const fn hidden(label: &'static str) -> Self {
        Self { label, class: "p-2", hidden: true }
    }
}

/// The narrow-screen rules of one kind of table: each cell of a column with a visible heading
/// shows that heading before it (the headings row is hidden there: see `.data-cards` in
/// `style/main.css`). Scoped by a class named after the headings; cells are counted from the
/// row's end, so a leading cell some rows have (a checkbox) shifts nothing.
fn card_rules(columns: &[Column]) -> (String, String) {
    let mut hash: u32 = 2166136261;
    for byte in columns.iter().flat_map(|c| c.label.bytes().chain([0])) {
        hash = (hash ^ u32::from(byte)).wrapping_mul(16777619);
    }
    let scope = format!("dt-{hash:08x}");
    let rules: String = columns
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.hidden)
        .map(|(i, c)| {
            let label = c.label.replace('\\', "\\\\").replace('"', "\\\"");
            format!(".{scope} td:nth-last-child({})::before{{content:\"{label}\"}}", columns.len() - i)
        })
        .collect();
    (scope, format!("@media (max-width: 639.98px){{{rules}}}"))
}

/// A table in a bordered, scrollable box: headings from `columns`, rows from the children. On
/// a narrow screen (a phone) each row is a card: its cells stacked, each after its heading.
#[component]
pub fn DataTable(
    /// The table's accessible name.
    #[prop(optional, into)]
    label: Option<String>,
    columns: &'static [Column],
    /// A heading cell before the columns (the keys table's "Select all" box).
    #[prop(optional, into)]
    lead: Option<ViewFnOnce>,
    /// The box has no background of its own (a table inside a panel).
    #[prop(optional)]
    bare: bool,
    children: Children,
) -> impl IntoView {
    let frame = if bare {
        "overflow-x-auto rounded-md border border-slate-200 dark:border-slate-800"
    } else {
        "overflow-x-auto rounded-md border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900"
    };
    let (scope, rules) = card_rules(columns);
    view! {
        <style>{rules}</style>
        <div class=frame>
            <table class=format!("data-cards {scope} w-full text-left text-sm") aria-label=label>
                <thead class="bg-slate-100 dark:bg-slate-800">
                    <tr>
                        {lead.map(|lead| lead.run())}
                        {columns
                            .iter()
                            .map(|column| {
                                if column.hidden {
                                    view! {
                                        <th scope="col" class=column.class>
                                            <span class="sr-only">{column.label}</span>
                                        </th>
                                    }
                                        .into_any()
                                } else {
                                    view! {
                                        <th scope="col" class=column.class>
                                            {column.label}
                                        </th>
                                    }
                                        .into_any()
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}

/// What a list shows instead of rows when it has none.
#[component]
pub fn EmptyNote(children: Children) -> impl IntoView {
    view! { <p class="rounded-md border border-dashed border-slate-300 p-6 text-center dark:border-slate-700">{children()}</p> }
}
