//! The range added up: operations by kind, errors, latency percentiles, and keys and bytes now.

use leptos::prelude::*;

use crate::components::text::MUTED;
use crate::dto::DashboardDto;
use crate::format;

/// A latency percentile as read: the upper bound of its histogram bucket (`≤ 5 ms`); 1000 ms
/// stands for the last two buckets, so it reads "> 250 ms"; "–" without operations.
pub(crate) fn latency(ms: Option<f64>) -> String {
    match ms {
        None => "–".to_owned(),
        Some(ms) if ms >= 1000.0 => "> 250 ms".to_owned(),
        Some(ms) => format!("≤ {ms} ms"),
    }
}

/// A count as read: `1,234`.
pub(crate) fn count(n: f64) -> String {
    format::thousands(n.max(0.0).round() as u64)
}

/// The totals as a list of figures, each under its name. `compact` leaves out keys and bytes
/// (the namespace's own panel shows them in its heading).
#[component]
pub(crate) fn TotalsList(dashboard: DashboardDto, #[prop(optional)] compact: bool) -> impl IntoView {
    let t = &dashboard.totals;
    let operations = t.operations();
    let mut figures = vec![
        ("operations", "Operations", format::thousands(operations)),
        ("reads", "Reads", format::thousands(t.reads)),
        ("writes", "Writes", format::thousands(t.writes)),
        ("deletes", "Deletes", format::thousands(t.deletes)),
        ("lists", "Lists", format::thousands(t.lists)),
        ("errors", "Errors", format::thousands(t.errors)),
        ("p50", "p50 latency", latency(t.p50_ms)),
        ("p90", "p90 latency", latency(t.p90_ms)),
        ("p99", "p99 latency", latency(t.p99_ms)),
    ];
    if !compact {
        figures.push(("keys", "Keys now", format::thousands(dashboard.key_count)));
        figures.push(("bytes", "Stored now", format::bytes(dashboard.size_bytes)));
    }
    let errors = t.errors;
    let grid = if compact {
        "grid grid-cols-3 gap-2 sm:grid-cols-5 lg:grid-cols-9"
    } else {
        "grid grid-cols-2 gap-2 sm:grid-cols-4 lg:grid-cols-6"
    };
    view! {
        <dl class=grid>
            {figures
                .into_iter()
                .map(|(key, name, figure)| {
                    let alarm = key == "errors" && errors > 0;
                    let figure_class = if alarm {
                        "text-xl font-semibold tabular-nums text-red-700 dark:text-red-400"
                    } else {
                        "text-xl font-semibold tabular-nums"
                    };
                    view! {
                        <div
                            class="rounded-md border border-slate-200 bg-white px-3 py-2 dark:border-slate-800 dark:bg-slate-900"
                            data-testid=format!("total-{key}")
                        >
                            <dt class=format!("text-xs {MUTED}")>{name}</dt>
                            <dd class=figure_class>{figure}</dd>
                        </div>
                    }
                })
                .collect_view()}
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::{count, latency};

    #[test]
    fn latencies_read_as_bucket_bounds() {
        assert_eq!(latency(None), "–");
        assert_eq!(latency(Some(5.0)), "≤ 5 ms");
        assert_eq!(latency(Some(250.0)), "≤ 250 ms");
        assert_eq!(latency(Some(1000.0)), "> 250 ms");
        assert_eq!(count(1234.0), "1,234");
    }
}
