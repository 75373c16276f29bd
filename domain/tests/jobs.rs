//! Background jobs on SQLite and (with `KVM_TEST_POSTGRES_URL`) PostgreSQL: every bulk
//! operation, export and import, collisions, malformed files, cancel and resume.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Fixture, me, namespace, put};
use domain::catalog::TagOperation;
use domain::jobs::{
    Collision, ExportFormat, Fault, ImportFormat, Job, JobSpec, JobStatus, Jobs, JobsConfig, Selection, TtlChange,
};
use domain::{DetailsWrite, Kv, PutKey};
use serde_json::json;

both!(
    bulk_delete_by_list_and_by_prefix,
    bulk_copy_and_move_carry_value_metadata_expiration_and_details,
    bulk_ttl_and_tags_leave_values_alone_and_report_missing_keys,
    export_then_import_reproduces_a_namespace,
    import_collision_modes,
    malformed_imports_name_the_line_and_field_and_fail_writes_nothing,
    cancel_stops_between_batches_and_keeps_what_was_written,
    an_interrupted_import_resumes_after_its_last_batch,
    history_filters_and_pages,
    jobs_past_the_limit_wait_queued_and_can_be_cancelled_there,
    an_export_file_is_gone_once_it_expires,
    text_values_with_escapes_and_nested_details_round_trip,
    a_cancel_asked_through_another_instance_stops_the_job,
    an_export_over_many_pages_holds_every_live_key_once_in_order,
    a_bulk_ttl_out_of_range_is_refused_and_a_stale_absolute_one_fails_the_job,
    a_panicking_job_ends_failed_and_frees_its_slot,
    a_move_never_loses_a_write_made_to_the_source_meanwhile,
    an_import_with_collision_fail_resumes_after_a_batch_written_without_its_checkpoint,
    an_import_item_past_the_largest_valid_one_is_an_error_naming_it_and_the_rest_is_imported,
    a_job_over_thousands_of_listed_keys_is_listed_fetched_and_watched_without_the_list,
    large_values_are_read_a_byte_budget_at_a_time_by_exports_copies_and_moves,
    a_shutdown_interrupts_running_and_queued_jobs_and_refuses_new_ones,
    a_job_still_running_when_the_grace_runs_out_is_marked_interrupted,
);

fn engine(f: &Fixture, dir: &std::path::Path, instance: &str) -> Jobs {
    Jobs::new(
        f.kv.clone(),
        f.db.conn.clone(),
        JobsConfig { max_jobs: 2, data_dir: dir.to_owned(), export_ttl_hours: 24, instance_id: instance.into() },
    )
}

async fn run(jobs: &Jobs, spec: JobSpec) -> Job {
    let job = jobs.start(&me(), spec).await.expect("start");
    assert_eq!(job.status, JobStatus::Queued);
    common::wait(jobs, &job.id).await
}

async fn fill(kv: &Kv, ns: &str, prefix: &str, n: usize) {
    let puts: Vec<PutKey> = (0..n).map(|i| put(&format!("{prefix}{i:05}"), &format!("value {i}"))).collect();
    for chunk in puts.chunks(1000) {
        kv.put_many(&me(), ns, chunk.to_vec()).await.unwrap();
    }
}

fn keys(names: &[&str]) -> Selection {
    Selection { keys: Some(names.iter().map(|s| s.to_string()).collect()), prefix: None }
}

fn prefix(p: &str) -> Selection {
    Selection { keys: None, prefix: Some(p.into()) }
}

async fn bulk_delete_by_list_and_by_prefix(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "bulk-delete").await;
    fill(&f.kv, &ns, "a:", 2500).await;
    fill(&f.kv, &ns, "b:", 3).await;
    let job = run(&jobs, JobSpec::BulkDelete { namespace_id: ns.clone(), selection: prefix("a:") }).await;
    assert_eq!((job.status, job.total, job.processed, job.percentage), (JobStatus::Completed, 2500, 2500, 100.0));
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 3);
    let job = run(&jobs, JobSpec::BulkDelete { namespace_id: ns.clone(), selection: keys(&["b:00000", "nope"]) }).await;
    assert_eq!((job.processed, job.skipped), (2, 1));
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 2);
    let events: Vec<String> = jobs.events(&job.id).await.unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(events.first().map(String::as_str), Some("created"));
    assert!(events.contains(&"started".to_owned()));
    assert_eq!(events.last().map(String::as_str), Some("completed"));
    // Bad requests are refused before a job exists.
    let err = jobs
        .start(&me(), JobSpec::BulkDelete { namespace_id: ns.clone(), selection: Selection::default() })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("keys"));
    let err = jobs
        .start(&me(), JobSpec::BulkDelete { namespace_id: "0".repeat(32), selection: prefix("") })
        .await
        .unwrap_err();
    assert_eq!(err.status(), 404);
}

async fn bulk_copy_and_move_carry_value_metadata_expiration_and_details(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let src = namespace(f, "copy-src").await;
    let dst = namespace(f, "copy-dst").await;
    let expiration = domain::now_unix() + 3600;
    f.kv.put_many_with_details(
        &me(),
        &src,
        vec![
            (
                PutKey {
                    name: "k1".into(),
                    value: vec![0, 159, 255],
                    metadata: Some(json!({"m": 1})),
                    expiration: Some(expiration),
                    expiration_ttl: None,
                },
                DetailsWrite { tags: Some(vec!["red".into()]), custom_metadata: Some(json!({"owner": "ops"})) },
            ),
            (put("k2", "two"), DetailsWrite::default()),
        ],
    )
    .await
    .unwrap();
    f.kv.put_key(&me(), &dst, put("k2", "already here")).await.unwrap();
    let job = run(
        &jobs,
        JobSpec::BulkCopy {
            namespace_id: src.clone(),
            selection: keys(&["k1", "k2", "gone"]),
            target_namespace_id: dst.clone(),
            overwrite: false,
        },
    )
    .await;
    assert_eq!((job.status, job.processed, job.skipped, job.errors), (JobStatus::Completed, 3, 1, 1));
    assert_eq!(job.failures.len(), 1);
    assert_eq!(job.failures[0].key, "gone");
    let copied = f.kv.get_key(&me(), &dst, "k1").await.unwrap();
    assert_eq!(
        (copied.value, copied.metadata, copied.expiration),
        (vec![0, 159, 255], Some(json!({"m": 1})), Some(expiration))
    );
    let details = f.kv.get_key_details(&me(), &dst, "k1").await.unwrap();
    assert_eq!((details.tags, details.custom_metadata), (vec!["red".to_owned()], json!({"owner": "ops"})));
    assert_eq!(f.kv.get_key(&me(), &dst, "k2").await.unwrap().value, b"already here");

    let job = run(
        &jobs,
        JobSpec::BulkMove {
            namespace_id: src.clone(),
            selection: prefix("k"),
            target_namespace_id: dst.clone(),
            overwrite: true,
        },
    )
    .await;
    assert_eq!((job.status, job.processed), (JobStatus::Completed, 2));
    assert_eq!(common::reader(&f.kv, &src).await.count_keys("").await.unwrap(), 0);
    assert_eq!(f.kv.get_key(&me(), &dst, "k2").await.unwrap().value, b"two");
    let err = jobs
        .start(
            &me(),
            JobSpec::BulkCopy {
                namespace_id: src.clone(),
                selection: prefix(""),
                target_namespace_id: src.clone(),
                overwrite: true,
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("target_namespace_id"));
}

async fn bulk_ttl_and_tags_leave_values_alone_and_report_missing_keys(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "ttl-tags").await;
    f.kv.put_key(&me(), &ns, PutKey { metadata: Some(json!({"keep": true})), ..put("a", "A") }).await.unwrap();
    f.kv.put_key(&me(), &ns, put("b", "B")).await.unwrap();
    f.kv.put_key_details(&me(), &ns, "a", Some(vec!["x".into()]), Some(json!({"c": 1}))).await.unwrap();

    let job = run(
        &jobs,
        JobSpec::BulkTtl { namespace_id: ns.clone(), selection: keys(&["a", "b", "zz"]), change: TtlChange::Ttl(600) },
    )
    .await;
    assert_eq!((job.status, job.errors), (JobStatus::Completed, 1));
    assert!(job.failures[0].reason.contains("does not exist"), "{:?}", job.failures);
    let a = f.kv.get_key(&me(), &ns, "a").await.unwrap();
    assert_eq!((a.value.as_slice(), a.metadata), (&b"A"[..], Some(json!({"keep": true}))));
    assert!(a.expiration.unwrap() >= domain::now_unix() + 590);
    let job =
        run(&jobs, JobSpec::BulkTtl { namespace_id: ns.clone(), selection: prefix(""), change: TtlChange::Remove })
            .await;
    assert_eq!(job.processed, 2);
    assert_eq!(f.kv.get_key(&me(), &ns, "a").await.unwrap().expiration, None);
    let err = jobs
        .start(&me(), JobSpec::BulkTtl { namespace_id: ns.clone(), selection: prefix(""), change: TtlChange::Ttl(30) })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("expiration_ttl"));

    let tag = |tags: &[&str], operation| JobSpec::BulkTag {
        namespace_id: ns.clone(),
        selection: prefix(""),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        operation,
    };
    run(&jobs, tag(&["new", "X"], TagOperation::Add)).await;
    let tags_of = |name: &'static str| {
        let kv = f.kv.clone();
        let ns = ns.clone();
        async move { kv.get_key_details(&me(), &ns, name).await.unwrap() }
    };
    let a = tags_of("a").await;
    assert_eq!((a.tags, a.custom_metadata), (vec!["x".to_owned(), "new".to_owned()], json!({"c": 1})));
    assert_eq!(tags_of("b").await.tags, vec!["new".to_owned(), "X".to_owned()]);
    run(&jobs, tag(&["NEW"], TagOperation::Remove)).await;
    assert_eq!(tags_of("a").await.tags, vec!["x".to_owned()]);
    run(&jobs, tag(&["only"], TagOperation::Replace)).await;
    assert_eq!(tags_of("b").await.tags, vec!["only".to_owned()]);
    assert_eq!(f.kv.get_key(&me(), &ns, "b").await.unwrap().value, b"B");

    // An added tag never takes a key past the limit of tags per key: that key is left as it
    // was and named among the job's failures; the others get the tag.
    let full: Vec<String> = (0..domain::limits::MAX_TAGS_PER_KEY).map(|i| format!("t{i}")).collect();
    f.kv.put_key_details(&me(), &ns, "a", Some(full.clone()), None).await.unwrap();
    let job = run(&jobs, tag(&["one-more"], TagOperation::Add)).await;
    assert_eq!((job.status, job.errors), (JobStatus::Completed, 1), "{:?}", job.failures);
    assert_eq!(job.failures[0].key, "a");
    assert!(job.failures[0].reason.contains("more than 64 tags"), "{:?}", job.failures);
    assert_eq!(tags_of("a").await.tags, full);
    assert_eq!(tags_of("b").await.tags, vec!["only".to_owned(), "one-more".to_owned()]);
    // A tag the key already has adds nothing, so a full key takes it without error.
    let job = run(&jobs, tag(&["T0"], TagOperation::Add)).await;
    assert_eq!((job.status, job.errors), (JobStatus::Completed, 0), "{:?}", job.failures);
}

async fn snapshot(
    kv: &Kv,
    ns: &str,
) -> BTreeMap<String, (Vec<u8>, Option<serde_json::Value>, Option<i64>, Vec<String>, serde_json::Value)> {
    let page = kv.list_keys(&me(), ns, Default::default()).await.unwrap();
    let names: Vec<String> = page.keys.iter().map(|k| k.name.clone()).collect();
    let details = common::reader(kv, ns).await.details_many(&names).await.unwrap();
    common::reader(kv, ns)
        .await
        .get_many(&names)
        .await
        .unwrap()
        .into_iter()
        .map(|k| {
            let d = details.get(&k.name);
            let tags = d.map(|d| d.tags.clone()).unwrap_or_default();
            let custom = d.map(|d| d.custom_metadata.clone()).unwrap_or_else(|| json!({}));
            (k.name, (k.value, k.metadata, k.expiration, tags, custom))
        })
        .collect()
}

async fn export_then_import_reproduces_a_namespace(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let src = namespace(f, "round-trip").await;
    let expiration = domain::now_unix() + 7200;
    f.kv.put_many_with_details(
        &me(),
        &src,
        vec![
            (
                PutKey { name: "bin".into(), value: vec![0, 1, 2, 254, 255], ..Default::default() },
                DetailsWrite::default(),
            ),
            (
                PutKey {
                    name: "é/ü".into(),
                    value: "text ✓".into(),
                    metadata: Some(json!([1, {"a": null}])),
                    expiration: Some(expiration),
                    expiration_ttl: None,
                },
                DetailsWrite {
                    tags: Some(vec!["Blue".into(), "prod".into()]),
                    custom_metadata: Some(json!({"n": 1.5})),
                },
            ),
            (put("plain", ""), DetailsWrite::default()),
        ],
    )
    .await
    .unwrap();
    let before = snapshot(&f.kv, &src).await;
    for format in [ExportFormat::Json, ExportFormat::Ndjson] {
        let job = run(&jobs, JobSpec::Export { namespace_id: src.clone(), format, prefix: None }).await;
        assert_eq!((job.status, job.processed), (JobStatus::Completed, 3), "{job:?}");
        let file = jobs.export_file(&job.id).await.unwrap();
        assert!(file.filename.starts_with("round-trip-") && file.filename.ends_with(format.extension()));
        let (relative, path) = jobs.new_upload().await.unwrap();
        std::fs::copy(&file.path, &path).unwrap();
        let dst = namespace(f, &format!("round-trip-{}", format.extension())).await;
        let job = run(
            &jobs,
            JobSpec::Import {
                namespace_id: dst.clone(),
                file: relative,
                collision: Collision::Fail,
                format: ImportFormat::Auto,
            },
        )
        .await;
        assert_eq!((job.status, job.processed, job.errors), (JobStatus::Completed, 3, 0), "{job:?}");
        assert_eq!(snapshot(&f.kv, &dst).await, before);
        assert!(!path.exists(), "the upload is removed once imported");
    }
}

async fn import_file(jobs: &Jobs, text: &str) -> String {
    let (relative, path) = jobs.new_upload().await.unwrap();
    std::fs::write(path, text).unwrap();
    relative
}

async fn import_collision_modes(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "collisions").await;
    f.kv.put_key(&me(), &ns, put("a", "old")).await.unwrap();
    f.kv.put_key_details(&me(), &ns, "a", Some(vec!["kept".into()]), None).await.unwrap();
    let text = "{\"name\":\"a\",\"value\":\"new\"}\n{\"key\":\"b\",\"value\":\"Yg==\",\"base64\":true,\"expiration_ttl\":600}\n";
    let import = |collision| {
        let jobs = jobs.clone();
        let ns = ns.clone();
        async move {
            let file = import_file(&jobs, text).await;
            run(&jobs, JobSpec::Import { namespace_id: ns, file, collision, format: ImportFormat::Ndjson }).await
        }
    };
    let job = import(Collision::Fail).await;
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.error_message.as_deref().unwrap().contains("line 1"), "{job:?}");
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 1, "fail writes nothing");
    let job = import(Collision::Skip).await;
    assert_eq!((job.status, job.processed, job.skipped), (JobStatus::Completed, 2, 1));
    assert_eq!(f.kv.get_key(&me(), &ns, "a").await.unwrap().value, b"old");
    assert_eq!(f.kv.get_key(&me(), &ns, "b").await.unwrap().value, b"b");
    let job = import(Collision::Overwrite).await;
    assert_eq!((job.status, job.skipped), (JobStatus::Completed, 0));
    assert_eq!(f.kv.get_key(&me(), &ns, "a").await.unwrap().value, b"new");
    // The items do not mention tags: the key keeps its own.
    assert_eq!(f.kv.get_key_details(&me(), &ns, "a").await.unwrap().tags, vec!["kept".to_owned()]);
}

async fn malformed_imports_name_the_line_and_field_and_fail_writes_nothing(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "malformed").await;
    let ok = |i: usize| format!("{{\"name\":\"ok{i}\",\"value\":\"v\"}}");
    let cases: Vec<(String, &str, &str)> = vec![
        (format!("[{}, {{\"name\": }}]", ok(1)), "item 2", "invalid JSON"),
        (format!("[{}, {} {}]", ok(1), ok(2), ok(3)), "item 3", "file"),
        (format!("{}\n{}\n{{not json\n", ok(1), ok(2)), "line 3", "invalid JSON"),
        (format!("{}\n{{\"name\":\"{}\",\"value\":\"v\"}}\n", ok(1), "k".repeat(600)), "line 2", "key"),
        (
            format!("{}\n{{\"name\":\"m\",\"value\":\"v\",\"metadata\":\"{}\"}}\n", ok(1), "x".repeat(2048)),
            "line 2",
            "metadata",
        ),
        (
            format!("{}\n{}\n{{\"name\":\"t\",\"value\":\"v\",\"expiration_ttl\":30}}\n", ok(1), ok(2)),
            "line 3",
            "expiration_ttl",
        ),
    ];
    for (text, place, field) in cases {
        let file = import_file(&jobs, &text).await;
        let job = run(
            &jobs,
            JobSpec::Import { namespace_id: ns.clone(), file, collision: Collision::Fail, format: ImportFormat::Auto },
        )
        .await;
        assert_eq!(job.status, JobStatus::Failed, "{text}");
        let message = job.error_message.clone().unwrap();
        assert!(message.contains(place) && message.contains(field), "{message} should name {place} and {field}");
        assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 0, "nothing written for {place}");
    }
    // Without `fail`, the good items land and each bad one is reported with its line.
    let text = format!("{}\n{{\"name\":\"t\",\"value\":\"v\",\"ttl\":30}}\n{}\n", ok(1), ok(2));
    let file = import_file(&jobs, &text).await;
    let job = run(
        &jobs,
        JobSpec::Import { namespace_id: ns.clone(), file, collision: Collision::Overwrite, format: ImportFormat::Auto },
    )
    .await;
    assert_eq!((job.status, job.processed, job.errors), (JobStatus::Completed, 3, 1));
    assert_eq!(job.failures[0].key, "t");
    assert!(job.failures[0].reason.starts_with("line 2: expiration_ttl"), "{:?}", job.failures);
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 2);
}

async fn cancel_stops_between_batches_and_keeps_what_was_written(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "cancel").await;
    fill(&f.kv, &ns, "k", 30_000).await;
    let job = jobs.start(&me(), JobSpec::BulkDelete { namespace_id: ns.clone(), selection: prefix("") }).await.unwrap();
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
    assert_eq!(done.status, JobStatus::Cancelled);
    let left = common::reader(&f.kv, &ns).await.count_keys("").await.unwrap();
    assert!(done.processed > 0 && done.processed < 30_000, "{done:?}");
    assert_eq!(left, 30_000 - done.processed, "what was reported is what was deleted");
    let err = jobs.cancel(&me(), &job.id).await.unwrap_err();
    assert_eq!(err.status(), 409);
}

async fn an_interrupted_import_resumes_after_its_last_batch(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let ns = namespace(f, "resume").await;
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&format!("{{\"name\":\"key-{i:06}\",\"value\":\"value {i}\"}}\n"));
    }
    // The first server runs the import on a runtime of its own, which is then torn down
    // mid-job: the process dying, as far as the job can tell.
    let url = f.url.clone();
    let data = dir.path().to_owned();
    let text_for_a = text.clone();
    let ns_for_a = ns.clone();
    let job_id = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let id = rt.block_on(async move {
            let db = domain::Database::connect(&url).await.unwrap();
            let jobs = Jobs::new(
                Kv::sql(db.clone()),
                db.conn.clone(),
                JobsConfig { max_jobs: 1, data_dir: data, export_ttl_hours: 1, instance_id: "a".into() },
            );
            let file = import_file(&jobs, &text_for_a).await;
            let job = jobs
                .start(
                    &me(),
                    JobSpec::Import {
                        namespace_id: ns_for_a,
                        file,
                        collision: Collision::Skip,
                        format: ImportFormat::Ndjson,
                    },
                )
                .await
                .unwrap();
            let mut rx = loop {
                if let Some(rx) = jobs.subscribe(&job.id) {
                    break rx;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            };
            while rx.borrow().processed < 3000 {
                rx.changed().await.unwrap();
            }
            job.id
        });
        rt.shutdown_background();
        id
    })
    .join()
    .unwrap();

    let jobs = engine(f, dir.path(), "a");
    assert_eq!(jobs.recover().await.unwrap(), 1);
    let job = jobs.get(&job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Interrupted);
    assert!(jobs.events(&job_id).await.unwrap().iter().any(|e| e.event == "interrupted"));
    let written = common::reader(&f.kv, &ns).await.count_keys("").await.unwrap();
    assert!((3000..20_000).contains(&written), "{written}");

    // The maintenance task's sweep of uploads (files older than the given age that no
    // unfinished import reads): an old orphan goes, a young one (an upload being received)
    // stays, and so does the interrupted import's own file however old it is.
    let imports = dir.path().join("imports");
    let day_ago = std::time::SystemTime::now() - Duration::from_secs(86_400);
    let age = |name: &str| {
        std::fs::File::options().write(true).open(imports.join(name)).unwrap().set_modified(day_ago).unwrap();
    };
    let (old_orphan, _) = jobs.new_upload().await.unwrap();
    let (young_orphan, _) = jobs.new_upload().await.unwrap();
    for file in [&old_orphan, &young_orphan] {
        std::fs::write(dir.path().join(file), b"{}").unwrap();
    }
    age(old_orphan.trim_start_matches("imports/"));
    let own = job.params["file"].as_str().expect("the import's upload").to_owned();
    age(own.trim_start_matches("imports/"));
    assert_eq!(jobs.purge_orphan_uploads(Duration::from_secs(3600)).await.unwrap(), 1);
    assert!(!dir.path().join(&old_orphan).exists());
    assert!(dir.path().join(&young_orphan).exists() && dir.path().join(&own).exists());

    jobs.resume(&me(), &job_id).await.unwrap();
    let done = common::wait(&jobs, &job_id).await;
    assert_eq!((done.status, done.processed), (JobStatus::Completed, 20_000), "{done:?}");
    let mut seen = 0;
    let mut cursor = None;
    loop {
        let page = f.kv.list_keys(&me(), &ns, domain::KeyQuery { cursor, ..Default::default() }).await.unwrap();
        let names: Vec<String> = page.keys.iter().map(|k| k.name.clone()).collect();
        for key in common::reader(&f.kv, &ns).await.get_many(&names).await.unwrap() {
            let i: usize = key.name.trim_start_matches("key-").parse().unwrap();
            assert_eq!(key.value, format!("value {i}").into_bytes());
            assert_eq!(i, seen, "every key exactly once, in order");
            seen += 1;
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, 20_000);
}

async fn history_filters_and_pages(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "history").await;
    f.kv.put_key(&me(), &ns, put("a", "1")).await.unwrap();
    for _ in 0..3 {
        run(&jobs, JobSpec::BulkTtl { namespace_id: ns.clone(), selection: keys(&["a"]), change: TtlChange::Remove })
            .await;
    }
    let failed = run(
        &jobs,
        JobSpec::BulkTtl { namespace_id: ns.clone(), selection: keys(&["missing"]), change: TtlChange::Remove },
    )
    .await;
    let q = |query: domain::jobs::JobQuery| {
        let jobs = jobs.clone();
        async move { jobs.list(&me(), &query).await }
    };
    let all = q(Default::default()).await.unwrap();
    assert_eq!(all.jobs.len(), 4);
    assert_eq!(all.jobs[0].id, failed.id, "newest first");
    let page1 = q(domain::jobs::JobQuery { limit: Some(3), ..Default::default() }).await.unwrap();
    let page2 =
        q(domain::jobs::JobQuery { limit: Some(3), cursor: page1.cursor.clone(), ..Default::default() }).await.unwrap();
    assert_eq!((page1.jobs.len(), page2.jobs.len(), page2.cursor.is_none()), (3, 1, true));
    let errors = q(domain::jobs::JobQuery { min_errors: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!(errors.jobs.iter().map(|j| j.id.clone()).collect::<Vec<_>>(), vec![failed.id.clone()]);
    let typed = q(domain::jobs::JobQuery { job_type: Some("bulk_delete".into()), ..Default::default() }).await.unwrap();
    assert!(typed.jobs.is_empty());
    assert_eq!(
        q(domain::jobs::JobQuery { status: Some("done".into()), ..Default::default() }).await.unwrap_err().field(),
        Some("status")
    );
    assert_eq!(
        q(domain::jobs::JobQuery { limit: Some(0), ..Default::default() }).await.unwrap_err().field(),
        Some("limit")
    );
}

async fn jobs_past_the_limit_wait_queued_and_can_be_cancelled_there(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = Jobs::new(
        f.kv.clone(),
        f.db.conn.clone(),
        JobsConfig { max_jobs: 1, data_dir: dir.path().to_owned(), export_ttl_hours: 1, instance_id: "a".into() },
    );
    let ns = namespace(f, "queue").await;
    fill(&f.kv, &ns, "k", 20_000).await;
    let first = jobs
        .start(
            &me(),
            JobSpec::BulkTtl { namespace_id: ns.clone(), selection: prefix(""), change: TtlChange::Ttl(3600) },
        )
        .await
        .unwrap();
    let second = jobs
        .start(&me(), JobSpec::BulkTtl { namespace_id: ns.clone(), selection: prefix(""), change: TtlChange::Remove })
        .await
        .unwrap();
    let third =
        jobs.start(&me(), JobSpec::BulkDelete { namespace_id: ns.clone(), selection: prefix("") }).await.unwrap();
    // One runs; the others wait their turn.
    let mut rx = loop {
        if let Some(rx) = jobs.subscribe(&first.id) {
            break rx;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    while rx.borrow().status != JobStatus::Running {
        rx.changed().await.unwrap();
    }
    assert_eq!(jobs.peek(&second.id).await.unwrap().status, JobStatus::Queued);
    assert_eq!(jobs.peek(&third.id).await.unwrap().status, JobStatus::Queued);
    // Cancelling a queued job ends it at once, before it touches anything.
    let cancelled = jobs.cancel(&me(), &third.id).await.unwrap();
    assert_eq!((cancelled.status, cancelled.processed), (JobStatus::Cancelled, 0));
    assert_eq!(common::wait(&jobs, &first.id).await.status, JobStatus::Completed);
    assert_eq!(common::wait(&jobs, &second.id).await.status, JobStatus::Completed);
    assert_eq!(common::wait(&jobs, &third.id).await.status, JobStatus::Cancelled);
    assert_eq!(
        common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(),
        20_000,
        "the cancelled delete never ran"
    );
    let events: Vec<String> = jobs.events(&third.id).await.unwrap().into_iter().map(|e| e.event).collect();
    assert_eq!(events, vec!["created".to_owned(), "cancelled".to_owned()]);
}

async fn an_export_file_is_gone_once_it_expires(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = Jobs::new(
        f.kv.clone(),
        f.db.conn.clone(),
        JobsConfig { max_jobs: 1, data_dir: dir.path().to_owned(), export_ttl_hours: 0, instance_id: "a".into() },
    );
    let ns = namespace(f, "expiring-export").await;
    f.kv.put_key(&me(), &ns, put("a", "1")).await.unwrap();
    let job = run(&jobs, JobSpec::Export { namespace_id: ns, format: ExportFormat::Json, prefix: None }).await;
    let err = jobs.export_file(&job.id).await.unwrap_err();
    assert_eq!((err.code(), err.status()), ("gone", 410));
}

async fn text_values_with_escapes_and_nested_details_round_trip(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "encoders").await;
    let expiration = domain::now_unix() + 7200;
    let mut items = Vec::new();
    for i in 0..2500 {
        let text = format!("line {i}\n\t\u{1} \"quoted\" \\ é ✓ 𝄞");
        let put = PutKey {
            name: format!("k/{i:05}/ü"),
            value: text.into_bytes(),
            metadata: (i % 3 == 0).then(|| json!({"n": i, "f": 1.5, "nil": null, "nested": {"a": [1, "x"]}})),
            expiration: (i % 5 == 0).then_some(expiration),
            expiration_ttl: None,
        };
        let details = match i % 4 {
            0 => DetailsWrite {
                tags: Some(vec!["Red".into(), "b".into()]),
                custom_metadata: Some(json!({"o": {"p": null}})),
            },
            1 => DetailsWrite { tags: Some(vec![]), custom_metadata: Some(json!({})) },
            _ => DetailsWrite::default(),
        };
        items.push((put, details));
    }
    for chunk in items.chunks(500) {
        f.kv.put_many_with_details(&me(), &ns, chunk.to_vec()).await.unwrap();
    }
    let page = f.kv.list_keys(&me(), &ns, Default::default()).await.unwrap();
    assert_eq!(page.keys.len(), 1000);
    let before = snapshot(&f.kv, &ns).await;
    for format in [ExportFormat::Ndjson, ExportFormat::Json] {
        let job = run(&jobs, JobSpec::Export { namespace_id: ns.clone(), format, prefix: None }).await;
        let text = std::fs::read_to_string(jobs.export_file(&job.id).await.unwrap().path).unwrap();
        let exported: Vec<serde_json::Value> = match format {
            ExportFormat::Json => serde_json::from_str(&text).unwrap(),
            ExportFormat::Ndjson => text.lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
        };
        assert_eq!(exported.len(), 2500);
        let (relative, path) = jobs.new_upload().await.unwrap();
        std::fs::write(path, &text).unwrap();
        let copy = namespace(f, &format!("encoders-{}", format.extension())).await;
        let job = run(
            &jobs,
            JobSpec::Import {
                namespace_id: copy.clone(),
                file: relative,
                collision: Collision::Fail,
                format: ImportFormat::Auto,
            },
        )
        .await;
        assert_eq!(job.status, JobStatus::Completed, "{job:?}");
        assert_eq!(snapshot(&f.kv, &copy).await, before);
    }
}

async fn a_cancel_asked_through_another_instance_stops_the_job(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let runner = engine(f, dir.path(), "runner");
    let other = engine(f, dir.path(), "other");
    let ns = namespace(f, "cross-instance").await;
    fill(&f.kv, &ns, "k", 30_000).await;
    let job =
        runner.start(&me(), JobSpec::BulkDelete { namespace_id: ns.clone(), selection: prefix("") }).await.unwrap();
    let mut rx = loop {
        if let Some(rx) = runner.subscribe(&job.id) {
            break rx;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    while rx.borrow().processed == 0 {
        rx.changed().await.unwrap();
    }
    // The other instance does not run the job: it reads its state and asks through the database.
    assert!(other.subscribe(&job.id).is_none());
    assert_eq!(other.peek(&job.id).await.unwrap().status, JobStatus::Running);
    other.cancel(&me(), &job.id).await.unwrap();
    let done = common::wait(&runner, &job.id).await;
    assert_eq!(done.status, JobStatus::Cancelled);
    assert!(done.processed < 30_000, "{done:?}");
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 30_000 - done.processed);
}

/// Pages are read several at once, bounded by the key index (expired keys included), and
/// written in order: every live key once, in byte order, expired ones left out, with a prefix
/// too, in both formats.
async fn an_export_over_many_pages_holds_every_live_key_once_in_order(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "pages").await;
    fill(&f.kv, &ns, "a/", 6100).await;
    fill(&f.kv, &ns, "b/", 2600).await;
    // Every third "a/" key expired a moment ago: stored, not yet purged, and not live.
    let expired: Vec<String> = (0..6100).step_by(3).map(|i| format!("a/{i:05}")).collect();
    for chunk in expired.chunks(500) {
        let list = chunk.iter().map(|k| format!("'{k}'")).collect::<Vec<_>>().join(",");
        let sql = format!(
            "UPDATE kv_entries SET expiration = {} WHERE namespace_id = '{ns}' AND name IN ({list})",
            domain::now_unix() - 5
        );
        common::exec(&f.db, &sql).await;
    }
    let live_a: Vec<String> = (0..6100).filter(|i| i % 3 != 0).map(|i| format!("a/{i:05}")).collect();
    let all_live: Vec<String> = live_a.iter().cloned().chain((0..2600).map(|i| format!("b/{i:05}"))).collect();
    for (prefix, expected) in [(None, &all_live), (Some("a/".to_owned()), &live_a)] {
        for format in [ExportFormat::Json, ExportFormat::Ndjson] {
            let job = run(&jobs, JobSpec::Export { namespace_id: ns.clone(), format, prefix: prefix.clone() }).await;
            assert_eq!(job.status, JobStatus::Completed, "{job:?}");
            assert_eq!(job.processed, expected.len() as u64, "{prefix:?} {format:?}");
            let text = std::fs::read_to_string(jobs.export_file(&job.id).await.unwrap().path).unwrap();
            let items: Vec<serde_json::Value> = match format {
                ExportFormat::Json => serde_json::from_str(&text).expect("one JSON array"),
                ExportFormat::Ndjson => text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect(),
            };
            let names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
            assert_eq!(names.len(), expected.len(), "{prefix:?} {format:?}");
            assert!(names.iter().zip(expected.iter()).all(|(a, b)| a == b), "{prefix:?} {format:?}: order or content");
            let i = names.iter().position(|n| *n == "a/00004").unwrap();
            assert_eq!(items[i]["value"], "value 4");
        }
    }
}

/// Waits for a job to end, failing the test (rather than hanging) after a minute.
async fn ended(jobs: &Jobs, id: &str) -> Job {
    match tokio::time::timeout(Duration::from_secs(60), jobs.wait(id)).await {
        Ok(job) => job.unwrap(),
        Err(_) => panic!("job {id} did not end within a minute: {:?}", jobs.get(id).await),
    }
}

/// Waits until a job met its fault.
async fn reached(notify: &std::sync::Arc<tokio::sync::Notify>) {
    tokio::time::timeout(Duration::from_secs(60), notify.notified()).await.expect("the job reached its fault");
}

async fn a_bulk_ttl_out_of_range_is_refused_and_a_stale_absolute_one_fails_the_job(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "ttl-range").await;
    f.kv.put_key(&me(), &ns, put("a", "A")).await.unwrap();
    f.kv.put_key(&me(), &ns, put("b", "B")).await.unwrap();
    let ttl = |change| JobSpec::BulkTtl { namespace_id: ns.clone(), selection: keys(&["a", "b"]), change };
    // A TTL whose sum with now overflows would have wrapped into the past (every key expired,
    // then purged) or panicked the job: it is refused before a job exists.
    let now = domain::now_unix();
    for (change, field) in [
        (TtlChange::Ttl(i64::MAX), "expiration_ttl"),
        (TtlChange::Ttl(i64::MAX - now + 1), "expiration_ttl"),
        (TtlChange::Ttl(59), "expiration_ttl"),
        (TtlChange::At(i64::MIN), "expiration"),
        (TtlChange::At(now + 30), "expiration"),
    ] {
        common::assert_err_status(jobs.start(&me(), ttl(change)).await, "invalid_input", 400, field);
    }
    assert!(jobs.list(&me(), &Default::default()).await.unwrap().jobs.is_empty(), "no job was recorded");

    // An absolute expiration accepted at start but no longer a minute ahead when the job gets
    // to it (it waited, or was resumed later) fails the job instead of expiring the keys.
    let at = domain::now_unix() + 61;
    let halted = std::sync::Arc::new(tokio::sync::Notify::new());
    jobs.set_fault_for_tests(Some(Fault::HaltBefore { batch: 1, reached: halted.clone() }));
    let job = jobs.start(&me(), ttl(TtlChange::At(at))).await.unwrap();
    reached(&halted).await;
    while domain::now_unix() + 60 <= at {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let after = engine(f, dir.path(), "a");
    assert_eq!(after.recover().await.unwrap(), 1);
    after.resume(&me(), &job.id).await.unwrap();
    let done = ended(&after, &job.id).await;
    assert_eq!(done.status, JobStatus::Failed, "{done:?}");
    assert!(done.error_message.as_deref().unwrap_or_default().contains("expiration"), "{done:?}");
    for name in ["a", "b"] {
        assert_eq!(f.kv.get_key(&me(), &ns, name).await.unwrap().expiration, None, "{name} keeps no expiration");
    }
}

async fn a_panicking_job_ends_failed_and_frees_its_slot(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = Jobs::new(
        f.kv.clone(),
        f.db.conn.clone(),
        JobsConfig { max_jobs: 1, data_dir: dir.path().to_owned(), export_ttl_hours: 1, instance_id: "a".into() },
    );
    let ns = namespace(f, "panics").await;
    fill(&f.kv, &ns, "k", 3000).await;
    jobs.set_fault_for_tests(Some(Fault::Panic { batch: 2, message: "injected fault 7f3a".into() }));
    let job = jobs.start(&me(), JobSpec::BulkDelete { namespace_id: ns.clone(), selection: prefix("") }).await.unwrap();
    let done = ended(&jobs, &job.id).await;
    assert_eq!(done.status, JobStatus::Failed, "{done:?}");
    assert!(done.error_message.as_deref().unwrap_or_default().contains("injected fault 7f3a"), "{done:?}");
    assert_eq!(done.processed, 1000, "the batch before the panic is counted");
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 2000);
    let events = jobs.events(&job.id).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.event, "failed");
    assert!(last.details["reason"].as_str().unwrap_or_default().contains("injected fault 7f3a"), "{last:?}");
    assert!(jobs.subscribe(&job.id).is_none(), "no longer among the running jobs");
    // The only slot was given back: the next job runs to its end.
    let next =
        jobs.start(&me(), JobSpec::BulkDelete { namespace_id: ns.clone(), selection: prefix("") }).await.unwrap();
    let next = ended(&jobs, &next.id).await;
    assert_eq!((next.status, next.processed), (JobStatus::Completed, 2000), "{next:?}");
    assert_eq!(jobs.get(&job.id).await.unwrap().status, JobStatus::Failed);
}

async fn a_move_never_loses_a_write_made_to_the_source_meanwhile(f: &Fixture) {
    use std::collections::HashMap;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let src = namespace(f, "move-src").await;
    let dst = namespace(f, "move-dst").await;
    const KEYS: usize = 20_000;
    fill(&f.kv, &src, "k", KEYS).await;
    // Every write acknowledged to a writer, the newest per key.
    let acked: Arc<Mutex<HashMap<String, String>>> =
        Arc::new(Mutex::new((0..KEYS).map(|i| (format!("k{i:05}"), format!("value {i}"))).collect()));
    let job = jobs
        .start(
            &me(),
            JobSpec::BulkMove {
                namespace_id: src.clone(),
                selection: prefix(""),
                target_namespace_id: dst.clone(),
                overwrite: true,
            },
        )
        .await
        .unwrap();
    let progress = loop {
        if let Some(rx) = jobs.subscribe(&job.id) {
            break rx;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..2u64 {
        let (kv, src, acked, stop, progress) =
            (f.kv.clone(), src.clone(), acked.clone(), stop.clone(), progress.clone());
        writers.push(tokio::spawn(async move {
            let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (w + 1);
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly keys of the batch being moved now, the others anywhere (new ones too).
                let done = progress.borrow().processed as usize;
                let i = if seed.is_multiple_of(5) {
                    (seed >> 8) as usize % (KEYS + KEYS / 10)
                } else {
                    (done + (seed >> 8) as usize % 1000).min(KEYS - 1)
                };
                // Each writer has its own keys (even or odd): were both to write one key, the
                // order in which they note their acknowledgements could differ from the order
                // their writes committed in, and the test would blame the move for it.
                let i = if i % 2 == w as usize { i } else { i ^ 1 };
                let (name, value) = (format!("k{i:05}"), format!("writer {w} write {n}"));
                n += 1;
                if kv.put_key(&me(), &src, put(&name, &value)).await.is_ok() {
                    acked.lock().unwrap().insert(name, value);
                }
            }
            n
        }));
    }
    let done = ended(&jobs, &job.id).await;
    stop.store(true, Ordering::SeqCst);
    let mut writes = 0;
    for writer in writers {
        writes += writer.await.unwrap();
    }
    assert_eq!(done.status, JobStatus::Completed, "{done:?}");
    assert!(writes > 0);
    let acked = acked.lock().unwrap().clone();
    let names: Vec<String> = acked.keys().cloned().collect();
    let mut in_src = HashMap::new();
    let mut in_dst = HashMap::new();
    for chunk in names.chunks(1000) {
        in_src.extend(
            common::reader(&f.kv, &src).await.get_many(chunk).await.unwrap().into_iter().map(|k| (k.name, k.value)),
        );
        in_dst.extend(
            common::reader(&f.kv, &dst).await.get_many(chunk).await.unwrap().into_iter().map(|k| (k.name, k.value)),
        );
    }
    let mut lost = Vec::new();
    for (name, value) in &acked {
        let holders = [&in_src, &in_dst].iter().filter(|m| m.get(name) == Some(&value.clone().into_bytes())).count();
        if holders != 1 {
            lost.push((name.clone(), value.clone(), holders));
        }
    }
    assert!(
        lost.is_empty(),
        "{} of {} newest writes are not in exactly one namespace, e.g. {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
}

async fn an_import_with_collision_fail_resumes_after_a_batch_written_without_its_checkpoint(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let ns = namespace(f, "resume-fail").await;
    let mut text = String::new();
    for i in 0..5000 {
        text.push_str(&format!("{{\"name\":\"key-{i:05}\",\"value\":\"value {i}\"}}\n"));
    }
    // The first server stops for good right after its second batch was written: whatever it
    // had not written in that batch's transaction is lost, as in a crash.
    let first = engine(f, dir.path(), "a");
    let halted = std::sync::Arc::new(tokio::sync::Notify::new());
    first.set_fault_for_tests(Some(Fault::HaltAfterWrite { batch: 2, reached: halted.clone() }));
    let file = import_file(&first, &text).await;
    let spec =
        JobSpec::Import { namespace_id: ns.clone(), file, collision: Collision::Fail, format: ImportFormat::Ndjson };
    let job = first.start(&me(), spec).await.unwrap();
    reached(&halted).await;
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 2000, "two batches written");

    let second = engine(f, dir.path(), "a");
    assert_eq!(second.recover().await.unwrap(), 1);
    second.resume(&me(), &job.id).await.unwrap();
    let done = ended(&second, &job.id).await;
    assert_eq!(
        (done.status, done.total, done.processed, done.skipped, done.errors),
        (JobStatus::Completed, 5000, 5000, 0, 0),
        "{:?}",
        done.error_message
    );
    assert!(
        done.failures.is_empty(),
        "no key reported as a collision: {:?}",
        &done.failures[..done.failures.len().min(3)]
    );
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 5000);
    let names: Vec<String> = (0..5000).map(|i| format!("key-{i:05}")).collect();
    for chunk in names.chunks(1000) {
        for key in common::reader(&f.kv, &ns).await.get_many(chunk).await.unwrap() {
            let i: usize = key.name.trim_start_matches("key-").parse().unwrap();
            assert_eq!(key.value, format!("value {i}").into_bytes());
        }
    }
}

/// An upload of `before` items, one item of `padding` bytes of value, and `after` items, as
/// NDJSON or one JSON array, written in pieces (the test never holds the big item either).
async fn upload_with_big_item(jobs: &Jobs, json: bool, padding: usize) -> String {
    use std::io::Write as _;
    let (relative, path) = jobs.new_upload().await.unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let (open, sep, close) = if json { ("[\n", ",\n", "\n]\n") } else { ("", "\n", "\n") };
    out.write_all(open.as_bytes()).unwrap();
    write!(out, "{{\"name\":\"a\",\"value\":\"1\"}}{sep}").unwrap();
    write!(out, "{{\"name\":\"big\",\"value\":\"").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    let mut left = padding;
    while left > 0 {
        let n = left.min(chunk.len());
        out.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    write!(out, "\",\"tags\":[\"t\"]}}{sep}").unwrap();
    write!(out, "{{\"name\":\"b\",\"value\":\"2\"}}{close}").unwrap();
    out.flush().unwrap();
    relative
}

async fn an_import_item_past_the_largest_valid_one_is_an_error_naming_it_and_the_rest_is_imported(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let padding = domain::limits::MAX_IMPORT_ITEM_BYTES + 1;
    for (json, place) in [(false, "line 2"), (true, "item 2")] {
        let ns = namespace(f, &format!("oversize-{json}")).await;
        let file = upload_with_big_item(&jobs, json, padding).await;
        let job = run(
            &jobs,
            JobSpec::Import {
                namespace_id: ns.clone(),
                file,
                collision: Collision::Overwrite,
                format: ImportFormat::Auto,
            },
        )
        .await;
        assert_eq!((job.status, job.total, job.processed, job.errors), (JobStatus::Completed, 3, 3, 1), "{job:?}");
        assert_eq!(job.failures.len(), 1);
        let failure = &job.failures[0];
        assert_eq!(failure.key, place);
        assert!(
            failure.reason.starts_with(&format!("{place}: "))
                && failure
                    .reason
                    .contains(&format!("over the limit of {} bytes", domain::limits::MAX_IMPORT_ITEM_BYTES)),
            "{failure:?}"
        );
        let a = f.kv.get_key(&me(), &ns, "a").await.unwrap();
        let b = f.kv.get_key(&me(), &ns, "b").await.unwrap();
        assert_eq!((a.value.as_slice(), b.value.as_slice()), (&b"1"[..], &b"2"[..]));
        assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 2, "the big item is not written");
        // With collision=fail the same file writes nothing, and says which item.
        let file = upload_with_big_item(&jobs, json, padding).await;
        let empty = namespace(f, &format!("oversize-fail-{json}")).await;
        let job = run(
            &jobs,
            JobSpec::Import {
                namespace_id: empty.clone(),
                file,
                collision: Collision::Fail,
                format: ImportFormat::Auto,
            },
        )
        .await;
        assert_eq!(job.status, JobStatus::Failed);
        assert!(job.error_message.as_deref().unwrap_or_default().contains(place), "{job:?}");
        assert_eq!(common::reader(&f.kv, &empty).await.count_keys("").await.unwrap(), 0);
    }
    // An item of a valid size is not refused by the bound: a 2 MiB value, escaped 6 times over.
    let ns = namespace(f, "escaped").await;
    let text = format!("{{\"name\":\"e\",\"value\":\"{}\"}}\n", "\\u0041".repeat(2 * 1024 * 1024));
    let file = import_file(&jobs, &text).await;
    let job = run(
        &jobs,
        JobSpec::Import { namespace_id: ns.clone(), file, collision: Collision::Overwrite, format: ImportFormat::Auto },
    )
    .await;
    assert_eq!((job.status, job.errors), (JobStatus::Completed, 0), "{job:?}");
    assert_eq!(f.kv.get_key(&me(), &ns, "e").await.unwrap().value.len(), 2 * 1024 * 1024);
}

async fn a_job_over_thousands_of_listed_keys_is_listed_fetched_and_watched_without_the_list(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let ns = namespace(f, "listed").await;
    // 5,000 names of 100 bytes: half a megabyte of list.
    let names: Vec<String> = (0..5000).map(|i| format!("{i:05}-{}", "n".repeat(94))).collect();
    let puts: Vec<PutKey> = names.iter().map(|n| put(n, "v")).collect();
    for chunk in puts.chunks(1000) {
        f.kv.put_many(&me(), &ns, chunk.to_vec()).await.unwrap();
    }
    let small = |what: &str, value: &dyn erased::Json| {
        let bytes = value.json_len();
        assert!(bytes < 4096, "{what} is {bytes} bytes of JSON: the list of keys went along");
    };
    let first = engine(f, dir.path(), "a");
    let halted = std::sync::Arc::new(tokio::sync::Notify::new());
    first.set_fault_for_tests(Some(Fault::HaltBefore { batch: 3, reached: halted.clone() }));
    let spec = JobSpec::BulkDelete {
        namespace_id: ns.clone(),
        selection: Selection { keys: Some(names.clone()), prefix: None },
    };
    let started = first.start(&me(), spec).await.unwrap();
    small("the job as started", &started);
    assert_eq!(started.params["selection"]["key_count"], 5000, "{:?}", started.params);
    let mut rx = first.subscribe(&started.id).expect("running here");
    small("the job as watched", &rx.borrow_and_update().clone());
    reached(&halted).await;
    small("the job as watched", &rx.borrow().clone());
    small("the job as fetched", &first.get(&started.id).await.unwrap());
    let page = first.list(&me(), &domain::jobs::JobQuery::default()).await.unwrap();
    small("the job list", &page);
    assert_eq!(
        common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(),
        3000,
        "two batches deleted before the halt"
    );

    // Another run of the server: the job is interrupted, resumed from its list, and ends.
    let second = engine(f, dir.path(), "a");
    assert_eq!(second.recover().await.unwrap(), 1);
    let resumed = second.resume(&me(), &started.id).await.unwrap();
    small("the job as resumed", &resumed);
    let done = ended(&second, &started.id).await;
    assert_eq!((done.status, done.total, done.processed, done.skipped), (JobStatus::Completed, 5000, 5000, 0));
    small("the job as ended", &done);
    small("the job list", &second.list(&me(), &domain::jobs::JobQuery::default()).await.unwrap());
    small("the job's events", &second.events(&started.id).await.unwrap());
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 0);
}

/// JSON sizes of the values a client is sent.
mod erased {
    pub trait Json {
        fn json_len(&self) -> usize;
    }
    impl<T: serde::Serialize> Json for T {
        fn json_len(&self) -> usize {
            serde_json::to_string(self).map(|s| s.len()).unwrap_or(usize::MAX)
        }
    }
}

/// A value of `size` bytes of text, its own for each `i`.
fn big_value(i: usize, size: usize) -> String {
    let seed = format!("value {i:03} ");
    seed.repeat(size / seed.len() + 1)[..size].to_owned()
}

async fn large_values_are_read_a_byte_budget_at_a_time_by_exports_copies_and_moves(f: &Fixture) {
    const SIZE: usize = 5 * 1024 * 1024;
    const KEYS: usize = 16;
    let budget = domain::limits::BATCH_BYTES;
    let per_batch = budget / SIZE;
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "large-values").await;
    let names: Vec<String> = (0..KEYS).map(|i| format!("big/{i:03}")).collect();
    for (i, name) in names.iter().enumerate() {
        f.kv.put_key(&me(), &ns, put(name, &big_value(i, SIZE))).await.unwrap();
    }
    f.kv.put_key(&me(), &ns, put("small", "s")).await.unwrap();

    // One read of the store stops at the budget and says so; the next goes on after it.
    let first = common::reader(&f.kv, &ns).await.scan("", None, None, 2500, budget).await.unwrap();
    assert!(first.cut && first.keys.len() == per_batch, "{} keys, cut {}", first.keys.len(), first.cut);
    let last = first.keys.last().unwrap().name.clone();
    let next = common::reader(&f.kv, &ns).await.scan("", Some(&last), None, 2500, budget).await.unwrap();
    assert_eq!(next.keys.first().map(|k| k.name.as_str()), Some(names[per_batch].as_str()));
    // One key past the budget comes alone.
    let alone = common::reader(&f.kv, &ns).await.scan("", None, None, 2500, 1).await.unwrap();
    assert_eq!((alone.keys.len(), alone.cut), (1, true));

    // Exports: every key once, in order, whole, over pages the budget cut short.
    for format in [ExportFormat::Ndjson, ExportFormat::Json] {
        let job = run(&jobs, JobSpec::Export { namespace_id: ns.clone(), format, prefix: None }).await;
        assert_eq!((job.status, job.processed), (JobStatus::Completed, KEYS as u64 + 1), "{job:?}");
        let text = std::fs::read_to_string(jobs.export_file(&job.id).await.unwrap().path).unwrap();
        let items: Vec<serde_json::Value> = match format {
            ExportFormat::Json => serde_json::from_str(&text).expect("one JSON array"),
            ExportFormat::Ndjson => text.lines().map(|l| serde_json::from_str(l).expect("a JSON line")).collect(),
        };
        assert_eq!(items.len(), KEYS + 1, "{format:?}");
        for (i, name) in names.iter().enumerate() {
            assert_eq!(items[i]["name"], name.as_str(), "{format:?}");
            assert!(items[i]["value"].as_str() == Some(big_value(i, SIZE).as_str()), "{format:?}: {name}'s value");
        }
        assert_eq!((items[KEYS]["name"].as_str(), items[KEYS]["value"].as_str()), (Some("small"), Some("s")));
    }

    // Copies and moves, by prefix and by list: each batch (one write, one audit row) holds at most
    // the budget's worth of values.
    let audit = domain::audit::Audit::new(f.db.conn.clone());
    let selections = [("prefix", prefix("big/")), ("list", Selection { keys: Some(names.clone()), prefix: None })];
    for (how, selection) in selections {
        for moving in [false, true] {
            let source = if moving { namespace(f, &format!("move-from-{how}")).await } else { ns.clone() };
            if moving {
                let copy = JobSpec::BulkCopy {
                    namespace_id: ns.clone(),
                    selection: selection.clone(),
                    target_namespace_id: source.clone(),
                    overwrite: true,
                };
                assert_eq!(run(&jobs, copy).await.status, JobStatus::Completed);
            }
            let target = namespace(f, &format!("target-{how}-{moving}")).await;
            let spec = if moving {
                JobSpec::BulkMove {
                    namespace_id: source.clone(),
                    selection: selection.clone(),
                    target_namespace_id: target.clone(),
                    overwrite: false,
                }
            } else {
                JobSpec::BulkCopy {
                    namespace_id: source.clone(),
                    selection: selection.clone(),
                    target_namespace_id: target.clone(),
                    overwrite: false,
                }
            };
            let job = run(&jobs, spec).await;
            assert_eq!((job.status, job.processed, job.errors), (JobStatus::Completed, KEYS as u64, 0), "{job:?}");
            let query = domain::audit::AuditQuery {
                namespace_ids: vec![target.clone()],
                limit: Some(1000),
                ..Default::default()
            };
            let writes: Vec<u64> = audit
                .list(&query)
                .await
                .unwrap()
                .entries
                .iter()
                .filter(|e| e.operation.starts_with("key"))
                .map(|e| if e.key.is_some() { 1 } else { e.details["count"].as_u64().unwrap_or(0) })
                .collect();
            assert_eq!(writes.iter().sum::<u64>(), KEYS as u64, "{how} {moving}: {writes:?}");
            assert!(
                writes.iter().all(|&n| n as usize <= per_batch),
                "{how} {moving}: batches of {writes:?} keys of 5 MiB, past the budget of {budget} bytes"
            );
            for (i, name) in names.iter().enumerate().step_by(5) {
                let copied = f.kv.get_key(&me(), &target, name).await.unwrap();
                assert!(copied.value == big_value(i, SIZE).into_bytes(), "{how} {moving}: {name}");
            }
            if moving {
                assert_eq!(common::reader(&f.kv, &source).await.count_keys("big/").await.unwrap(), 0);
            }
        }
    }
}

async fn a_shutdown_interrupts_running_and_queued_jobs_and_refuses_new_ones(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = Jobs::new(
        f.kv.clone(),
        f.db.conn.clone(),
        JobsConfig { max_jobs: 1, data_dir: dir.path().to_owned(), export_ttl_hours: 1, instance_id: "a".into() },
    );
    let ns = namespace(f, "shutdown").await;
    fill(&f.kv, &ns, "k", 20_000).await;
    let ttl = |change| JobSpec::BulkTtl { namespace_id: ns.clone(), selection: prefix(""), change };
    let first = jobs.start(&me(), ttl(TtlChange::Ttl(3600))).await.unwrap();
    let second = jobs.start(&me(), ttl(TtlChange::Remove)).await.unwrap();
    let mut rx = loop {
        if let Some(rx) = jobs.subscribe(&first.id) {
            break rx;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    while rx.borrow().processed == 0 {
        rx.changed().await.unwrap();
    }
    let mut closing = jobs.closing();
    assert!(!*closing.borrow());
    let interrupted = jobs.shutdown(Duration::from_secs(30)).await.unwrap();
    assert_eq!(interrupted, 2);
    assert!(*closing.borrow_and_update(), "closing turns true once the jobs stopped");
    let first = jobs.get(&first.id).await.unwrap();
    assert_eq!(first.status, JobStatus::Interrupted);
    assert!(first.processed > 0 && first.processed < 20_000, "stopped at a batch: {}", first.processed);
    assert!(first.error_message.as_deref().unwrap().contains("shut down"), "{:?}", first.error_message);
    let second = jobs.get(&second.id).await.unwrap();
    assert_eq!((second.status, second.processed), (JobStatus::Interrupted, 0), "the queued job never ran");
    // Nothing starts or resumes during a shutdown: 503, the caller tries again later or elsewhere.
    let refused = jobs.start(&me(), ttl(TtlChange::Remove)).await.unwrap_err();
    assert_eq!(refused.status(), 503, "{refused}");
    let refused = jobs.resume(&me(), &first.id).await.unwrap_err();
    assert_eq!(refused.status(), 503, "{refused}");

    // Another engine (the server started again) resumes both to their end.
    let again = Jobs::new(
        f.kv.clone(),
        f.db.conn.clone(),
        JobsConfig { max_jobs: 1, data_dir: dir.path().to_owned(), export_ttl_hours: 1, instance_id: "a".into() },
    );
    again.resume(&me(), &first.id).await.unwrap();
    let done = ended(&again, &first.id).await;
    assert_eq!((done.status, done.processed), (JobStatus::Completed, 20_000));
    again.resume(&me(), &second.id).await.unwrap();
    assert_eq!(ended(&again, &second.id).await.status, JobStatus::Completed);
}

async fn a_job_still_running_when_the_grace_runs_out_is_marked_interrupted(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path(), "a");
    let ns = namespace(f, "grace").await;
    fill(&f.kv, &ns, "k", 3_000).await;
    let notify = std::sync::Arc::new(tokio::sync::Notify::new());
    // A job stuck in a batch (a write that hangs) never reaches its checkpoint.
    jobs.set_fault_for_tests(Some(Fault::HaltBefore { batch: 2, reached: notify.clone() }));
    let job = jobs
        .start(&me(), JobSpec::BulkTtl { namespace_id: ns.clone(), selection: prefix(""), change: TtlChange::Ttl(60) })
        .await
        .unwrap();
    reached(&notify).await;
    let started = std::time::Instant::now();
    assert_eq!(jobs.shutdown(Duration::from_millis(300)).await.unwrap(), 1);
    assert!(started.elapsed() < Duration::from_secs(10), "the shutdown waited {:?}", started.elapsed());
    // As the database has it (this engine's memory still has the stuck task running; the process
    // would end here).
    let stuck = engine(f, dir.path(), "b").get(&job.id).await.unwrap();
    assert_eq!(stuck.status, JobStatus::Interrupted);
    assert!(stuck.error_message.as_deref().unwrap().contains("shut down"), "{:?}", stuck.error_message);
}
