//! Backups to a real S3-compatible server (moto in server mode, signatures checked; see
//! `common/s3.rs`), on SQLite and (with `KVM_TEST_POSTGRES_URL`) PostgreSQL: backup, listing
//! and an equal restore that brings the export back byte-identical; a backup larger than one
//! part goes up as a multipart upload and restores whole; wrong credentials fail the job with
//! the service's reason and write nothing; the server going away mid-upload fails the job with
//! the reason and leaves neither data nor manifest; deleting a backup's objects; a plan's
//! retention pruning its own old backups from the bucket.

mod common;

use std::sync::atomic::Ordering;

use common::s3::{Cut, S3Server};
use common::{Fixture, engine, export, me, namespace, put, run};
use domain::jobs::s3::{MIN_PART_BYTES, S3_TARGET, S3Options};
use domain::jobs::{BackupStore, JobSpec, JobStatus, RestoreInto, RestoreMode};
use domain::{PutKey, now_unix};
use object_store::ObjectStoreExt;
use serde_json::json;

both!(
    a_backup_to_s3_and_an_equal_restore_bring_the_export_back,
    a_backup_larger_than_a_part_is_a_multipart_upload,
    wrong_credentials_fail_the_backup_and_write_nothing,
    the_server_going_away_mid_backup_fails_the_job_and_leaves_no_backup,
    a_plans_retention_prunes_its_old_backups_from_the_bucket,
);

fn backup_spec(ns: &str) -> JobSpec {
    JobSpec::Backup {
        namespace_id: ns.to_owned(),
        prefix: None,
        target: S3_TARGET.into(),
        plan_id: None,
        batch: Vec::new(),
    }
}

/// A store reading the bucket directly, to see what a job left there.
fn raw(server: &S3Server) -> object_store::aws::AmazonS3 {
    let mut builder = object_store::aws::AmazonS3Builder::new().with_bucket_name(common::s3::BUCKET);
    for (key, value) in server.options().config {
        builder = builder.with_config(key.parse().unwrap(), value);
    }
    builder.build().unwrap()
}

async fn objects(server: &S3Server, prefix: &str) -> Vec<(String, u64)> {
    use futures_util::TryStreamExt;
    let listed: Vec<_> =
        object_store::ObjectStore::list(&raw(server), Some(&prefix.into())).try_collect().await.unwrap();
    listed.into_iter().map(|o| (o.location.to_string(), o.size)).collect()
}

fn name(i: usize) -> String {
    format!("k{i:05}")
}

async fn a_backup_to_s3_and_an_equal_restore_bring_the_export_back(f: &Fixture) {
    let server = S3Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    jobs.add_backup_target(S3_TARGET, server.store("team/loop", server.options()));
    let ns = namespace(f, "s3-loop").await;
    let expiration = now_unix() + 86_400;
    let items: Vec<PutKey> = (0..300)
        .map(|i| PutKey {
            metadata: (i % 2 == 0).then(|| json!({ "n": i })),
            expiration: (i % 5 == 0).then_some(expiration),
            ..put(&name(i), &format!("value {i}"))
        })
        .collect();
    f.kv.put_many(&me(), &ns, items).await.unwrap();
    let before = export(&jobs, &ns).await;

    let job = run(&jobs, backup_spec(&ns)).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    let result = job.result.expect("a result");
    let id = result["backup_id"].as_str().unwrap().to_owned();
    assert_eq!(result["location"], json!(format!("s3://{}/team/loop", common::s3::BUCKET)));
    let stored = objects(&server, "team/loop").await;
    let names: Vec<&str> = stored.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, [format!("team/loop/{id}/data.ndjson.gz"), format!("team/loop/{id}/manifest.json")]);
    let listed = jobs.list_backups(&me(), S3_TARGET).await.unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].status.as_str(), listed[0].key_count), ("complete", Some(300)));
    assert_eq!(listed[0].bytes, stored.iter().map(|(_, size)| size).sum::<u64>());

    // Change 100 keys, delete 50, create 50; the equal restore undoes all of it.
    let changed: Vec<PutKey> = (0..100).map(|i| put(&name(i), "changed")).collect();
    f.kv.put_many(&me(), &ns, changed).await.unwrap();
    f.kv.delete_many(&me(), &ns, &(100..150).map(name).collect::<Vec<_>>()).await.unwrap();
    f.kv.put_many(&me(), &ns, (500..550).map(|i| put(&name(i), "new")).collect()).await.unwrap();
    let into = RestoreInto::Namespace(ns.clone());
    let preview = jobs.preview_restore(&me(), &id, &into, None, RestoreMode::Equal, S3_TARGET).await.unwrap();
    let c = preview.counts;
    assert_eq!((c.created, c.changed, c.deleted, c.unchanged), (50, 100, 50, 150), "{preview:?}");
    let job = jobs.start_restore(&me(), &id, &into, None, RestoreMode::Equal, S3_TARGET).await.unwrap();
    let job = common::wait(&jobs, &job.id).await;
    assert_eq!((job.status, job.errors), (JobStatus::Completed, 0), "{job:?}");
    assert!(export(&jobs, &ns).await == before, "the export after the restore is byte-identical to the first");

    // Deleting a backup's objects removes them from the bucket and the listing.
    let store = server.store("team/loop", server.options());
    for (name, _) in store.list().await.unwrap() {
        store.delete(&name).await.unwrap();
    }
    assert!(objects(&server, "team/loop").await.is_empty());
    assert!(jobs.list_backups(&me(), S3_TARGET).await.unwrap().is_empty());
}

/// Values of hex digits from a fixed pseudo-random sequence: they compress to about half.
fn noise(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            char::from_digit((x % 16) as u32, 16).unwrap()
        })
        .collect()
}

async fn a_backup_larger_than_a_part_is_a_multipart_upload(f: &Fixture) {
    const KEYS: usize = 200;
    const VALUE: usize = 64 * 1024;
    let server = S3Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let options = S3Options { part_bytes: MIN_PART_BYTES, ..server.options() };
    jobs.add_backup_target(S3_TARGET, server.store("big", options));
    let ns = namespace(f, "s3-big").await;
    for chunk in (0..KEYS).collect::<Vec<_>>().chunks(20) {
        let items = chunk.iter().map(|&i| put(&name(i), &noise(i as u64, VALUE))).collect();
        f.kv.put_many(&me(), &ns, items).await.unwrap();
    }
    let before = export(&jobs, &ns).await;
    let job = run(&jobs, backup_spec(&ns)).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    let result = job.result.expect("a result");
    let id = result["backup_id"].as_str().unwrap().to_owned();
    let bytes = result["bytes"].as_u64().unwrap();
    assert!(bytes > MIN_PART_BYTES as u64, "the data ({bytes} bytes) is larger than one part");
    let head = raw(&server).head(&format!("big/{id}/data.ndjson.gz").into()).await.unwrap();
    assert_eq!(head.size, bytes);
    let etag = head.e_tag.unwrap_or_default();
    assert!(etag.trim_matches('"').ends_with("-2"), "a multipart object of two parts has the ETag {etag}");

    let into = RestoreInto::NewNamespace("s3-big-copy".into());
    let job = jobs.start_restore(&me(), &id, &into, None, RestoreMode::Add, S3_TARGET).await.unwrap();
    let job = common::wait(&jobs, &job.id).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert!(export(&jobs, &job.namespace_id).await == before, "the restored copy equals the source");
}

async fn wrong_credentials_fail_the_backup_and_write_nothing(f: &Fixture) {
    let server = S3Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    jobs.add_backup_target(S3_TARGET, server.store("denied", server.options_via(server.port, "not-the-secret")));
    let ns = namespace(f, "s3-denied").await;
    f.kv.put_many(&me(), &ns, (0..50).map(|i| put(&name(i), "v")).collect()).await.unwrap();
    let job = run(&jobs, backup_spec(&ns)).await;
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    let error = job.error_message.unwrap_or_default();
    assert!(error.contains("s3://kvm-backups/denied"), "the error names the target: {error}");
    assert!(error.contains("403") || error.contains("SignatureDoesNotMatch"), "and the service's reason: {error}");
    assert!(!error.contains("not-the-secret"), "never the secret: {error}");
    assert!(objects(&server, "denied").await.is_empty(), "nothing was written");
    let refused = jobs.list_backups(&me(), S3_TARGET).await.expect_err("listing with wrong credentials");
    assert_eq!((refused.code(), refused.status()), ("upstream", 502), "{refused}");
    assert!(refused.to_string().contains("while listing"), "{refused}");
}

async fn the_server_going_away_mid_backup_fails_the_job_and_leaves_no_backup(f: &Fixture) {
    // About 19 MiB of hex digits: about 10 MiB compressed, cut after 7.
    const KEYS: usize = 300;
    let server = S3Server::start().await;
    let cut = Cut::start(server.port, 7 * 1024 * 1024).await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let options = S3Options { part_bytes: MIN_PART_BYTES, ..server.options_via(cut.port, &server.secret_key) };
    jobs.add_backup_target(S3_TARGET, server.store("away", options));
    let ns = namespace(f, "s3-away").await;
    for chunk in (0..KEYS).collect::<Vec<_>>().chunks(20) {
        let items = chunk.iter().map(|&i| put(&name(i), &noise(i as u64 + 7, 64 * 1024))).collect();
        f.kv.put_many(&me(), &ns, items).await.unwrap();
    }
    let job = run(&jobs, backup_spec(&ns)).await;
    assert!(cut.forwarded.load(Ordering::SeqCst) >= 7 * 1024 * 1024, "the first part went through");
    assert_eq!(job.status, JobStatus::Failed, "{job:?}");
    let error = job.error_message.unwrap_or_default();
    assert!(error.contains("s3://kvm-backups/away"), "the error names the target: {error}");
    assert!(objects(&server, "away").await.is_empty(), "no data and no manifest are visible");
}

async fn a_plans_retention_prunes_its_old_backups_from_the_bucket(f: &Fixture) {
    let server = S3Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    jobs.add_backup_target(S3_TARGET, server.store("plans", server.options()));
    let ns = namespace(f, "s3-plan").await;
    f.kv.put_many(&me(), &ns, (0..20).map(|i| put(&name(i), "v")).collect()).await.unwrap();
    // A backup made by hand is never the plan's to prune.
    let manual = run(&jobs, backup_spec(&ns)).await;
    assert_eq!(manual.status, JobStatus::Completed, "{manual:?}");
    let input = domain::jobs::schedule::PlanInput {
        namespace_id: Some(ns.clone()),
        cron: "@daily".into(),
        target: Some(S3_TARGET.into()),
        keep_last: Some(2),
        ..Default::default()
    };
    let plan = jobs.save_plan(&me(), None, &input).await.expect("save the plan");
    let mut made = Vec::new();
    for _ in 0..4 {
        let started = jobs.run_plan_now(&me(), &plan.id).await.expect("run the plan");
        let job = common::wait(&jobs, &started[0].id).await;
        assert_eq!(job.status, JobStatus::Completed, "{job:?}");
        made.push(job.result.unwrap()["backup_id"].as_str().unwrap().to_owned());
        // Backup ids name the second they were made in; the next one needs a later second.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let mut listed: Vec<String> =
        jobs.list_backups(&me(), S3_TARGET).await.unwrap().into_iter().map(|b| b.backup_id).collect();
    listed.sort();
    let mut kept =
        vec![manual.result.unwrap()["backup_id"].as_str().unwrap().to_owned(), made[2].clone(), made[3].clone()];
    kept.sort();
    assert_eq!(listed, kept, "the plan keeps its last two and the manual backup");
    let stored = objects(&server, "plans").await;
    assert_eq!(stored.len(), 6, "the pruned backups' objects are gone from the bucket: {stored:?}");
}
