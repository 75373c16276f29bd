//! Rewinding a namespace to a moment, on SQLite and (with `KVM_TEST_POSTGRES_URL`) PostgreSQL:
//! the preview, the job, keys whose history was pruned, refusals, cancel, and the acceptance
//! loop of issue 17 (export, change 300 keys, rewind: the export is byte-identical again).

mod common;

use std::time::Duration;

use common::{Fixture, engine, export, me, namespace, put, run};
use domain::jobs::{JobSpec, JobStatus};
use domain::{Actor, Kv, PutKey, Role, Source, VersionRetention, now_unix};
use serde_json::json;

both!(
    a_rewind_undoes_updates_deletes_and_creates_and_the_export_is_byte_identical,
    a_key_whose_history_before_the_moment_was_pruned_is_incomplete_and_left_alone,
    a_moment_in_the_future_and_a_read_only_user_are_refused,
    a_rewind_within_a_prefix_leaves_other_keys_alone,
    cancel_stops_a_rewind_between_batches,
);

/// The moment now, once the clock has passed it: every write after this returns is stamped later.
async fn moment() -> i64 {
    let at = now_unix();
    while now_unix() <= at {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    at
}

fn name(i: usize) -> String {
    format!("k{i:05}")
}

/// 400 keys: some with metadata, some with an expiration.
async fn fill(kv: &Kv, ns: &str, expiration: i64) {
    let puts: Vec<PutKey> = (0..400)
        .map(|i| PutKey {
            metadata: (i % 2 == 0).then(|| json!({ "n": i, "kind": "even" })),
            expiration: (i % 5 == 0).then_some(expiration),
            ..put(&name(i), &format!("value {i}"))
        })
        .collect();
    kv.put_many(&me(), ns, puts).await.unwrap();
}

/// Updates keys 0..100 (value, metadata or expiration), deletes 100..200, creates 100 new ones.
async fn change_300(kv: &Kv, ns: &str, expiration: i64) {
    let updates: Vec<PutKey> = (0..100)
        .map(|i| match i % 3 {
            0 => PutKey {
                metadata: (i % 2 == 0).then(|| json!({ "n": i, "kind": "even" })),
                expiration: (i % 5 == 0).then_some(expiration),
                ..put(&name(i), &format!("changed {i}"))
            },
            1 => PutKey {
                metadata: Some(json!({ "changed": true })),
                expiration: (i % 5 == 0).then_some(expiration),
                ..put(&name(i), &format!("value {i}"))
            },
            _ => PutKey {
                metadata: (i % 2 == 0).then(|| json!({ "n": i, "kind": "even" })),
                expiration: Some(expiration + 3600),
                ..put(&name(i), &format!("value {i}"))
            },
        })
        .collect();
    kv.put_many(&me(), ns, updates).await.unwrap();
    let deleted: Vec<String> = (100..200).map(name).collect();
    assert_eq!(kv.delete_many(&me(), ns, &deleted).await.unwrap(), 100);
    let created: Vec<PutKey> = (1000..1100).map(|i| put(&name(i), &format!("new {i}"))).collect();
    kv.put_many(&me(), ns, created).await.unwrap();
}

async fn a_rewind_undoes_updates_deletes_and_creates_and_the_export_is_byte_identical(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "rewind-loop").await;
    let expiration = now_unix() + 30 * 86_400;
    fill(&f.kv, &ns, expiration).await;
    let before = export(&jobs, &ns).await;
    assert_eq!(before.iter().filter(|b| **b == b'\n').count(), 400);
    let at = moment().await;
    change_300(&f.kv, &ns, expiration).await;
    let changed = export(&jobs, &ns).await;
    assert_ne!(changed, before);

    let preview = jobs.preview_rewind(&me(), &ns, None, at).await.unwrap();
    let counts = &preview.counts;
    assert_eq!(
        (counts.created, counts.changed, counts.deleted, counts.unchanged, counts.incomplete),
        (100, 100, 100, 200, 0),
        "{preview:?}"
    );
    assert!(preview.complete);
    assert_eq!(preview.changed, (0..20).map(name).collect::<Vec<_>>());
    assert_eq!(preview.created, (100..120).map(name).collect::<Vec<_>>(), "deleted after the moment: created again");
    assert_eq!(preview.deleted, (1000..1020).map(name).collect::<Vec<_>>(), "created after the moment: deleted");
    assert!(preview.incomplete.is_empty());
    assert_changes(&preview.changes);
    // The preview wrote nothing.
    assert_eq!(export(&jobs, &ns).await, changed);

    let after_changes = moment().await;
    let spec = JobSpec::Rewind { namespace_id: ns.clone(), prefix: None, at };
    let job = run(&jobs, spec).await;
    assert_eq!((job.status, job.errors), (JobStatus::Completed, 0), "{job:?}");
    assert_eq!((job.total, job.processed, job.skipped), (500, 500, 200), "{job:?}");
    let result = job.result.clone().expect("a result");
    assert_eq!(
        result["counts"],
        json!({ "created": 100, "changed": 100, "deleted": 100, "unchanged": 200, "incomplete": 0 })
    );
    assert_eq!(result["complete"], json!(true));
    assert!(export(&jobs, &ns).await == before, "the export after the rewind is byte-identical to the first");
    let info = common::reader(&f.kv, &ns).await.get().await.unwrap();
    assert_eq!(info.key_count, 400, "the counters follow the rewind");

    // Nothing is left to rewind to that moment.
    let again = jobs.preview_rewind(&me(), &ns, None, at).await.unwrap();
    assert_eq!(again.counts.unchanged, 400, "{again:?}");
    assert_eq!(again.counts.created + again.counts.changed + again.counts.deleted + again.counts.incomplete, 0);

    // The rewind went through the write path: versions, audit. A rewind undoes it.
    let (versions, _) = common::reader(&f.kv, &ns).await.list_key_versions_page(&name(1000), None, None).await.unwrap();
    assert_eq!(versions.first().map(|v| v.operation.as_str()), Some("delete"));
    let undo = jobs.preview_rewind(&me(), &ns, None, after_changes).await.unwrap();
    assert_eq!((undo.counts.created, undo.counts.changed, undo.counts.deleted), (100, 100, 100), "{undo:?}");
    let job = run(&jobs, JobSpec::Rewind { namespace_id: ns.clone(), prefix: None, at: after_changes }).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert!(export(&jobs, &ns).await == changed, "rewinding to before the rewind undoes it");

    let audit = domain::audit::Audit::new(f.db.conn.clone());
    let query = domain::audit::AuditQuery { namespace_ids: vec![ns.clone()], limit: Some(1000), ..Default::default() };
    let entries = audit.list(&query).await.unwrap().entries;
    let rewinds = entries.iter().filter(|e| e.source == "job" && e.operation.starts_with("keys.")).count();
    assert!(rewinds >= 4, "one audit row per batch's deletes and writes, per rewind: {rewinds}");
    assert!(entries.iter().any(|e| e.operation == "job.completed" && e.details["type"] == "rewind"));
}

async fn a_key_whose_history_before_the_moment_was_pruned_is_incomplete_and_left_alone(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "rewind-pruned").await;
    f.kv.put_many(&me(), &ns, vec![put("pruned", "one"), put("kept", "one"), put("same", "one")]).await.unwrap();
    let at = moment().await;
    f.kv.put_key(&me(), &ns, put("pruned", "two")).await.unwrap();
    f.kv.put_key(&me(), &ns, put("pruned", "three")).await.unwrap();
    f.kv.put_key(&me(), &ns, put("kept", "two")).await.unwrap();
    moment().await;
    // Keep one version per key: "pruned" loses the one that held its state at the moment.
    f.kv.prune_versions(VersionRetention { keep: 1, keep_days: 0 }).await.unwrap();

    let preview = jobs.preview_rewind(&me(), &ns, None, at).await.unwrap();
    assert_eq!((preview.counts.changed, preview.counts.unchanged, preview.counts.incomplete), (1, 1, 1), "{preview:?}");
    assert_eq!(preview.incomplete, vec!["pruned".to_owned()]);
    assert_eq!(preview.changed, vec!["kept".to_owned()]);
    assert!(!preview.complete);

    let job = run(&jobs, JobSpec::Rewind { namespace_id: ns.clone(), prefix: None, at }).await;
    assert_eq!((job.status, job.errors), (JobStatus::Completed, 1), "{job:?}");
    assert_eq!(job.failures.len(), 1);
    assert_eq!(job.failures[0].key, "pruned");
    assert!(job.failures[0].reason.contains("left as it is"), "{:?}", job.failures);
    assert_eq!(job.result.as_ref().unwrap()["complete"], json!(false));
    assert_eq!(f.kv.get_key(&me(), &ns, "pruned").await.unwrap().value, b"three", "left alone");
    assert_eq!(f.kv.get_key(&me(), &ns, "kept").await.unwrap().value, b"one", "rewound");
}

async fn a_moment_in_the_future_and_a_read_only_user_are_refused(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "rewind-refused").await;
    f.kv.put_key(&me(), &ns, put("a", "1")).await.unwrap();
    let future = now_unix() + 3600;
    common::assert_err_status(jobs.preview_rewind(&me(), &ns, None, future).await, "invalid_input", 400, "at");
    let spec = JobSpec::Rewind { namespace_id: ns.clone(), prefix: None, at: future };
    common::assert_err_status(jobs.start(&me(), spec).await, "invalid_input", 400, "at");
    let long = "p".repeat(513);
    common::assert_err(jobs.preview_rewind(&me(), &ns, Some(&long), now_unix()).await, "invalid_input", "prefix");

    let reader = Actor::new("reader@example.com", Source::Console, Role::ReadOnly);
    let refused = jobs.preview_rewind(&reader, &ns, None, now_unix()).await.unwrap_err();
    assert_eq!(refused.status(), 403, "{refused}");
    let spec = JobSpec::Rewind { namespace_id: ns.clone(), prefix: None, at: now_unix() };
    assert_eq!(jobs.start(&reader, spec).await.unwrap_err().status(), 403);
    let missing = jobs.preview_rewind(&me(), "0123456789abcdef0123456789abcdef", None, now_unix()).await.unwrap_err();
    assert_eq!(missing.status(), 404, "{missing}");
}

async fn a_rewind_within_a_prefix_leaves_other_keys_alone(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "rewind-prefix").await;
    f.kv.put_many(&me(), &ns, vec![put("a:1", "old"), put("b:1", "old")]).await.unwrap();
    let at = moment().await;
    f.kv.put_many(&me(), &ns, vec![put("a:1", "new"), put("b:1", "new"), put("a:2", "new")]).await.unwrap();
    let preview = jobs.preview_rewind(&me(), &ns, Some("a:"), at).await.unwrap();
    assert_eq!((preview.counts.changed, preview.counts.deleted), (1, 1), "{preview:?}");
    let spec = JobSpec::Rewind { namespace_id: ns.clone(), prefix: Some("a:".into()), at };
    let job = run(&jobs, spec).await;
    assert_eq!((job.status, job.total, job.processed), (JobStatus::Completed, 2, 2), "{job:?}");
    assert_eq!(f.kv.get_key(&me(), &ns, "a:1").await.unwrap().value, b"old");
    assert!(f.kv.get_key(&me(), &ns, "a:2").await.is_err());
    assert_eq!(f.kv.get_key(&me(), &ns, "b:1").await.unwrap().value, b"new");
}

async fn cancel_stops_a_rewind_between_batches(f: &Fixture) {
    const KEYS: usize = 10_000;
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "rewind-cancel").await;
    let names: Vec<String> = (0..KEYS).map(name).collect();
    for chunk in names.chunks(1000) {
        f.kv.put_many(&me(), &ns, chunk.iter().map(|n| put(n, "v")).collect()).await.unwrap();
    }
    let at = moment().await;
    for chunk in names.chunks(1000) {
        f.kv.delete_many(&me(), &ns, chunk).await.unwrap();
    }
    let job = jobs.start(&me(), JobSpec::Rewind { namespace_id: ns.clone(), prefix: None, at }).await.unwrap();
    let mut rx = loop {
        if let Some(rx) = jobs.subscribe(&job.id) {
            break rx;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    while rx.borrow().processed == 0 {
        rx.changed().await.unwrap();
    }
    jobs.cancel(&me(), &job.id).await.unwrap();
    let done = common::wait(&jobs, &job.id).await;
    assert_eq!(done.status, JobStatus::Cancelled, "{done:?}");
    let back = common::reader(&f.kv, &ns).await.count_keys("").await.unwrap();
    assert!(done.processed > 0 && done.processed < KEYS as u64, "{done:?}");
    assert_eq!(back, done.processed, "what was reported is what was written back");
}

/// The preview's comparisons of the first ten changed keys (see `change_300`): every third one
/// changed in value, the next in metadata, the next in expiration.
fn assert_changes(changes: &[domain::ValueChange]) {
    let names: Vec<String> = changes.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, (0..10).map(name).collect::<Vec<_>>());
    for (i, change) in changes.iter().enumerate() {
        let now = if i % 3 == 0 { format!("changed {i}") } else { format!("value {i}") };
        assert_eq!(change.before.as_deref(), Some(now.as_str()), "{change:?}");
        assert_eq!(change.after, Some(format!("value {i}")), "{change:?}");
        assert_eq!(change.value_differs, i % 3 == 0, "{change:?}");
        let also: &[&str] = match i % 3 {
            0 => &[],
            1 => &["metadata"],
            _ => &["expiration"],
        };
        assert_eq!(change.also, also, "{change:?}");
        assert_eq!((change.before_bytes, change.after_bytes, change.cut), (now.len() as u64, 7, false));
    }
}
