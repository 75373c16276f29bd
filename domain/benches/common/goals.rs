//! The goals `make bench` holds the code to: each bench records what it measured against its goal
//! here (one line each in `target/bench-goals.tsv`), and `scripts/bench-goals.sh` prints them as
//! one table at the end of the run and fails it when any goal was missed.

#![allow(dead_code)]

use std::io::Write;

/// Which way a figure must go to meet its goal.
#[derive(Clone, Copy)]
pub enum Goal {
    AtMost(f64),
    AtLeast(f64),
}

/// Where the lines go: `KVM_BENCH_GOALS`, or the workspace's `target/bench-goals.tsv`.
fn path() -> std::path::PathBuf {
    std::env::var_os("KVM_BENCH_GOALS").map(Into::into).unwrap_or_else(|| {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("target").join("bench-goals.tsv")
    })
}

/// Records one figure beside its goal; answers whether it met it.
pub fn record(bench: &str, what: &str, measured: f64, unit: &str, goal: Goal) -> bool {
    let (met, wanted) = match goal {
        Goal::AtMost(limit) => (measured <= limit, format!("<= {limit} {unit}")),
        Goal::AtLeast(floor) => (measured >= floor, format!(">= {floor} {unit}")),
    };
    let verdict = if met { "met" } else { "MISSED" };
    let line = format!("{bench}\t{what}\t{measured:.3} {unit}\t{wanted}\t{verdict}\n");
    print!("[goal] {line}");
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path())
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(err) = written {
        eprintln!("[goal] could not record in {}: {err}", path().display());
    }
    met
}
