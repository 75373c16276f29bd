//! `make bench`: jobs on a real SQLite file.
//!
//! - import 100,000 keys (NDJSON, 20-40 byte names, 200 byte values) into an empty namespace,
//!   beside SQLite itself inserting the same rows into the same schema (Python's sqlite3 module:
//!   one prepared statement, one transaction, the same PRAGMAs), medians of five each
//! - export them, beside a `sqlite3` select of the same rows
//! - the export's peak memory at 100,000 and 1,000,000 keys (a child process each)
//! - bulk copy and bulk delete of 100,000 keys: keys per second
//! - backups (issue 17) at 100,000 and 1,000,000 keys, to a directory and to a real S3 server
//!   (moto, on loopback), each in a child process of its own beside the export of the same
//!   namespace, medians of three: time (goal: within 1.5x of the export) and peak heap at both
//!   sizes (goals at 1,000,000 keys: a backup to a directory within 1.25x of the export's, one to
//!   S3 within the export's plus its part buffers); and a restore of each size into a new
//!   namespace, timed
//!
//! KVM_BENCH_JOB_KEYS (default 100000) and KVM_BENCH_EXPORT_KEYS (default 1000000) change the sizes.

mod common;
#[path = "../tests/common/s3.rs"]
#[allow(dead_code)]
mod s3;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Lcg;
use domain::jobs::{Collision, ExportFormat, ImportFormat, JobSpec, JobStatus, Jobs, JobsConfig, Selection};
use domain::{Actor, Database, Kv, PutKey, Source};

fn actor() -> Actor {
    Actor::local(Source::Cli)
}

fn engine(db: &Database, dir: &Path) -> Jobs {
    Jobs::new(
        Kv::sql(db.clone()),
        db.conn.clone(),
        JobsConfig { max_jobs: 2, data_dir: dir.to_owned(), export_ttl_hours: 1, instance_id: "bench".into() },
    )
}

async fn run(jobs: &Jobs, spec: JobSpec) -> Duration {
    let t = Instant::now();
    let job = jobs.start(&actor(), spec).await.expect("start");
    let done = jobs.wait(&job.id).await.expect("wait");
    assert_eq!(done.status, JobStatus::Completed, "{done:?}");
    t.elapsed()
}

/// Key names of 20 to 40 bytes and 200-byte values, the same on every run.
fn rows(n: usize) -> Vec<(String, String)> {
    let mut rng = Lcg(7);
    (0..n)
        .map(|i| {
            let name = format!("user:{i:08}:");
            let pad = 20 + (rng.next() % 21) as usize - name.len();
            let name = format!("{name}{}", "s".repeat(pad));
            let value: String = (0..200).map(|j| (b'a' + ((i + j) % 26) as u8) as char).collect();
            (name, value)
        })
        .collect()
}

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).map(|l| l.to_owned()))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// SQLite itself inserting the rows into `namespace_id`: Python's `sqlite3` module (C code over
/// the library) with our PRAGMAs, one prepared INSERT stepped through every row
/// (`executemany`) in one transaction, timed from BEGIN to COMMIT inside the process, after the
/// rows are read from `ndjson` into memory.
fn raw_insert(db: &Path, namespace_id: &str, ndjson: &Path) -> Duration {
    const SCRIPT: &str = r#"
import json, sqlite3, sys, time
db, ns, path = sys.argv[1:4]
with open(path, encoding="utf-8") as f:
    rows = []
    for line in f:
        item = json.loads(line)
        value = item["value"].encode()
        rows.append((ns, item["name"], len(value), value))
con = sqlite3.connect(db, isolation_level=None)
for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000", "foreign_keys=ON",
               "cache_size=-65536", "mmap_size=268435456", "temp_store=MEMORY"):
    con.execute("PRAGMA " + pragma)
start = time.perf_counter()
con.execute("BEGIN")
con.executemany("INSERT INTO kv_entries (namespace_id, name, metadata, expiration, size, created_at, updated_at, value) "
                "VALUES (?, ?, NULL, NULL, ?, 0, 0, ?)", rows)
con.execute("COMMIT")
print(time.perf_counter() - start)
"#;
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .arg(db)
        .arg(namespace_id)
        .arg(ndjson)
        .output()
        .expect("python3 (for the SQLite baseline)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let secs: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().expect("seconds");
    Duration::from_secs_f64(secs)
}

fn timed_sqlite3(db: &Path, input: Option<&Path>, sql: Option<&str>) -> Duration {
    let mut cmd = Command::new("sqlite3");
    cmd.arg(db);
    if let Some(sql) = sql {
        cmd.arg(sql);
    }
    cmd.stdout(Stdio::null());
    if let Some(input) = input {
        cmd.stdin(std::fs::File::open(input).expect("script"));
    }
    let t = Instant::now();
    let status = cmd.status().expect("sqlite3 (apt install sqlite3)");
    assert!(status.success());
    t.elapsed()
}

/// What a child process runs, timed, with its heap watched.
#[derive(Clone, Copy, PartialEq)]
enum Measured {
    Export,
    /// A backup to `<dir>/backups`.
    BackupDir,
    /// A backup to the S3 server listening on the port, with the key and secret given.
    BackupS3,
}

impl Measured {
    fn name(self) -> &'static str {
        match self {
            Self::Export => "export",
            Self::BackupDir => "backup to a directory",
            Self::BackupS3 => "backup to S3",
        }
    }
}

/// Child mode: run one job on one namespace and print the process's heap (anonymous memory)
/// before and at its peak during the job, sampled every 2 ms, and the job's seconds. Pages of
/// the database file mapped by SQLite count in RSS but not here: the kernel can drop them.
async fn child(url: &str, ns: &str, dir: &Path, what: &str, s3: Option<(u16, String, String)>) {
    let db = Database::connect(url).await.expect("database");
    let jobs = engine(&db, dir);
    jobs.set_backup_store(std::sync::Arc::new(domain::jobs::LocalDir::new(dir.join("backups"))));
    if let Some((port, access_key, secret_key)) = s3 {
        let options = domain::jobs::s3::S3Options {
            config: vec![
                ("aws_endpoint".into(), format!("http://127.0.0.1:{port}")),
                ("aws_allow_http".into(), "true".into()),
                ("aws_region".into(), "us-east-1".into()),
                ("aws_access_key_id".into(), access_key),
                ("aws_secret_access_key".into(), secret_key),
            ],
            ..Default::default()
        };
        let url = format!("s3://{}/bench", s3::BUCKET);
        let store = domain::jobs::s3::S3Store::connect(&url, options).expect("S3 target");
        jobs.add_backup_target("s3", std::sync::Arc::new(store));
    }
    let spec = match what {
        "export" => JobSpec::Export { namespace_id: ns.to_owned(), format: ExportFormat::Ndjson, prefix: None },
        "backup-dir" => JobSpec::Backup {
            namespace_id: ns.to_owned(),
            prefix: None,
            target: "local".into(),
            plan_id: None,
            batch: Vec::new(),
        },
        _ => JobSpec::Backup {
            namespace_id: ns.to_owned(),
            prefix: None,
            target: "s3".into(),
            plan_id: None,
            batch: Vec::new(),
        },
    };
    let before = status_kb("RssAnon:");
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let (mut peak, mut outside) = (0, 0);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let heap = status_kb("RssAnon:");
                peak = peak.max(heap);
                outside = outside.max(heap.saturating_sub(sqlite_kb()));
                std::thread::sleep(Duration::from_millis(2));
            }
            (peak, outside)
        })
    };
    let took = run(&jobs, spec).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (peak, outside) = sampler.join().unwrap_or((0, 0));
    println!("{before} {peak} {:.3} {outside}", took.as_secs_f64());
}

/// What SQLite's own allocator holds now (its page caches, bounded by `cache_size` per
/// connection), in KiB.
fn sqlite_kb() -> u64 {
    // SAFETY: sqlite3_memory_used takes no arguments and only reads SQLite's counters.
    let bytes = unsafe { libsqlite3_sys::sqlite3_memory_used() };
    u64::try_from(bytes).unwrap_or(0) / 1024
}

async fn seed(kv: &Kv, ns: &str, rows: &[(String, String)]) {
    for chunk in rows.chunks(5000) {
        let puts = chunk
            .iter()
            .map(|(name, value)| PutKey { name: name.clone(), value: value.clone().into_bytes(), ..Default::default() })
            .collect();
        kv.put_many(&actor(), ns, puts).await.expect("seed");
    }
}

/// One child's figures: heap before and at its peak, in KiB, the job's seconds, and the peak of
/// the heap outside SQLite's own allocator (its page caches), in KiB.
#[derive(Clone, Copy, Default)]
struct Figures {
    before: u64,
    peak: u64,
    secs: f64,
    outside_sqlite: u64,
}

/// Runs `what` on `ns` in a child process.
fn measure(url: &str, ns: &str, dir: &Path, what: Measured, server: Option<&s3::S3Server>) -> Figures {
    let kind = match what {
        Measured::Export => "export".to_owned(),
        Measured::BackupDir => "backup-dir".to_owned(),
        Measured::BackupS3 => {
            let server = server.expect("an S3 server");
            format!("backup-s3\n{}\n{}\n{}", server.port, server.access_key, server.secret_key)
        }
    };
    let out = Command::new(std::env::current_exe().expect("exe"))
        .env("KVM_BENCH_CHILD", format!("{url}\n{ns}\n{}\n{kind}", dir.display()))
        .output()
        .expect("child");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split_whitespace();
    let before = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    let peak = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    let secs = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0.0);
    let outside_sqlite = parts.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    Figures { before, peak, secs, outside_sqlite }
}

#[tokio::main]
async fn main() {
    if let Ok(args) = std::env::var("KVM_BENCH_CHILD") {
        let mut parts = args.lines();
        let (url, ns, dir, what) =
            (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
        let s3 = (what == "backup-s3").then(|| {
            let port = parts.next().and_then(|p| p.parse().ok()).expect("port");
            (port, parts.next().unwrap().to_owned(), parts.next().unwrap().to_owned())
        });
        child(url, ns, Path::new(dir), what, s3).await;
        return;
    }
    let n: usize = std::env::var("KVM_BENCH_JOB_KEYS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let big: usize = std::env::var("KVM_BENCH_EXPORT_KEYS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let rows = rows(n);

    // The import, five times each side on fresh database files in the same folder (ext4 here, so
    // every commit's fsync is real), medians compared. Ours: the import job, from an NDJSON file,
    // into an empty namespace. The baseline: SQLite itself inserting the same rows into the same
    // schema (tables, indexes, the name index's triggers, made by our migrations) with our PRAGMAs
    // (WAL, synchronous NORMAL, 64 MiB cache, memory map) and one prepared INSERT stepped through
    // every row in one transaction (raw_insert).
    let mut ndjson = String::with_capacity(n * 260);
    for (name, value) in &rows {
        let _ = writeln!(ndjson, "{}", serde_json::json!({ "name": name, "value": value }));
    }
    // Both sides' files share this folder's file system (tmpfs would make every fsync free).
    let fs = Command::new("stat").args(["-f", "-c", "%T"]).arg(dir.path()).output();
    let fs = fs.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned()).unwrap_or_default();
    println!("[jobs] databases on {} (file system: {fs})", dir.path().display());
    let ndjson_path = dir.path().join("rows.ndjson");
    std::fs::write(&ndjson_path, &ndjson).expect("rows");
    let (mut imports, mut raw_imports) = (Vec::new(), Vec::new());
    let mut ours = None;
    let mut raw = None;
    for round in 0..5 {
        let path = dir.path().join(format!("jobs-{round}.db"));
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = Database::connect(&url).await.expect("database");
        let kv = Kv::sql(db.clone());
        let jobs = engine(&db, dir.path());
        let ns = kv.create_namespace(&actor(), "import").await.expect("namespace").id;
        let (file, upload) = jobs.new_upload().await.expect("upload");
        std::fs::write(&upload, &ndjson).expect("write");
        imports.push(
            run(
                &jobs,
                JobSpec::Import {
                    namespace_id: ns.clone(),
                    file,
                    collision: Collision::Skip,
                    format: ImportFormat::Auto,
                },
            )
            .await,
        );
        ours = Some((url, db, kv, jobs, ns));

        let raw_path = dir.path().join(format!("raw-{round}.db"));
        let raw_db =
            Database::connect(&format!("sqlite://{}?mode=rwc", raw_path.display())).await.expect("raw database");
        let raw_ns = Kv::sql(raw_db.clone()).create_namespace(&actor(), "raw").await.expect("namespace").id;
        raw_db.conn.clone().close().await.ok();
        raw_imports.push(raw_insert(&raw_path, &raw_ns, &ndjson_path));
        raw = Some((raw_path, raw_ns));
    }
    let (url, _db, kv, jobs, ns) = ours.expect("five rounds");
    let (raw_path, raw_ns) = raw.expect("five rounds");
    let (import, raw_import) = (median(imports), median(raw_imports));
    println!(
        "[jobs] import {n} keys (NDJSON), median of 5: {:.2} s ({:.0} keys/s); SQLite inserting the same rows with one prepared INSERT in one transaction, same PRAGMAs, median of 5: {:.2} s; ratio {:.2}x (target <= 1.5x)",
        import.as_secs_f64(),
        n as f64 / import.as_secs_f64(),
        raw_import.as_secs_f64(),
        import.as_secs_f64() / raw_import.as_secs_f64()
    );
    common::goals::record(
        "jobs",
        "import / SQLite prepared INSERTs, same PRAGMAs, medians of 5",
        import.as_secs_f64() / raw_import.as_secs_f64(),
        "x",
        common::goals::Goal::AtMost(1.5),
    );

    // Where an export's time goes: reading the rows (SQLite's C API on a pooled connection), and
    // encoding them.
    {
        let t = Instant::now();
        let namespace = kv.namespace(&actor(), &ns, domain::Need::Read).await.unwrap();
        let mut after: Option<String> = None;
        let mut seen = 0;
        loop {
            let page = namespace.scan("", after.as_deref(), None, 1000, usize::MAX).await.unwrap().keys;
            seen += page.len();
            match page.last() {
                Some(last) if page.len() == 1000 => after = Some(last.name.clone()),
                _ => break,
            }
        }
        println!(
            "[jobs] reading {seen} rows (1000 a page) through the store's scan: {:.3} s",
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        let mut buf = Vec::new();
        let page = namespace.scan("", None, None, 100_000, usize::MAX).await.unwrap().keys;
        println!(
            "[jobs] reading {} rows in one page through the store's scan: {:.3} s",
            page.len(),
            t.elapsed().as_secs_f64()
        );
        let t = Instant::now();
        for key in &page {
            domain::jobs::transfer::write_export_item(&mut buf, key, None).unwrap();
        }
        println!("[jobs] encoding {} rows as export items: {:.3} s", page.len(), t.elapsed().as_secs_f64());
    }
    // Each side five times, medians compared: single runs of ~0.1 s vary by a third here.
    let mut exports = Vec::new();
    let (mut raw_exports, mut raw_plains) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        exports.push(
            run(&jobs, JobSpec::Export { namespace_id: ns.clone(), format: ExportFormat::Ndjson, prefix: None }).await,
        );
        // The same rows, as JSON objects like ours, written by the sqlite3 shell.
        raw_exports.push(timed_sqlite3(
            &raw_path,
            None,
            Some(&format!(
                "SELECT json_object('name', name, 'value', CAST(value AS TEXT), 'metadata', json(metadata), 'expiration', expiration) \
                 FROM kv_entries WHERE namespace_id = '{raw_ns}' ORDER BY name"
            )),
        ));
        raw_plains.push(timed_sqlite3(
            &raw_path,
            None,
            Some(&format!(
                "SELECT name, value, metadata, expiration FROM kv_entries WHERE namespace_id = '{raw_ns}' ORDER BY name"
            )),
        ));
    }
    let (export, raw_export, raw_plain) = (median(exports), median(raw_exports), median(raw_plains));
    println!(
        "[jobs] export {n} keys (NDJSON), median of 5: {:.3} s; sqlite3 selecting the same rows as JSON objects: {:.3} s (ratio {:.2}x, target <= 1.5x); as plain columns: {:.3} s (ratio {:.2}x)",
        export.as_secs_f64(),
        raw_export.as_secs_f64(),
        export.as_secs_f64() / raw_export.as_secs_f64(),
        raw_plain.as_secs_f64(),
        export.as_secs_f64() / raw_plain.as_secs_f64()
    );
    common::goals::record(
        "jobs",
        "export / sqlite3 JSON select, medians of 5",
        export.as_secs_f64() / raw_export.as_secs_f64(),
        "x",
        common::goals::Goal::AtMost(1.5),
    );

    let server = s3::S3Server::start().await;
    let small = side_by_side(&url, &ns, n, dir.path(), &server);
    let big_ns = kv.create_namespace(&actor(), "export-big").await.expect("namespace").id;
    let t = Instant::now();
    let big_rows = self::rows(big);
    seed(&kv, &big_ns, &big_rows).await;
    drop(big_rows);
    println!("[jobs] seeding {big} keys took {:.1} s", t.elapsed().as_secs_f64());
    let large = side_by_side(&url, &big_ns, big, dir.path(), &server);
    // Memory beside the export's at the same size: a backup to a directory holds what the
    // export holds (pages in flight) and a hash; one to S3 also holds its upload's parts (at most
    // two in flight and one filling: 3 x 8 MiB), whatever the size of the namespace.
    let mb = |kb: u64| kb as f64 / 1024.0;
    for (i, what) in [Measured::Export, Measured::BackupDir, Measured::BackupS3].into_iter().enumerate() {
        println!(
            "[jobs] {} peak heap: {:.1} MB at {n} keys, {:.1} MB at {big} keys ({:.1} MB and {:.1} MB outside SQLite's own allocator)",
            what.name(),
            mb(small[i].peak),
            mb(large[i].peak),
            mb(small[i].outside_sqlite),
            mb(large[i].outside_sqlite)
        );
    }
    common::goals::record(
        "jobs",
        &format!("backup to a directory peak heap / export's, {big} keys"),
        mb(large[1].peak) / mb(large[0].peak).max(1.0),
        "x",
        common::goals::Goal::AtMost(1.25),
    );
    let parts = (3 * domain::jobs::s3::DEFAULT_PART_BYTES / (1024 * 1024)) as f64;
    common::goals::record(
        "jobs",
        &format!("backup to S3 peak heap - export's, {big} keys (its part buffers: {parts} MB)"),
        mb(large[2].peak) - mb(large[0].peak),
        "MB",
        common::goals::Goal::AtMost(parts),
    );
    restores(&jobs, dir.path(), &[(n, &ns), (big, &big_ns)]).await;

    let target = kv.create_namespace(&actor(), "copy").await.expect("namespace").id;
    let all = || Selection { keys: None, prefix: Some(String::new()) };
    let copy = run(
        &jobs,
        JobSpec::BulkCopy {
            namespace_id: ns.clone(),
            selection: all(),
            target_namespace_id: target.clone(),
            overwrite: false,
        },
    )
    .await;
    let delete = run(&jobs, JobSpec::BulkDelete { namespace_id: target.clone(), selection: all() }).await;
    println!(
        "[jobs] bulk copy {n} keys: {:.2} s ({:.0} keys/s); bulk delete {n} keys: {:.2} s ({:.0} keys/s)",
        copy.as_secs_f64(),
        n as f64 / copy.as_secs_f64(),
        delete.as_secs_f64(),
        n as f64 / delete.as_secs_f64()
    );
}

/// The export and the two backups of `ns` (`keys` keys), each in a child process of its own,
/// three rounds taken in turn (so that a busy moment of the machine falls on all three alike),
/// medians printed side by side and each backup's time recorded against the export's (goal:
/// within 1.5x). Answers each one's median figures (with the highest peaks), in that order.
fn side_by_side(url: &str, ns: &str, keys: usize, dir: &Path, server: &s3::S3Server) -> Vec<Figures> {
    let all = [Measured::Export, Measured::BackupDir, Measured::BackupS3];
    let mut rounds: Vec<Vec<Figures>> = vec![Vec::new(); all.len()];
    for _ in 0..3 {
        for (i, &what) in all.iter().enumerate() {
            rounds[i].push(measure(url, ns, dir, what, Some(server)));
        }
    }
    let medians: Vec<Figures> = rounds
        .into_iter()
        .map(|mut runs| {
            runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
            let mut figures = runs[runs.len() / 2];
            figures.peak = runs.iter().map(|f| f.peak).max().unwrap_or(0);
            figures.outside_sqlite = runs.iter().map(|f| f.outside_sqlite).max().unwrap_or(0);
            figures
        })
        .collect();
    let export_secs = medians[0].secs;
    for (what, f) in all.iter().zip(&medians) {
        println!(
            "[jobs] {} of {keys} keys, median of 3: {:.2} s ({:.0} keys/s); highest peak heap {:.1} MB, {:.1} MB of it outside SQLite's page caches (before: {:.1} MB)",
            what.name(),
            f.secs,
            keys as f64 / f.secs.max(1e-9),
            f.peak as f64 / 1024.0,
            f.outside_sqlite as f64 / 1024.0,
            f.before as f64 / 1024.0
        );
        if *what != Measured::Export {
            common::goals::record(
                "jobs",
                &format!("{} / export, {keys} keys, medians of 3", what.name()),
                f.secs / export_secs.max(1e-9),
                "x",
                common::goals::Goal::AtMost(1.5),
            );
        }
    }
    medians
}

/// A restore of the latest directory backup of each namespace into a new namespace, timed.
async fn restores(jobs: &Jobs, dir: &Path, namespaces: &[(usize, &String)]) {
    jobs.set_backup_store(std::sync::Arc::new(domain::jobs::LocalDir::new(dir.join("backups"))));
    let listed = jobs.list_backups(&actor(), "local").await.expect("backups");
    for (keys, ns) in namespaces {
        let Some(backup) = listed.iter().find(|b| b.namespace_id.as_deref() == Some(ns.as_str())) else { continue };
        let into = domain::jobs::RestoreInto::NewNamespace(format!("restored-{keys}"));
        let t = Instant::now();
        let job = jobs
            .start_restore(&actor(), &backup.backup_id, &into, None, domain::jobs::RestoreMode::Add, "local")
            .await
            .expect("start the restore");
        let done = jobs.wait(&job.id).await.expect("wait");
        assert_eq!(done.status, JobStatus::Completed, "{done:?}");
        let took = t.elapsed().as_secs_f64();
        println!("[jobs] restore of {keys} keys into a new namespace: {took:.2} s ({:.0} keys/s)", *keys as f64 / took);
    }
}
