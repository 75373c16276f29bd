//! Backups to a local directory and restores from them, on SQLite and (with
//! `KVM_TEST_POSTGRES_URL`) PostgreSQL: the acceptance loop of issue 17 through a backup and a
//! "make equal" restore (the export is byte-identical again), a restore into a new namespace,
//! the add-missing mode, a damaged backup refused before anything is written, a cancelled
//! backup leaving no manifest, and refused inputs.

mod common;

use std::time::Duration;

use common::{Fixture, engine, export, me, namespace, put, run};
use domain::jobs::{Job, JobSpec, JobStatus, Jobs, RestoreInto, RestoreMode};
use domain::{DetailsWrite, Kv, PutKey, now_unix};
use serde_json::json;

both!(
    a_backup_and_an_equal_restore_bring_the_export_back_byte_identical,
    a_restore_into_a_new_namespace_holds_the_backup,
    add_mode_leaves_changed_keys_alone_and_overwrite_leaves_extra_keys,
    a_damaged_backup_is_refused_before_anything_is_written,
    a_cancelled_backup_leaves_no_manifest,
    bad_ids_targets_and_prefixes_are_refused,
    one_job_backs_up_several_namespaces_one_backup_each,
);

/// Backs `ns` up; answers the backup's id.
async fn backup(jobs: &Jobs, ns: &str, prefix: Option<&str>) -> String {
    let spec = JobSpec::Backup {
        namespace_id: ns.to_owned(),
        prefix: prefix.map(str::to_owned),
        target: "local".into(),
        plan_id: None,
        batch: Vec::new(),
    };
    let job = run(jobs, spec).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    job.result.expect("a result")["backup_id"].as_str().expect("backup_id").to_owned()
}

async fn restore(jobs: &Jobs, id: &str, into: RestoreInto, mode: RestoreMode) -> Job {
    let job = jobs.start_restore(&me(), id, &into, None, mode, "local").await.expect("start the restore");
    common::wait(jobs, &job.id).await
}

fn name(i: usize) -> String {
    format!("k{i:05}")
}

/// 400 keys: metadata, expirations, tags and custom metadata on some.
async fn fill(kv: &Kv, ns: &str, expiration: i64) {
    let items: Vec<(PutKey, DetailsWrite)> = (0..400)
        .map(|i| {
            let put = PutKey {
                metadata: (i % 2 == 0).then(|| json!({ "n": i, "kind": "even" })),
                expiration: (i % 5 == 0).then_some(expiration),
                ..put(&name(i), &format!("value {i}"))
            };
            let details = DetailsWrite {
                tags: (i % 3 == 0).then(|| vec!["three".to_owned(), format!("t{}", i % 7)]),
                custom_metadata: (i % 4 == 0).then(|| json!({ "owner": format!("o{i}") })),
            };
            (put, details)
        })
        .collect();
    kv.put_many_with_details(&me(), ns, items).await.unwrap();
}

/// Updates keys 0..100 (value, metadata, expiration or tags), deletes 100..200, creates 100.
async fn change_300(kv: &Kv, ns: &str, expiration: i64) {
    let updates: Vec<(PutKey, DetailsWrite)> = (0..100)
        .map(|i| match i % 4 {
            0 => (put(&name(i), &format!("changed {i}")), DetailsWrite::default()),
            1 => (
                PutKey { metadata: Some(json!({ "changed": true })), ..put(&name(i), &format!("value {i}")) },
                DetailsWrite::default(),
            ),
            2 => (
                PutKey { expiration: Some(expiration + 3600), ..put(&name(i), &format!("value {i}")) },
                DetailsWrite::default(),
            ),
            _ => {
                let put = PutKey {
                    metadata: (i % 2 == 0).then(|| json!({ "n": i, "kind": "even" })),
                    expiration: (i % 5 == 0).then_some(expiration),
                    ..put(&name(i), &format!("value {i}"))
                };
                (put, DetailsWrite { tags: Some(vec!["other".into()]), custom_metadata: Some(json!({ "x": 1 })) })
            }
        })
        .collect();
    kv.put_many_with_details(&me(), ns, updates).await.unwrap();
    let deleted: Vec<String> = (100..200).map(name).collect();
    assert_eq!(kv.delete_many(&me(), ns, &deleted).await.unwrap(), 100);
    let created: Vec<PutKey> = (1000..1100).map(|i| put(&name(i), &format!("new {i}"))).collect();
    kv.put_many(&me(), ns, created).await.unwrap();
}

async fn a_backup_and_an_equal_restore_bring_the_export_back_byte_identical(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "backup-loop").await;
    let expiration = now_unix() + 30 * 86_400;
    fill(&f.kv, &ns, expiration).await;
    let before = export(&jobs, &ns).await;
    assert_eq!(before.iter().filter(|b| **b == b'\n').count(), 400);
    let id = backup(&jobs, &ns, None).await;

    // The manifest and the listing.
    let folder = dir.path().join("backups").join(&id);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(folder.join("manifest.json")).unwrap()).unwrap();
    assert_eq!((manifest["key_count"].as_u64(), manifest["namespace_id"].as_str()), (Some(400), Some(ns.as_str())));
    assert_eq!(manifest["format_version"], json!(1));
    let data = std::fs::read(folder.join("data.ndjson.gz")).unwrap();
    assert_eq!(manifest["bytes"].as_u64(), Some(data.len() as u64));
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&data[..]), &mut text).unwrap();
    assert!(text == before, "the backup's data is the export, compressed");
    let listed = jobs.list_backups(&me(), "local").await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].backup_id.as_str(), listed[0].status.as_str()), (id.as_str(), "complete"));
    assert_eq!(listed[0].key_count, Some(400));

    change_300(&f.kv, &ns, expiration).await;
    let changed = export(&jobs, &ns).await;
    let into = RestoreInto::Namespace(ns.clone());
    let preview = jobs.preview_restore(&me(), &id, &into, None, RestoreMode::Equal, "local").await.unwrap();
    let c = preview.counts;
    assert_eq!(
        (c.created, c.changed, c.deleted, c.unchanged, c.kept, c.expired, c.failed),
        (100, 100, 100, 200, 0, 0, 0),
        "{preview:?}"
    );
    assert_eq!(preview.changed, (0..20).map(name).collect::<Vec<_>>());
    assert_eq!(preview.created, (100..120).map(name).collect::<Vec<_>>(), "deleted since: created again");
    assert_eq!(preview.deleted, (1000..1020).map(name).collect::<Vec<_>>(), "created since: deleted");
    assert!(export(&jobs, &ns).await == changed, "the preview wrote nothing");
    assert_changes(&preview.changes);

    let job = restore(&jobs, &id, into.clone(), RestoreMode::Equal).await;
    assert_eq!((job.status, job.errors), (JobStatus::Completed, 0), "{job:?}");
    assert_eq!((job.processed, job.skipped), (500, 200), "{job:?}");
    let result = job.result.clone().expect("a result");
    assert_eq!(result["counts"]["created"], json!(100));
    assert!(export(&jobs, &ns).await == before, "the export after the restore is byte-identical to the first");
    let info = common::reader(&f.kv, &ns).await.get().await.unwrap();
    assert_eq!(info.key_count, 400, "the counters follow the restore");
    let again = jobs.preview_restore(&me(), &id, &into, None, RestoreMode::Equal, "local").await.unwrap();
    assert_eq!(again.counts.unchanged, 400, "{again:?}");

    // Through the write path: versions and audit.
    let (versions, _) = common::reader(&f.kv, &ns).await.list_key_versions_page(&name(1000), None, None).await.unwrap();
    assert_eq!(versions.first().map(|v| v.operation.as_str()), Some("delete"));
    let audit = domain::audit::Audit::new(f.db.conn.clone());
    let query = domain::audit::AuditQuery { namespace_ids: vec![ns.clone()], limit: Some(1000), ..Default::default() };
    let entries = audit.list(&query).await.unwrap().entries;
    assert!(entries.iter().any(|e| e.operation == "job.completed" && e.details["type"] == "restore"));
    assert!(entries.iter().any(|e| e.operation == "job.completed" && e.details["type"] == "backup"));
}

async fn a_restore_into_a_new_namespace_holds_the_backup(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "backup-source").await;
    fill(&f.kv, &ns, now_unix() + 86_400).await;
    let before = export(&jobs, &ns).await;
    let id = backup(&jobs, &ns, None).await;
    let into = RestoreInto::NewNamespace("backup-copy".into());
    let preview = jobs.preview_restore(&me(), &id, &into, None, RestoreMode::Add, "local").await.unwrap();
    assert_eq!((preview.counts.created, preview.namespace_id.as_deref()), (400, None), "{preview:?}");
    let job = restore(&jobs, &id, into, RestoreMode::Add).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_ne!(job.namespace_id, ns);
    assert!(export(&jobs, &job.namespace_id).await == before, "the new namespace holds the backup");
    // A prefix of the backup only.
    let into = RestoreInto::NewNamespace("backup-part".into());
    let job = jobs.start_restore(&me(), &id, &into, Some("k0001".into()), RestoreMode::Add, "local").await.unwrap();
    let job = common::wait(&jobs, &job.id).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    let count = common::reader(&f.kv, &job.namespace_id).await.count_keys("").await.unwrap();
    assert_eq!(count, 10, "k00010..k00019 fall under k0001");
}

async fn add_mode_leaves_changed_keys_alone_and_overwrite_leaves_extra_keys(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "backup-add").await;
    f.kv.put_many(&me(), &ns, vec![put("a", "1"), put("b", "1"), put("c", "1")]).await.unwrap();
    let id = backup(&jobs, &ns, None).await;
    f.kv.put_key(&me(), &ns, put("a", "2")).await.unwrap();
    f.kv.delete_many(&me(), &ns, &["b".to_owned()]).await.unwrap();
    f.kv.put_key(&me(), &ns, put("d", "2")).await.unwrap();
    let into = RestoreInto::Namespace(ns.clone());
    let preview = jobs.preview_restore(&me(), &id, &into, None, RestoreMode::Add, "local").await.unwrap();
    let c = preview.counts;
    assert_eq!((c.created, c.changed, c.deleted, c.unchanged, c.kept), (1, 0, 0, 1, 2), "{preview:?}");
    let job = restore(&jobs, &id, into.clone(), RestoreMode::Add).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(f.kv.get_key(&me(), &ns, "a").await.unwrap().value, b"2", "a changed key is left alone");
    assert_eq!(f.kv.get_key(&me(), &ns, "b").await.unwrap().value, b"1", "a missing key comes back");
    assert_eq!(f.kv.get_key(&me(), &ns, "d").await.unwrap().value, b"2");

    let job = restore(&jobs, &id, into, RestoreMode::Overwrite).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(f.kv.get_key(&me(), &ns, "a").await.unwrap().value, b"1", "overwritten");
    assert_eq!(f.kv.get_key(&me(), &ns, "d").await.unwrap().value, b"2", "a key the backup lacks stays");
}

async fn a_damaged_backup_is_refused_before_anything_is_written(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "backup-damaged").await;
    fill(&f.kv, &ns, now_unix() + 86_400).await;
    let id = backup(&jobs, &ns, None).await;
    f.kv.delete_many(&me(), &ns, &(0..10).map(name).collect::<Vec<_>>()).await.unwrap();
    let changed = export(&jobs, &ns).await;
    let path = dir.path().join("backups").join(&id).join("data.ndjson.gz");
    let mut data = std::fs::read(&path).unwrap();
    let middle = data.len() / 2;
    data[middle] ^= 0x01;
    std::fs::write(&path, &data).unwrap();
    let into = RestoreInto::Namespace(ns.clone());
    let refused = jobs.preview_restore(&me(), &id, &into, None, RestoreMode::Equal, "local").await;
    common::assert_err_status(refused, "invalid_input", 400, "backup_id");
    let refused = jobs.start_restore(&me(), &id, &into, None, RestoreMode::Equal, "local").await;
    common::assert_err_status(refused, "invalid_input", 400, "backup_id");
    let new = RestoreInto::NewNamespace("never-made".into());
    let refused = jobs.start_restore(&me(), &id, &new, None, RestoreMode::Equal, "local").await;
    common::assert_err_status(refused, "invalid_input", 400, "backup_id");
    let titles = f.kv.list_namespaces(&me(), Default::default()).await.unwrap();
    assert!(titles.namespaces.iter().all(|n| n.title != "never-made"), "no namespace is made for a damaged backup");
    assert!(export(&jobs, &ns).await == changed, "nothing was written");
}

async fn a_cancelled_backup_leaves_no_manifest(f: &Fixture) {
    const KEYS: usize = 30_000;
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "backup-cancel").await;
    let names: Vec<String> = (0..KEYS).map(name).collect();
    let value = "v".repeat(200);
    for chunk in names.chunks(1000) {
        f.kv.put_many(&me(), &ns, chunk.iter().map(|n| put(n, &value)).collect()).await.unwrap();
    }
    let spec = JobSpec::Backup {
        namespace_id: ns.clone(),
        prefix: None,
        target: "local".into(),
        plan_id: None,
        batch: Vec::new(),
    };
    let job = jobs.start(&me(), spec).await.unwrap();
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
    assert!(done.processed < KEYS as u64, "{done:?}");
    let root = dir.path().join("backups");
    let left: Vec<_> = walk(&root);
    assert!(left.iter().all(|p| !p.ends_with("manifest.json") && !p.ends_with("data.ndjson.gz")), "{left:?}");
    assert!(jobs.list_backups(&me(), "local").await.unwrap().is_empty());
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    entries.flatten().flat_map(|e| if e.path().is_dir() { walk(&e.path()) } else { vec![e.path()] }).collect()
}

async fn bad_ids_targets_and_prefixes_are_refused(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "backup-refused").await;
    f.kv.put_many(&me(), &ns, vec![put("a:1", "1"), put("b:1", "1")]).await.unwrap();
    let id = backup(&jobs, &ns, Some("a:")).await;
    let into = RestoreInto::Namespace(ns.clone());
    for bad in ["../etc", "", "a/b", ".hidden", "x\0y"] {
        let refused = jobs.preview_restore(&me(), bad, &into, None, RestoreMode::Add, "local").await;
        common::assert_err_status(refused, "invalid_input", 400, "backup_id");
    }
    let missing = jobs.preview_restore(&me(), "no-such-backup", &into, None, RestoreMode::Add, "local").await;
    assert_eq!(missing.unwrap_err().status(), 404);
    let refused = jobs.preview_restore(&me(), &id, &into, None, RestoreMode::Add, "s3").await;
    common::assert_err_status(refused, "invalid_input", 400, "target");
    let spec = JobSpec::Backup {
        namespace_id: ns.clone(),
        prefix: None,
        target: "elsewhere".into(),
        plan_id: None,
        batch: Vec::new(),
    };
    common::assert_err_status(jobs.start(&me(), spec).await, "invalid_input", 400, "target");
    // A prefix outside the backup's.
    let refused = jobs.preview_restore(&me(), &id, &into, Some("b:"), RestoreMode::Add, "local").await;
    common::assert_err_status(refused, "invalid_input", 400, "prefix");
    common::assert_err(RestoreMode::parse("merge"), "invalid_input", "mode");
    // A backup of a prefix made equal touches that prefix only.
    f.kv.put_key(&me(), &ns, put("a:2", "2")).await.unwrap();
    let job = restore(&jobs, &id, into, RestoreMode::Equal).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert!(f.kv.get_key(&me(), &ns, "a:2").await.is_err());
    assert_eq!(f.kv.get_key(&me(), &ns, "b:1").await.unwrap().value, b"1");
}

async fn one_job_backs_up_several_namespaces_one_backup_each(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let (a, b, c) = (namespace(f, "batch-a").await, namespace(f, "batch-b").await, namespace(f, "batch-c").await);
    f.kv.put_many(&me(), &a, (0..3).map(|i| put(&name(i), "a")).collect()).await.unwrap();
    f.kv.put_many(&me(), &b, (0..5).map(|i| put(&name(i), "b")).collect()).await.unwrap();
    let spec = |first: &str, batch: Vec<String>| JobSpec::Backup {
        namespace_id: first.to_owned(),
        prefix: None,
        target: "local".into(),
        plan_id: None,
        batch,
    };
    let job = run(&jobs, spec(&a, vec![b.clone(), c.clone()])).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!((job.total, job.processed), (8, 8), "every namespace's keys count toward the progress");
    let result = job.result.expect("a result");
    let backups = result["backups"].as_array().expect("a batch lists its backups");
    let made: Vec<(&str, u64)> =
        backups.iter().map(|b| (b["namespace_id"].as_str().unwrap(), b["key_count"].as_u64().unwrap())).collect();
    assert_eq!(made, [(a.as_str(), 3), (b.as_str(), 5), (c.as_str(), 0)]);
    assert_eq!(jobs.list_backups(&me(), "local").await.unwrap().len(), 3);
    // Each is a backup of its own: b's restores into a new namespace whole.
    let id = backups[1]["backup_id"].as_str().unwrap();
    let job = restore(&jobs, id, RestoreInto::NewNamespace("from-batch".into()), RestoreMode::Add).await;
    let into = job.namespace_id.clone();
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert!(export(&jobs, &into).await == export(&jobs, &b).await);

    // Refused before anything starts, naming the field.
    let twice = spec(&a, vec![b.clone(), a.clone()]);
    common::assert_err_status(jobs.start(&me(), twice).await, "invalid_input", 400, "namespace_ids");
    let many = spec(&a, (0..100).map(|i| format!("{i:032x}")).collect());
    common::assert_err_status(jobs.start(&me(), many).await, "invalid_input", 400, "namespace_ids");
    let malformed = spec(&a, vec!["nope".into()]);
    common::assert_err_status(jobs.start(&me(), malformed).await, "invalid_input", 400, "namespace_ids");
    let missing = spec(&a, vec![format!("{:032x}", 7)]);
    assert_eq!(jobs.start(&me(), missing).await.unwrap_err().status(), 404);
    assert_eq!(jobs.list_backups(&me(), "local").await.unwrap().len(), 3, "nothing more was written");
}

/// The preview's comparisons of the first ten changed keys (see `change_300`): every fourth one
/// changed in value, the next in metadata, the next in expiration, the next in tags and custom
/// metadata; a write without metadata or expiration also drops the ones `fill` gave.
fn assert_changes(changes: &[domain::ValueChange]) {
    let names: Vec<String> = changes.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, (0..10).map(name).collect::<Vec<_>>());
    for (i, change) in changes.iter().enumerate() {
        let now = if i % 4 == 0 { format!("changed {i}") } else { format!("value {i}") };
        assert_eq!(change.before.as_deref(), Some(now.as_str()), "{change:?}");
        assert_eq!(change.after, Some(format!("value {i}")), "{change:?}");
        assert_eq!(change.value_differs, i % 4 == 0, "{change:?}");
        let (had_metadata, had_expiration) = (i % 2 == 0, i % 5 == 0);
        let also: Vec<&str> = match i % 4 {
            0 => [(had_metadata, "metadata"), (had_expiration, "expiration")]
                .iter()
                .filter(|p| p.0)
                .map(|p| p.1)
                .collect(),
            1 => [(true, "metadata"), (had_expiration, "expiration")].iter().filter(|p| p.0).map(|p| p.1).collect(),
            2 => [(had_metadata, "metadata"), (true, "expiration")].iter().filter(|p| p.0).map(|p| p.1).collect(),
            _ => vec!["tags", "custom_metadata"],
        };
        assert_eq!(change.also, also, "{change:?}");
        assert_eq!((change.before_bytes, change.after_bytes, change.cut), (now.len() as u64, 7, false));
    }
}
