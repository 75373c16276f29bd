//! Previews and undo of bulk jobs, on SQLite and (with `KVM_TEST_POSTGRES_URL`) PostgreSQL: each
//! bulk job's dry run counts what it would do and writes nothing; a bulk delete undone leaves
//! the namespace byte-identical to its export from before, and undoing the undo redoes it; keys
//! changed since the job are left alone and named; a move is undone in both namespaces; a TTL
//! change is undone; what cannot be undone is refused, naming `job_id`.

mod common;

use common::{Fixture, assert_err_status, engine, export, me, namespace, put, run};
use domain::catalog::TagOperation;
use domain::jobs::{JobSpec, JobStatus, Selection, TtlChange};
use domain::{Actor, Kv, PutKey, Role, Source, VersionRetention, now_unix};
use serde_json::json;

both!(
    a_bulk_preview_counts_what_each_job_would_do_and_writes_nothing,
    a_bulk_delete_undone_leaves_the_namespace_as_before_and_undoing_the_undo_redoes_it,
    keys_changed_since_a_copy_are_left_alone_and_named,
    a_move_and_a_ttl_change_are_undone,
    what_cannot_be_undone_is_refused,
);

fn name(i: usize) -> String {
    format!("k{i:05}")
}

/// `n` keys: some with metadata, some with an expiration.
async fn fill(kv: &Kv, ns: &str, n: usize) {
    let expiration = now_unix() + 30 * 86_400;
    let puts: Vec<PutKey> = (0..n)
        .map(|i| PutKey {
            metadata: (i % 2 == 0).then(|| json!({ "n": i })),
            expiration: (i % 5 == 0).then_some(expiration),
            ..put(&name(i), &format!("value {i}"))
        })
        .collect();
    kv.put_many(&me(), ns, puts).await.unwrap();
}

fn prefix(prefix: &str) -> Selection {
    Selection { keys: None, prefix: Some(prefix.to_owned()) }
}

fn keys(names: &[&str]) -> Selection {
    Selection { keys: Some(names.iter().map(|n| (*n).to_owned()).collect()), prefix: None }
}

async fn undo(jobs: &domain::jobs::Jobs, job_id: &str) -> domain::jobs::Job {
    let started = jobs.start_undo(&me(), job_id).await.expect("undo starts");
    common::wait(jobs, &started.id).await
}

async fn value(kv: &Kv, ns: &str, key: &str) -> Option<String> {
    kv.get_key(&me(), ns, key).await.ok().map(|k| String::from_utf8(k.value).unwrap())
}

async fn a_bulk_preview_counts_what_each_job_would_do_and_writes_nothing(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let from = namespace(f, "plan-from").await;
    let to = namespace(f, "plan-to").await;
    f.kv.put_many(&me(), &from, vec![put("a", "value of a"), put("b", "value of b"), put("c", "value of c")])
        .await
        .unwrap();
    f.kv.put_key(&me(), &to, put("b", "old")).await.unwrap();
    let tag = |names: &[&str], tags: &[&str]| JobSpec::BulkTag {
        namespace_id: from.clone(),
        selection: keys(names),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        operation: TagOperation::Add,
    };
    assert_eq!(run(&jobs, tag(&["c"], &["t"])).await.status, JobStatus::Completed);
    let before = (export(&jobs, &from).await, export(&jobs, &to).await);
    let names = |list: &[String]| list.iter().map(String::as_str).collect::<Vec<_>>().join(",");

    let plan = jobs
        .preview_bulk(&me(), &JobSpec::BulkDelete { namespace_id: from.clone(), selection: keys(&["a", "zz"]) })
        .await
        .unwrap();
    assert_eq!((plan.counts.deleted, plan.counts.skipped), (1, 1), "{plan:?}");
    assert_eq!((names(&plan.deleted), names(&plan.skipped)), ("a".into(), "zz".into()));
    let plan = jobs
        .preview_bulk(&me(), &JobSpec::BulkDelete { namespace_id: from.clone(), selection: prefix("") })
        .await
        .unwrap();
    assert_eq!((plan.counts.deleted, names(&plan.deleted)), (3, "a,b,c".into()), "{plan:?}");

    let transfer = |moving: bool, overwrite: bool| {
        let (namespace_id, selection, target_namespace_id) = (from.clone(), prefix(""), to.clone());
        if moving {
            JobSpec::BulkMove { namespace_id, selection, target_namespace_id, overwrite }
        } else {
            JobSpec::BulkCopy { namespace_id, selection, target_namespace_id, overwrite }
        }
    };
    let plan = jobs.preview_bulk(&me(), &transfer(false, false)).await.unwrap();
    assert_eq!((names(&plan.created), names(&plan.skipped), plan.counts.changed), ("a,c".into(), "b".into(), 0));
    assert!(plan.changes.is_empty());
    let plan = jobs.preview_bulk(&me(), &transfer(false, true)).await.unwrap();
    assert_eq!((names(&plan.created), names(&plan.changed), plan.counts.skipped), ("a,c".into(), "b".into(), 0));
    assert_eq!(plan.changes.len(), 1, "{plan:?}");
    assert_eq!(
        (plan.changes[0].before.as_deref(), plan.changes[0].after.as_deref()),
        (Some("old"), Some("value of b")),
        "the target's value now, and the one the copy writes"
    );
    let plan = jobs.preview_bulk(&me(), &transfer(true, false)).await.unwrap();
    assert_eq!(
        (names(&plan.created), names(&plan.deleted), names(&plan.skipped)),
        ("a,c".into(), "a,c".into(), "b".into())
    );
    assert_eq!(plan.job_type, "bulk_move");

    let spec =
        JobSpec::BulkTtl { namespace_id: from.clone(), selection: keys(&["a", "zz"]), change: TtlChange::Ttl(600) };
    let plan = jobs.preview_bulk(&me(), &spec).await.unwrap();
    assert_eq!((names(&plan.changed), names(&plan.skipped)), ("a".into(), "zz".into()), "{plan:?}");
    let plan = jobs.preview_bulk(&me(), &tag(&["a", "b", "c"], &["t"])).await.unwrap();
    assert_eq!((names(&plan.changed), names(&plan.skipped)), ("a,b".into(), "c".into()), "c has the tag already");

    // Checked as the job is: the same refusals, naming the same fields.
    let spec = JobSpec::BulkTtl { namespace_id: from.clone(), selection: prefix(""), change: TtlChange::Ttl(5) };
    assert_err_status(jobs.preview_bulk(&me(), &spec).await, "invalid_input", 400, "expiration_ttl");
    let same = JobSpec::BulkCopy {
        namespace_id: from.clone(),
        selection: prefix(""),
        target_namespace_id: from.clone(),
        overwrite: false,
    };
    assert_err_status(jobs.preview_bulk(&me(), &same).await, "invalid_input", 400, "target_namespace_id");
    let spec = JobSpec::Export { namespace_id: from.clone(), format: domain::jobs::ExportFormat::Ndjson, prefix: None };
    assert_err_status(jobs.preview_bulk(&me(), &spec).await, "invalid_input", 400, "dry_run");
    let reader = Actor::new("reader@example.com", Source::Console, Role::ReadOnly);
    let spec = JobSpec::BulkDelete { namespace_id: from.clone(), selection: prefix("") };
    assert_eq!(jobs.preview_bulk(&reader, &spec).await.unwrap_err().status(), 403);

    assert!((export(&jobs, &from).await, export(&jobs, &to).await) == before, "previews wrote nothing");
}

async fn a_bulk_delete_undone_leaves_the_namespace_as_before_and_undoing_the_undo_redoes_it(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "undo-delete").await;
    // More keys than one batch: the undo walks pages.
    fill(&f.kv, &ns, 1200).await;
    let before = export(&jobs, &ns).await;
    let deleted = run(&jobs, JobSpec::BulkDelete { namespace_id: ns.clone(), selection: prefix("k00") }).await;
    assert_eq!((deleted.status, deleted.processed), (JobStatus::Completed, 1000), "{deleted:?}");
    let emptied = export(&jobs, &ns).await;

    let preview = jobs.preview_undo(&me(), &deleted.id).await.unwrap();
    let counts = &preview.counts;
    assert_eq!((counts.created, counts.changed, counts.deleted, counts.incomplete), (1000, 0, 0, 0), "{preview:?}");
    assert_eq!((preview.changed_since_count, preview.complete), (0, true));
    assert_eq!(preview.created, (0..20).map(name).collect::<Vec<_>>());
    assert_eq!(preview.job_type, "bulk_delete");
    assert_eq!(export(&jobs, &ns).await, emptied, "the preview wrote nothing");

    let undone = undo(&jobs, &deleted.id).await;
    assert_eq!(
        (undone.status, undone.errors, undone.job_type.as_str()),
        (JobStatus::Completed, 0, "undo"),
        "{undone:?}"
    );
    assert_eq!((undone.total, undone.processed), (1000, 1000), "{undone:?}");
    assert_eq!(undone.result.as_ref().unwrap()["undone_job_id"], json!(deleted.id));
    assert!(export(&jobs, &ns).await == before, "after the undo the export is byte-identical to the one from before");
    assert_eq!(common::reader(&f.kv, &ns).await.get().await.unwrap().key_count, 1200, "the counters follow");

    // The undo is a job like any other: undoing it deletes the keys again.
    let redo = jobs.preview_undo(&me(), &undone.id).await.unwrap();
    assert_eq!((redo.counts.deleted, redo.counts.created), (1000, 0), "{redo:?}");
    let redone = undo(&jobs, &undone.id).await;
    assert_eq!(redone.status, JobStatus::Completed, "{redone:?}");
    assert!(export(&jobs, &ns).await == emptied, "undoing the undo deletes the keys again");
}

async fn keys_changed_since_a_copy_are_left_alone_and_named(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let from = namespace(f, "undo-copy-from").await;
    let to = namespace(f, "undo-copy-to").await;
    f.kv.put_many(&me(), &from, vec![put("a", "1"), put("b", "1"), put("c", "1"), put("d", "1")]).await.unwrap();
    f.kv.put_many(&me(), &to, vec![put("b", "old"), put("keep", "mine")]).await.unwrap();
    let spec = JobSpec::BulkCopy {
        namespace_id: from.clone(),
        selection: keys(&["a", "b", "c", "d"]),
        target_namespace_id: to.clone(),
        overwrite: true,
    };
    let copied = run(&jobs, spec).await;
    assert_eq!(copied.status, JobStatus::Completed, "{copied:?}");
    // After the copy: c is written again, d deleted.
    f.kv.put_key(&me(), &to, put("c", "changed since")).await.unwrap();
    f.kv.delete_many(&me(), &to, &["d".to_owned()]).await.unwrap();

    let preview = jobs.preview_undo(&me(), &copied.id).await.unwrap();
    assert_eq!((preview.counts.deleted, preview.counts.changed, preview.counts.created), (1, 1, 0), "{preview:?}");
    assert_eq!((preview.deleted.clone(), preview.changed.clone()), (vec!["a".to_owned()], vec!["b".to_owned()]));
    assert_eq!((preview.changed_since_count, preview.changed_since.clone()), (2, vec!["c".to_owned(), "d".to_owned()]));
    assert!(!preview.complete);
    assert_eq!(preview.changes.len(), 1, "{preview:?}");
    assert_eq!(
        (preview.changes[0].before.as_deref(), preview.changes[0].after.as_deref()),
        (Some("1"), Some("old")),
        "the value now, and the one the undo writes back"
    );

    let undone = undo(&jobs, &copied.id).await;
    assert_eq!((undone.status, undone.errors), (JobStatus::Completed, 2), "{undone:?}");
    let failures: Vec<(&str, bool)> =
        undone.failures.iter().map(|f| (f.key.as_str(), f.reason.contains("changed again since"))).collect();
    assert_eq!(failures, [("c", true), ("d", true)]);
    assert_eq!(undone.result.as_ref().unwrap()["complete"], json!(false));
    assert_eq!(value(&f.kv, &to, "a").await, None, "created by the copy: gone");
    assert_eq!(value(&f.kv, &to, "b").await.as_deref(), Some("old"), "overwritten by the copy: back");
    assert_eq!(value(&f.kv, &to, "c").await.as_deref(), Some("changed since"), "left alone");
    assert_eq!(value(&f.kv, &to, "d").await, None, "left alone");
    assert_eq!(value(&f.kv, &to, "keep").await.as_deref(), Some("mine"), "not the job's: untouched");
    assert_eq!(value(&f.kv, &from, "a").await.as_deref(), Some("1"), "the source was only read");
}

async fn a_move_and_a_ttl_change_are_undone(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let from = namespace(f, "undo-move-from").await;
    let to = namespace(f, "undo-move-to").await;
    fill(&f.kv, &from, 30).await;
    let before_from = export(&jobs, &from).await;
    let before_to = export(&jobs, &to).await;
    let spec = JobSpec::BulkMove {
        namespace_id: from.clone(),
        selection: prefix("k0001"),
        target_namespace_id: to.clone(),
        overwrite: false,
    };
    let moved = run(&jobs, spec).await;
    assert_eq!((moved.status, moved.processed), (JobStatus::Completed, 10), "{moved:?}");
    let preview = jobs.preview_undo(&me(), &moved.id).await.unwrap();
    assert_eq!((preview.counts.created, preview.counts.deleted), (10, 10), "back in one, gone from the other");
    let undone = undo(&jobs, &moved.id).await;
    assert_eq!((undone.status, undone.errors, undone.total), (JobStatus::Completed, 0, 20), "{undone:?}");
    assert!(export(&jobs, &from).await == before_from, "the source is as before");
    assert!(export(&jobs, &to).await == before_to, "the target is as before");

    let spec = JobSpec::BulkTtl { namespace_id: from.clone(), selection: prefix("k"), change: TtlChange::Ttl(3600) };
    let ttl = run(&jobs, spec).await;
    assert_eq!(ttl.status, JobStatus::Completed, "{ttl:?}");
    assert!(f.kv.get_key(&me(), &from, &name(1)).await.unwrap().expiration.is_some());
    let preview = jobs.preview_undo(&me(), &ttl.id).await.unwrap();
    assert_eq!(preview.counts.changed, 30, "{preview:?}");
    let undone = undo(&jobs, &ttl.id).await;
    assert_eq!((undone.status, undone.errors), (JobStatus::Completed, 0), "{undone:?}");
    assert!(export(&jobs, &from).await == before_from, "expirations as before");
}

async fn what_cannot_be_undone_is_refused(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "undo-refused").await;
    f.kv.put_many(&me(), &ns, vec![put("a", "1")]).await.unwrap();
    let tagged = run(
        &jobs,
        JobSpec::BulkTag {
            namespace_id: ns.clone(),
            selection: keys(&["a"]),
            tags: vec!["t".into()],
            operation: TagOperation::Add,
        },
    )
    .await;
    assert_err_status(jobs.preview_undo(&me(), &tagged.id).await, "invalid_input", 400, "job_id");
    assert_err_status(jobs.start_undo(&me(), &tagged.id).await, "invalid_input", 400, "job_id");
    let exported = export(&jobs, &ns).await;
    assert!(!exported.is_empty());
    let missing = jobs.preview_undo(&me(), "bulk_delete-nosuchjob").await.unwrap_err();
    assert_eq!(missing.status(), 404, "{missing}");

    // A delete of keys that do not exist wrote nothing: nothing to undo.
    let nothing = run(&jobs, JobSpec::BulkDelete { namespace_id: ns.clone(), selection: keys(&["zz"]) }).await;
    let preview = jobs.preview_undo(&me(), &nothing.id).await.unwrap();
    assert_eq!(preview.counts, Default::default());
    assert_err_status(jobs.start_undo(&me(), &nothing.id).await, "conflict", 409, "job_id");

    let deleted = run(&jobs, JobSpec::BulkDelete { namespace_id: ns.clone(), selection: keys(&["a"]) }).await;
    let reader = Actor::new("reader@example.com", Source::Console, Role::ReadOnly);
    assert_eq!(jobs.preview_undo(&reader, &deleted.id).await.unwrap_err().status(), 403);
    let other = Actor::new("other@example.com", Source::Console, Role::User);
    let hidden = jobs.start_undo(&other, &deleted.id).await.unwrap_err();
    assert_eq!(hidden.status(), 404, "another user's job is not theirs to see: {hidden}");
    // Through the generic start, too.
    let spec = JobSpec::Undo { namespace_id: ns.clone(), job_id: tagged.id.clone() };
    assert_err_status(jobs.start(&me(), spec).await, "invalid_input", 400, "job_id");
    assert_eq!(value(&f.kv, &ns, "a").await, None, "nothing was undone");

    // Once the job is older than the version retention, what it wrote is forgotten with the
    // versions: nothing is left to undo.
    assert_eq!(jobs.preview_undo(&me(), &deleted.id).await.unwrap().counts.created, 1);
    let finished = deleted.finished_at.expect("finished");
    while now_unix() <= finished {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    f.kv.prune_versions(VersionRetention { keep: 10, keep_days: 0 }).await.unwrap();
    assert_eq!(jobs.preview_undo(&me(), &deleted.id).await.unwrap().counts, Default::default());
    assert_err_status(jobs.start_undo(&me(), &deleted.id).await, "conflict", 409, "job_id");

    // A namespace a job wrote in is deleted with what was recorded of the job's writes there.
    let other = namespace(f, "undo-dropped").await;
    f.kv.put_key(&me(), &other, put("x", "1")).await.unwrap();
    let dropped = run(&jobs, JobSpec::BulkDelete { namespace_id: other.clone(), selection: keys(&["x"]) }).await;
    assert_eq!(jobs.preview_undo(&me(), &dropped.id).await.unwrap().counts.created, 1);
    f.kv.delete_namespace(&me(), &other).await.unwrap();
    assert_eq!(f.kv.count_undo_keys(&dropped.id).await.unwrap(), 0);
}
