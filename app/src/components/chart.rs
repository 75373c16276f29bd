//! Small charts drawn as SVG on the server, so they read without JavaScript.
//!
//! [`LineChart`]: a few series over time under a heading, with a legend, the scale, the times of
//! its first, middle and last points, a `<title>` and a `<desc>` summing it up for screen
//! readers, and "Show as table" with the same numbers. Once hydrated, the point under the pointer
//! (or chosen with the arrow keys once the chart has focus) is marked by a guide and its values
//! are read out under the chart. [`Sparkline`]: a tiny trend line for a table cell.

use leptos::prelude::*;

use crate::components::text::MUTED;
use crate::format;

/// The colour of a series, in both themes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hue {
    Indigo,
    Emerald,
    Rose,
    Amber,
}

impl Hue {
    /// Classes of its line.
    fn stroke(self) -> &'static str {
        match self {
            Self::Indigo => "stroke-indigo-600 dark:stroke-indigo-400",
            Self::Emerald => "stroke-emerald-600 dark:stroke-emerald-400",
            Self::Rose => "stroke-rose-600 dark:stroke-rose-400",
            Self::Amber => "stroke-amber-600 dark:stroke-amber-400",
        }
    }

    /// Classes of its swatch in the legend.
    fn swatch(self) -> &'static str {
        match self {
            Self::Indigo => "bg-indigo-600 dark:bg-indigo-400",
            Self::Emerald => "bg-emerald-600 dark:bg-emerald-400",
            Self::Rose => "bg-rose-600 dark:bg-rose-400",
            Self::Amber => "bg-amber-600 dark:bg-amber-400",
        }
    }
}

/// One line of a [`LineChart`].
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: &'static str,
    pub hue: Hue,
    /// One value per point of the chart; `None` where there is none.
    pub values: Vec<Option<f64>>,
    /// The line runs on over points without a value (a level such as storage) instead of
    /// breaking there.
    pub joined: bool,
}

/// The drawing's coordinates; the SVG stretches them over its box, lines keep their width.
const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 100.0;
/// Classes of the drawing's box.
const PLOT: &str = "relative h-40 min-w-0 flex-1";

/// The top of the scale: the smallest 1, 2 or 5 times a power of ten at or above `max` (1 when
/// there is nothing above zero).
fn scale_top(max: f64) -> f64 {
    if max.is_nan() || max <= 0.0 || !max.is_finite() {
        return 1.0;
    }
    let magnitude = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|top| *top >= max).unwrap_or(10.0 * magnitude)
}

/// Where point `i` of `n` is across the drawing.
fn x_of(i: usize, n: usize) -> f64 {
    if n <= 1 { WIDTH / 2.0 } else { WIDTH * i as f64 / (n - 1) as f64 }
}

/// Where `value` is up the drawing, on a scale up to `top`.
fn y_of(value: f64, top: f64) -> f64 {
    HEIGHT * (1.0 - (value / top).clamp(0.0, 1.0))
}

/// A series as stretches of consecutive points: each stretch of two or more is drawn as a line,
/// a lone point as a dot.
fn stretches(values: &[Option<f64>], top: f64, joined: bool) -> Vec<Vec<(f64, f64)>> {
    let n = values.len();
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut drawing = false;
    for (i, value) in values.iter().enumerate() {
        match value {
            Some(v) => {
                let point = (x_of(i, n), y_of(*v, top));
                match out.last_mut() {
                    Some(stretch) if drawing => stretch.push(point),
                    _ => out.push(vec![point]),
                }
                drawing = true;
            }
            None if !joined => drawing = false,
            None => {}
        }
    }
    out
}

/// The SVG path of a stretch of points.
fn path_of(stretch: &[(f64, f64)]) -> String {
    stretch.iter().enumerate().map(|(i, (x, y))| format!("{}{x:.1},{y:.1}", if i == 0 { "M" } else { " L" })).collect()
}

/// What a [`LineChart`] draws.
#[derive(Clone, Debug)]
pub struct Chart {
    /// Makes the ids of the chart's parts unique in the page.
    pub id: &'static str,
    /// The chart's heading, also the SVG's `<title>`.
    pub title: String,
    /// What the chart shows, summed up in a sentence or two: the SVG's `<desc>`.
    pub desc: String,
    /// When each point starts (unix seconds).
    pub times: Vec<i64>,
    /// A point's time as the axis shows it (`HH:MM`, a date).
    pub axis_time: fn(i64) -> String,
    pub series: Vec<Series>,
    /// A value as read: a count, bytes, `≤ 5 ms`.
    pub value: fn(f64) -> String,
    /// A value on the scale beside the drawing (`0`, `100 ms`).
    pub scale: fn(f64) -> String,
    /// What shows instead of the drawing when no series has a value above zero.
    pub empty: &'static str,
}

impl Chart {
    /// The largest value of any series (0 without any).
    fn max(&self) -> f64 {
        self.series.iter().flat_map(|s| s.values.iter().flatten()).fold(0.0f64, |m, v| m.max(*v))
    }
}

#[component]
pub fn LineChart(chart: Chart) -> impl IntoView {
    let heading_id = format!("{}-heading", chart.id);
    let (id, title, empty) = (chart.id, chart.title.clone(), chart.empty);
    let body = if chart.max() > 0.0 && !chart.times.is_empty() {
        view! { <Drawing chart /> }.into_any()
    } else {
        view! {
            <p class=format!("py-6 text-center text-sm {MUTED}") data-testid="chart-empty">
                {empty}
            </p>
        }
        .into_any()
    };
    view! {
        <section aria-labelledby=heading_id class="min-w-0 space-y-2 rounded-md border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900" data-chart=id>
            <h3 id=heading_id.clone() class="font-semibold">
                {title}
            </h3>
            {body}
        </section>
    }
}

/// The drawing of a chart with something to show, its legend, readout and table.
#[component]
fn Drawing(chart: Chart) -> impl IntoView {
    let top = scale_top(chart.max());
    let Chart { id, title, desc, times, axis_time, series, value, scale, .. } = chart;
    let n = times.len();
    let (title_id, desc_id) = (format!("{id}-title"), format!("{id}-desc"));
    let lines = series
        .iter()
        .flat_map(|s| stretches(&s.values, top, s.joined).into_iter().map(move |stretch| (s.hue, stretch)))
        .map(|(hue, stretch)| {
            if let [(x, y)] = stretch.as_slice() {
                view! { <line x1=format!("{x:.1}") y1=format!("{y:.1}") x2=format!("{x:.1}") y2=format!("{y:.1}") class=hue.stroke() stroke-width="6" stroke-linecap="round" vector-effect="non-scaling-stroke" /> }
                    .into_any()
            } else {
                view! { <path d=path_of(&stretch) fill="none" class=hue.stroke() stroke-width="2" stroke-linejoin="round" vector-effect="non-scaling-stroke" /> }
                    .into_any()
            }
        })
        .collect_view();
    let middle = n.saturating_sub(1) / 2;
    let axis: Vec<String> =
        [0, middle, n.saturating_sub(1)].iter().filter_map(|i| times.get(*i)).map(|t| axis_time(*t)).collect();
    // The point the guide marks and the readout reads (browser only).
    let chosen = RwSignal::new(None::<usize>);
    let data = StoredValue::new((times.clone(), series.clone()));
    let readout = move |i: usize| {
        data.with_value(|(times, series)| {
            let values: Vec<String> = series
                .iter()
                .map(|s| {
                    let v = s.values.get(i).copied().flatten().map_or_else(|| "none".to_owned(), value);
                    format!("{} {v}", s.name)
                })
                .collect();
            format!("{}: {}", times.get(i).map(|t| format::utc(*t)).unwrap_or_default(), values.join(", "))
        })
    };
    let guide = move || {
        chosen.get().map(|i| {
            let x = format!("{:.1}", x_of(i, n));
            let dots = data.with_value(|(_, series)| {
                series
                    .iter()
                    .filter_map(|s| s.values.get(i).copied().flatten().map(|v| (s.hue, y_of(v, top))))
                    .map(|(hue, y)| {
                        let (x, y) = (x.clone(), format!("{y:.1}"));
                        view! { <line x1=x.clone() y1=y.clone() x2=x y2=y class=hue.stroke() stroke-width="8" stroke-linecap="round" vector-effect="non-scaling-stroke" /> }
                    })
                    .collect_view()
            });
            view! {
                <g data-testid="chart-guide">
                    <line x1=x.clone() y1="0" x2=x y2=HEIGHT.to_string() class="stroke-slate-400 dark:stroke-slate-500" stroke-width="1" vector-effect="non-scaling-stroke" />
                    {dots}
                </g>
            }
        })
    };
    view! {
        <ul class="flex flex-wrap gap-x-4 gap-y-1 text-xs" aria-label="Legend">
            {series
                .iter()
                .map(|s| {
                    view! {
                        <li class="flex items-center gap-1.5">
                            <span class=format!("inline-block h-2 w-4 rounded-sm {}", s.hue.swatch()) aria-hidden="true"></span>
                            {s.name}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <div class="flex gap-2">
            <div class=format!("flex h-40 w-16 shrink-0 flex-col justify-between text-right text-xs tabular-nums {MUTED}") aria-hidden="true">
                <span class="-mt-2">{scale(top)}</span>
                <span class="-mb-2">{scale(0.0)}</span>
            </div>
            <div class=PLOT>
                <svg
                    role="img"
                    aria-labelledby=title_id
                    aria-describedby=desc_id
                    viewBox=format!("0 0 {WIDTH} {HEIGHT}")
                    preserveAspectRatio="none"
                    class="h-full w-full overflow-visible"
                >
                    {leptos::tachys::svg::title().attr("id", title_id.clone()).child(title.clone())}
                    <desc id=desc_id.clone()>{desc}</desc>
                    <line x1="0" y1="0" x2=WIDTH.to_string() y2="0" class="stroke-slate-200 dark:stroke-slate-700" stroke-width="1" vector-effect="non-scaling-stroke" />
                    <line x1="0" y1=(HEIGHT / 2.0).to_string() x2=WIDTH.to_string() y2=(HEIGHT / 2.0).to_string() class="stroke-slate-200 dark:stroke-slate-700" stroke-width="1" vector-effect="non-scaling-stroke" />
                    <line x1="0" y1=HEIGHT.to_string() x2=WIDTH.to_string() y2=HEIGHT.to_string() class="stroke-slate-300 dark:stroke-slate-600" stroke-width="1" vector-effect="non-scaling-stroke" />
                    {lines}
                    {guide}
                </svg>
                <Pointer title n chosen readout />
            </div>
        </div>
        <div class=format!("ml-18 flex justify-between gap-2 text-xs tabular-nums {MUTED}") aria-hidden="true">
            {axis.into_iter().map(|label| view! { <span>{label}</span> }).collect_view()}
        </div>
        <p class="min-h-5 text-sm tabular-nums" data-testid="chart-readout">
            {move || chosen.get().map(readout)}
        </p>
        <ChartTable times series value />
    }
}

/// Over the drawing, in the browser only: moving the pointer (or, with focus, the arrow keys,
/// Home and End) chooses the point the guide marks and the readout reads.
#[component]
fn Pointer<F>(title: String, n: usize, chosen: RwSignal<Option<usize>>, readout: F) -> impl IntoView
where
    F: Fn(usize) -> String + Copy + Send + Sync + 'static,
{
    let in_browser = RwSignal::new(false);
    Effect::new(move |_| in_browser.set(true));
    let last = n.saturating_sub(1);
    let label = format!("{title}, point by point");
    let on_move = move |ev: web_sys::MouseEvent| {
        let width = event_target::<web_sys::HtmlElement>(&ev).client_width();
        if width > 0 {
            let at = f64::from(ev.offset_x()) / f64::from(width) * last as f64;
            chosen.set(Some((at.round().max(0.0) as usize).min(last)));
        }
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let current = chosen.get_untracked().unwrap_or(last);
        let next = match ev.key().as_str() {
            "ArrowLeft" | "ArrowDown" => current.saturating_sub(1),
            "ArrowRight" | "ArrowUp" => (current + 1).min(last),
            "Home" => 0,
            "End" => last,
            _ => return,
        };
        ev.prevent_default();
        chosen.set(Some(next));
    };
    move || {
        in_browser.get().then(|| {
            let label = label.clone();
            view! {
                <div
                    class="absolute inset-0 cursor-crosshair rounded-sm"
                    tabindex="0"
                    role="slider"
                    aria-label=label
                    aria-valuemin="0"
                    aria-valuemax=last.to_string()
                    aria-valuenow=move || chosen.get().unwrap_or(last).to_string()
                    aria-valuetext=move || readout(chosen.get().unwrap_or(last))
                    data-testid="chart-pointer"
                    on:mousemove=on_move
                    on:mouseleave=move |_| chosen.set(None)
                    on:focus=move |_| {
                        if chosen.get_untracked().is_none() {
                            chosen.set(Some(last));
                        }
                    }
                    on:blur=move |_| chosen.set(None)
                    on:keydown=on_key
                ></div>
            }
        })
    }
}

/// "Show as table": the chart's numbers, a row per point.
#[component]
fn ChartTable(times: Vec<i64>, series: Vec<Series>, value: fn(f64) -> String) -> impl IntoView {
    let headings =
        series.iter().map(|s| view! { <th scope="col" class="p-1.5 text-right">{s.name}</th> }).collect_view();
    let rows = times
        .iter()
        .enumerate()
        .map(|(i, time)| {
            let cells = series
                .iter()
                .map(|s| {
                    let text = s.values.get(i).copied().flatten().map_or_else(|| "–".to_owned(), value);
                    view! { <td class="p-1.5 text-right">{text}</td> }
                })
                .collect_view();
            view! {
                <tr class="border-t border-slate-200 dark:border-slate-800">
                    <th scope="row" class="p-1.5 font-normal whitespace-nowrap">{format::utc(*time)}</th>
                    {cells}
                </tr>
            }
        })
        .collect_view();
    view! {
        <details class="text-sm">
            <summary class="cursor-pointer text-indigo-700 hover:underline dark:text-indigo-300">"Show as table"</summary>
            <div class="mt-2 overflow-x-auto rounded-md border border-slate-200 dark:border-slate-800">
                <table class="w-full text-left text-xs tabular-nums">
                    <thead class="bg-slate-100 dark:bg-slate-800">
                        <tr>
                            <th scope="col" class="p-1.5">"Time"</th>
                            {headings}
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </details>
    }
}

/// A tiny line of `values` (oldest first) for a table cell, named by `label` ("Size from 1.0 KB
/// to 2.0 KB").
#[component]
pub fn Sparkline(values: Vec<f64>, label: String) -> impl IntoView {
    let top = values.iter().fold(0.0f64, |m, v| m.max(*v));
    let low = values.iter().fold(top, |m, v| m.min(*v));
    // The line spans the range of the values, so a small change still shows.
    let span = if top > low { top - low } else { 1.0 };
    let n = values.len();
    let points: Vec<(f64, f64)> = values
        .iter()
        .enumerate()
        .map(|(i, v)| (x_of(i, n), if top > low { HEIGHT * (1.0 - (v - low) / span) } else { HEIGHT / 2.0 }))
        .collect();
    let line = match points.as_slice() {
        [] => None,
        [(x, y)] => Some(path_of(&[(0.0, *y), (*x * 2.0, *y)])),
        _ => Some(path_of(&points)),
    };
    view! {
        <svg role="img" aria-label=label viewBox=format!("0 0 {WIDTH} {HEIGHT}") preserveAspectRatio="none" class="h-6 w-24 overflow-visible">
            {line.map(|d| view! { <path d=d fill="none" class="stroke-indigo-600 dark:stroke-indigo-400" stroke-width="1.5" vector-effect="non-scaling-stroke" /> })}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_ends_on_a_round_number_at_or_above_the_largest_value() {
        assert_eq!(scale_top(0.0), 1.0);
        assert_eq!(scale_top(3.0), 5.0);
        assert_eq!(scale_top(5.0), 5.0);
        assert_eq!(scale_top(56.0), 100.0);
        assert_eq!(scale_top(1000.0), 1000.0);
        assert_eq!(scale_top(1500.0), 2000.0);
    }

    #[test]
    fn gaps_break_a_line_unless_it_is_joined_and_a_lone_point_is_a_stretch_of_its_own() {
        let values = [Some(1.0), Some(2.0), None, Some(2.0), None, None];
        let broken = stretches(&values, 2.0, false);
        assert_eq!(broken.len(), 2);
        assert_eq!(broken[0], vec![(0.0, 50.0), (200.0, 0.0)]);
        assert_eq!(broken[1], vec![(600.0, 0.0)]);
        assert_eq!(stretches(&values, 2.0, true).len(), 1);
        assert_eq!(path_of(&broken[0]), "M0.0,50.0 L200.0,0.0");
    }
}
