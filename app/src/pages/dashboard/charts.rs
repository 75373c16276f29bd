//! The dashboard's charts: operations per point by kind, their latency percentiles, and the
//! bytes and keys stored, each summed up in words for its SVG description.

use leptos::prelude::*;

use super::range_words;
use super::totals::{count, latency};
use crate::components::chart::{Chart, Hue, LineChart, Series};
use crate::dto::{DashboardDto, OpsPointDto, StoragePointDto};
use crate::format;

/// "01-31 14:00": a point's time on the axis of a range of days.
fn date_and_clock(unix: i64) -> String {
    format::datetime_local(unix).get(5..).map(|s| s.replace('T', " ")).unwrap_or_default()
}

/// How the axis shows a point's time for points of `step` seconds.
fn axis_time(step: i64) -> fn(i64) -> String {
    match step {
        ..3600 => format::clock,
        3600..86_400 => date_and_clock,
        _ => format::date,
    }
}

/// The first point where `value` is largest, with that value.
fn peak<T>(points: &[T], value: impl Fn(&T) -> Option<f64>) -> Option<(&T, f64)> {
    points.iter().filter_map(|p| value(p).map(|v| (p, v))).fold(None, |best, (p, v)| match best {
        Some((_, top)) if top >= v => best,
        _ => Some((p, v)),
    })
}

/// The words of the operations chart's description.
fn ops_desc(d: &DashboardDto) -> String {
    let step = format::span_words(d.step);
    let range = range_words(&d.range);
    let sum = |kind: fn(&OpsPointDto) -> u64| d.ops.iter().map(kind).sum::<u64>();
    let total = sum(OpsPointDto::operations);
    match peak(&d.ops, |p| Some(p.operations() as f64)) {
        Some((top, most)) if total > 0 => format!(
            "Operations per {step} over {range}: {} in all ({} reads, {} writes, {} deletes, {} lists), most {} at {}.",
            format::thousands(total),
            format::thousands(sum(|p| p.reads)),
            format::thousands(sum(|p| p.writes)),
            format::thousands(sum(|p| p.deletes)),
            format::thousands(sum(|p| p.lists)),
            count(most),
            format::utc(top.start),
        ),
        _ => format!("Operations per {step} over {range}: none."),
    }
}

/// Operations per point by kind. `id` makes the ids of its parts unique in the page.
#[component]
pub(crate) fn OpsChart(dashboard: DashboardDto, id: &'static str) -> impl IntoView {
    let kind = |name, hue, of: fn(&OpsPointDto) -> u64| Series {
        name,
        hue,
        values: dashboard.ops.iter().map(|p| Some(of(p) as f64)).collect(),
        joined: false,
    };
    let chart = Chart {
        id,
        title: format!("Operations per {}", format::span_words(dashboard.step)),
        desc: ops_desc(&dashboard),
        times: dashboard.ops.iter().map(|p| p.start).collect(),
        axis_time: axis_time(dashboard.step),
        series: vec![
            kind("Reads", Hue::Indigo, |p| p.reads),
            kind("Writes", Hue::Emerald, |p| p.writes),
            kind("Deletes", Hue::Rose, |p| p.deletes),
            kind("Lists", Hue::Amber, |p| p.lists),
        ],
        value: count,
        scale: count,
        empty: "No operations in this range",
    };
    view! { <LineChart chart /> }
}

/// The words of the latency chart's description.
fn latency_desc(d: &DashboardDto) -> String {
    let t = &d.totals;
    let highest = match peak(&d.ops, |p| p.p99_ms) {
        Some((top, ms)) => format!("; the highest p99, {}, at {}", latency(Some(ms)), format::utc(top.start)),
        None => String::new(),
    };
    format!(
        "Latency per {} over {}, each percentile as the upper bound of the histogram bucket it falls in: p50 {}, p90 {}, p99 {} over the whole range{highest}.",
        format::span_words(d.step),
        range_words(&d.range),
        latency(t.p50_ms),
        latency(t.p90_ms),
        latency(t.p99_ms),
    )
}

/// The latency percentiles per point.
#[component]
pub(super) fn LatencyChart(dashboard: DashboardDto) -> impl IntoView {
    let percentile = |name, hue, of: fn(&OpsPointDto) -> Option<f64>| Series {
        name,
        hue,
        values: dashboard.ops.iter().map(of).collect(),
        joined: false,
    };
    let chart = Chart {
        id: "latency",
        title: "Latency".to_owned(),
        desc: latency_desc(&dashboard),
        times: dashboard.ops.iter().map(|p| p.start).collect(),
        axis_time: axis_time(dashboard.step),
        series: vec![
            percentile("p50", Hue::Emerald, |p| p.p50_ms),
            percentile("p90", Hue::Amber, |p| p.p90_ms),
            percentile("p99", Hue::Rose, |p| p.p99_ms),
        ],
        value: |ms| latency(Some(ms)),
        scale: |ms| format!("{ms} ms"),
        empty: "No operations in this range",
    };
    view! { <LineChart chart /> }
}

/// The words of a storage chart's description: its first, last and largest sample and the
/// figure now.
fn storage_desc(
    d: &DashboardDto,
    what: &str,
    of: fn(&StoragePointDto) -> u64,
    show: fn(u64) -> String,
    now: u64,
) -> String {
    let range = range_words(&d.range);
    let step = format::span_words(d.step);
    let (Some(first), Some(last), Some((top, most))) =
        (d.storage.first(), d.storage.last(), peak(&d.storage, |p| Some(of(p) as f64)))
    else {
        return format!("{what} over {range}: no samples yet; {} now.", show(now));
    };
    format!(
        "{what} over {range}, the largest sample per {step}: {} at {}, {} at {}, most {} at {}; {} now.",
        show(of(first)),
        format::utc(first.start),
        show(of(last)),
        format::utc(last.start),
        show(most as u64),
        format::utc(top.start),
        show(now),
    )
}

/// The bytes and the keys stored, one chart each, over the range's points (a point without a
/// sample is left out and the line runs on).
#[component]
pub(super) fn StorageCharts(dashboard: DashboardDto) -> impl IntoView {
    let step = dashboard.step.max(1);
    let points = usize::try_from((dashboard.to - dashboard.from) / step).unwrap_or(0);
    let times: Vec<i64> = (0..points).map(|i| dashboard.from + i as i64 * step).collect();
    let sampled = |of: fn(&StoragePointDto) -> u64| {
        let mut values = vec![None; points];
        for p in &dashboard.storage {
            if let Some(slot) = usize::try_from((p.start - dashboard.from) / step).ok().and_then(|i| values.get_mut(i))
            {
                *slot = Some(of(p) as f64);
            }
        }
        values
    };
    let bytes = Chart {
        id: "bytes",
        title: "Bytes stored".to_owned(),
        desc: storage_desc(&dashboard, "Bytes stored", |p| p.size_bytes, format::bytes, dashboard.size_bytes),
        times: times.clone(),
        axis_time: axis_time(step),
        series: vec![Series { name: "Bytes", hue: Hue::Indigo, values: sampled(|p| p.size_bytes), joined: true }],
        value: |v| format::bytes(v.max(0.0) as u64),
        scale: |v| format::bytes(v.max(0.0) as u64),
        empty: "No storage samples in this range yet",
    };
    let keys = Chart {
        id: "keys",
        title: "Keys".to_owned(),
        desc: storage_desc(&dashboard, "Keys", |p| p.key_count, format::thousands, dashboard.key_count),
        times,
        axis_time: axis_time(step),
        series: vec![Series { name: "Keys", hue: Hue::Emerald, values: sampled(|p| p.key_count), joined: true }],
        value: count,
        scale: count,
        empty: "No storage samples in this range yet",
    };
    view! {
        <LineChart chart=bytes />
        <LineChart chart=keys />
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dto::TotalsDto;

    fn point(start: i64, reads: u64, writes: u64, p99: Option<f64>) -> OpsPointDto {
        OpsPointDto { start, reads, writes, deletes: 0, lists: 0, errors: 0, p50_ms: p99, p90_ms: p99, p99_ms: p99 }
    }

    fn dashboard(ops: Vec<OpsPointDto>) -> DashboardDto {
        DashboardDto {
            range: "1h".into(),
            from: 1_767_225_600,
            to: 1_767_225_600 + 3600,
            step: 60,
            namespace_id: None,
            ops,
            totals: TotalsDto { p50_ms: Some(1.0), p90_ms: Some(5.0), p99_ms: Some(25.0), ..Default::default() },
            storage: Vec::new(),
            key_count: 3,
            size_bytes: 2048,
            top_namespaces: Vec::new(),
            largest: Vec::new(),
            services: None,
            surfaces: Vec::new(),
            health: None,
        }
    }

    #[test]
    fn descriptions_sum_the_charts_up() {
        let start = 1_767_225_600 + 14 * 3600;
        let d = dashboard(vec![point(start, 2, 1, Some(1.0)), point(start + 60, 1_000, 300, Some(25.0))]);
        assert_eq!(
            ops_desc(&d),
            "Operations per minute over the last hour: 1,303 in all (1,002 reads, 301 writes, 0 deletes, 0 lists), most 1,300 at 2026-01-01 14:01 UTC."
        );
        assert_eq!(
            latency_desc(&d),
            "Latency per minute over the last hour, each percentile as the upper bound of the histogram bucket it falls in: p50 ≤ 1 ms, p90 ≤ 5 ms, p99 ≤ 25 ms over the whole range; the highest p99, ≤ 25 ms, at 2026-01-01 14:01 UTC."
        );
        assert_eq!(
            storage_desc(&d, "Bytes stored", |p| p.size_bytes, format::bytes, d.size_bytes),
            "Bytes stored over the last hour: no samples yet; 2.0 KB now."
        );
        assert_eq!(ops_desc(&dashboard(Vec::new())), "Operations per minute over the last hour: none.");
    }

    #[test]
    fn axis_times_fit_the_range() {
        let t = 1_767_225_600 + 14 * 3600;
        assert_eq!(axis_time(60)(t), "14:00");
        assert_eq!(axis_time(7200)(t), "01-01 14:00");
        assert_eq!(axis_time(86_400)(t), "2026-01-01");
    }
}
