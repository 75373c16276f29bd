//! Who may do what: read-only users, job visibility, and protected namespaces, on both databases.

mod common;

use common::{Fixture, me, namespace, put};
use domain::audit::{Audit, AuditQuery};
use domain::catalog::TagOperation;
use domain::jobs::{ExportFormat, JobQuery, JobSpec, JobStatus, Jobs, JobsConfig, Selection};
use domain::{Actor, DomainError, Kv, NamespaceQuery, Role, SearchQuery, Source};

both!(
    a_read_only_user_reads_but_every_change_is_refused,
    users_see_their_own_jobs_and_admins_see_all,
    protected_namespaces_are_absent_from_the_console_but_not_from_kevi,
    a_namespace_is_reached_only_through_an_access_checked_handle,
);

fn user(name: &str, role: Role) -> Actor {
    Actor::new(name, Source::Console, role)
}

fn engine(kv: Kv, f: &Fixture, dir: &std::path::Path) -> Jobs {
    Jobs::new(
        kv,
        f.db.conn.clone(),
        JobsConfig { max_jobs: 2, data_dir: dir.to_owned(), export_ttl_hours: 24, instance_id: "test".into() },
    )
}

fn all() -> Selection {
    Selection { keys: None, prefix: Some(String::new()) }
}

fn assert_forbidden<T: std::fmt::Debug>(result: Result<T, DomainError>, what: &str) {
    match result {
        Err(err @ DomainError::Forbidden { .. }) => {
            assert_eq!(err.status(), 403, "{what}");
            assert!(err.to_string().contains("read-only"), "{what}: {err}");
        }
        other => panic!("{what}: expected 403, got {other:?}"),
    }
}

fn assert_absent<T: std::fmt::Debug>(result: Result<T, DomainError>, what: &str) {
    match result {
        Err(err @ DomainError::NotFound { .. }) => assert_eq!(err.status(), 404, "{what}"),
        other => panic!("{what}: expected 404, got {other:?}"),
    }
}

async fn a_read_only_user_reads_but_every_change_is_refused(f: &Fixture) {
    let ns = namespace(f, "shared").await;
    f.kv.put_key(&me(), &ns, put("k", "v")).await.unwrap();
    let reader = user("reader@example.com", Role::ReadOnly);
    let audit_rows = || async {
        Audit::new(f.db.conn.clone())
            .list(&AuditQuery { users: vec!["reader@example.com".into()], ..Default::default() })
            .await
            .unwrap()
            .entries
            .len()
    };

    assert_eq!(f.kv.get_key(&reader, &ns, "k").await.unwrap().value, b"v");
    assert_eq!(f.kv.list_namespaces(&reader, NamespaceQuery::default()).await.unwrap().total, 1);
    assert_forbidden(f.kv.create_namespace(&reader, "mine").await, "create namespace");
    assert_forbidden(f.kv.rename_namespace(&reader, &ns, "renamed").await, "rename namespace");
    assert_forbidden(f.kv.delete_namespace(&reader, &ns).await, "delete namespace");
    assert_forbidden(f.kv.put_key(&reader, &ns, put("k", "changed")).await, "put key");
    assert_forbidden(f.kv.delete_key(&reader, &ns, "k").await, "delete key");
    assert_forbidden(f.kv.put_key_details(&reader, &ns, "k", Some(vec!["t".into()]), None).await, "put details");
    assert_forbidden(
        f.kv.apply_tags(&reader, &ns, &["k".into()], &["t".into()], TagOperation::Add).await,
        "apply tags",
    );
    assert_forbidden(f.kv.set_expiration(&reader, &ns, &["k".into()], None).await, "set expiration");

    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f.kv.clone(), f, dir.path());
    assert_forbidden(
        jobs.start(&reader, JobSpec::BulkDelete { namespace_id: ns.clone(), selection: all() }).await,
        "bulk delete",
    );
    // An export only reads.
    let export = jobs
        .start(&reader, JobSpec::Export { namespace_id: ns.clone(), format: ExportFormat::Ndjson, prefix: None })
        .await
        .unwrap();
    assert_eq!(common::wait(&jobs, &export.id).await.status, JobStatus::Completed);
    // Their own job is theirs to stop: the only refusal is that it has already ended.
    assert!(matches!(jobs.cancel(&reader, &export.id).await, Err(DomainError::Conflict { .. })));

    // Nothing changed, and no audit row claims a change by the reader, but their export.
    assert_eq!(f.kv.get_key(&me(), &ns, "k").await.unwrap().value, b"v");
    assert_eq!(f.kv.get_namespace(&me(), &ns).await.unwrap().title, "shared");
    assert_eq!(audit_rows().await, 2, "job.start and job.completed of the export only");
}

async fn users_see_their_own_jobs_and_admins_see_all(f: &Fixture) {
    let ns = namespace(f, "jobs").await;
    f.kv.put_key(&me(), &ns, put("k", "v")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f.kv.clone(), f, dir.path());
    let alice = user("alice@example.com", Role::User);
    let bob = user("bob@example.com", Role::User);
    let admin = user("root@example.com", Role::Admin);
    let export = |who: Actor| {
        let (jobs, ns) = (jobs.clone(), ns.clone());
        async move {
            let job = jobs
                .start(&who, JobSpec::Export { namespace_id: ns, format: ExportFormat::Json, prefix: None })
                .await
                .unwrap();
            common::wait(&jobs, &job.id).await
        }
    };
    let of_alice = export(alice.clone()).await;
    let of_bob = export(bob.clone()).await;

    assert_eq!(jobs.visible(&alice, &of_alice.id).await.unwrap().id, of_alice.id);
    assert_absent(jobs.visible(&alice, &of_bob.id).await, "bob's job seen by alice");
    assert_absent(jobs.cancel(&alice, &of_bob.id).await, "bob's job cancelled by alice");
    assert_eq!(jobs.visible(&admin, &of_bob.id).await.unwrap().id, of_bob.id);

    let ids = |page: domain::jobs::JobPage| page.jobs.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(ids(jobs.list(&alice, &JobQuery::default()).await.unwrap()), [of_alice.id.as_str()]);
    let asking_for_bob = JobQuery { created_by: Some("bob@example.com".into()), ..Default::default() };
    assert!(ids(jobs.list(&alice, &asking_for_bob).await.unwrap()).is_empty());
    assert_eq!(ids(jobs.list(&admin, &asking_for_bob).await.unwrap()), [of_bob.id.as_str()]);
    assert_eq!(jobs.list(&admin, &JobQuery::default()).await.unwrap().jobs.len(), 2);
}

async fn protected_namespaces_are_absent_from_the_console_but_not_from_kevi(f: &Fixture) {
    let open = namespace(f, "open").await;
    let by_title = namespace(f, "payroll").await;
    let by_id = namespace(f, "secrets").await;
    for ns in [&open, &by_title, &by_id] {
        f.kv.put_key(&me(), ns, put("shared-key", "v")).await.unwrap();
        f.kv.put_key_details(&me(), ns, "shared-key", Some(vec![format!("tag-{ns}")]), None).await.unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    // Jobs recorded before the policy applies (by the CLI, say) must vanish too.
    let jobs_before = engine(f.kv.clone(), f, dir.path());
    let cli = Actor::new("operator", Source::Cli, Role::Admin);
    let hidden_job = jobs_before
        .start(&cli, JobSpec::Export { namespace_id: by_id.clone(), format: ExportFormat::Json, prefix: None })
        .await
        .unwrap();
    common::wait(&jobs_before, &hidden_job.id).await;

    let kv = f.kv.clone().with_protected(vec!["payroll".into(), by_id.clone(), "no-such-namespace".into()]);
    let jobs = engine(kv.clone(), f, dir.path());
    let admin = user("root@example.com", Role::Admin);
    let script = Actor::new("root@example.com", Source::Script, Role::Admin);

    for who in [&admin, &script] {
        let page = kv.list_namespaces(who, NamespaceQuery::default()).await.unwrap();
        assert_eq!(page.total, 1);
        assert_eq!(page.namespaces.iter().map(|n| n.id.as_str()).collect::<Vec<_>>(), [open.as_str()]);
        for ns in [&by_title, &by_id] {
            assert_absent(kv.get_namespace(who, ns).await, "get namespace");
            assert_absent(kv.list_keys(who, ns, Default::default()).await, "list keys");
            assert_absent(kv.get_key(who, ns, "shared-key").await, "get key");
            assert_absent(kv.put_key(who, ns, put("new", "v")).await, "put key");
            assert_absent(kv.delete_key(who, ns, "shared-key").await, "delete key");
            assert_absent(kv.get_key_details(who, ns, "shared-key").await, "details");
            assert_absent(kv.list_key_versions(who, ns, "shared-key").await, "versions");
            assert_absent(kv.rename_namespace(who, ns, "other").await, "rename");
            assert_absent(kv.delete_namespace(who, ns).await, "delete namespace");
            assert_absent(kv.list_tags(who, Some(ns)).await, "tags of namespace");
            assert_absent(
                jobs.start(who, JobSpec::BulkDelete { namespace_id: ns.clone(), selection: all() }).await,
                "job on it",
            );
            assert_absent(
                jobs.start(
                    who,
                    JobSpec::BulkCopy {
                        namespace_id: open.clone(),
                        selection: all(),
                        target_namespace_id: ns.clone(),
                        overwrite: true,
                    },
                )
                .await,
                "copy into it",
            );
            let asked = SearchQuery { namespace_ids: vec![ns.clone()], ..Default::default() };
            assert!(kv.search_keys(who, asked).await.unwrap().results.is_empty());
        }
        let found = kv.search_keys(who, SearchQuery { query: Some("shared".into()), ..Default::default() }).await;
        let found = found.unwrap();
        assert_eq!(found.results.iter().map(|h| h.namespace_id.as_str()).collect::<Vec<_>>(), [open.as_str()]);
        assert_eq!(found.total, Some(1));
        let tags = kv.list_tags(who, None).await.unwrap();
        assert_eq!(tags.iter().map(|t| t.tag.clone()).collect::<Vec<_>>(), [format!("tag-{open}")]);
        let listed = jobs.list(who, &JobQuery::default()).await.unwrap();
        assert!(listed.jobs.iter().all(|j| j.id != hidden_job.id), "a job on a protected namespace is listed");
        assert_absent(jobs.visible(who, &hidden_job.id).await, "job on it");
        let scoped = kv.audit_scope(who, AuditQuery::default()).await.unwrap();
        let entries = Audit::new(f.db.conn.clone()).list(&AuditQuery { limit: Some(1000), ..scoped }).await.unwrap();
        assert!(!entries.entries.is_empty());
        assert!(
            entries.entries.iter().all(|e| e.namespace_id.as_deref() == Some(open.as_str())),
            "audit rows of a protected namespace are listed"
        );
    }
    // A console user may not take a protected title either.
    assert!(matches!(kv.create_namespace(&admin, "payroll").await, Err(DomainError::Conflict { .. })));
    // The namespaces stay whole and usable where they are meant to be: Kevi services.
    let kevi = Actor::new("billing-service", Source::Kevi, Role::User);
    assert_eq!(kv.get_key(&kevi, &by_title, "shared-key").await.unwrap().value, b"v");
    kv.put_key(&kevi, &by_id, put("from-kevi", "v")).await.unwrap();
    assert_eq!(kv.list_namespaces(&kevi, NamespaceQuery::default()).await.unwrap().total, 3);
}

/// `Kv::namespace` is the one door to a namespace's keys: it checks the id and the actor's access
/// once, and what it opens for reading cannot be written through.
async fn a_namespace_is_reached_only_through_an_access_checked_handle(f: &Fixture) {
    let ns = f.kv.create_namespace(&me(), "handled").await.unwrap().id;
    f.kv.put_key(&me(), &ns, put("k", "v")).await.unwrap();
    let reader = user("reader@example.com", Role::ReadOnly);
    // A read-only user opens it for reading, never for writing.
    let read = f.kv.namespace(&reader, &ns, domain::Need::Read).await.unwrap();
    assert_eq!(read.get_key("k").await.unwrap().value, b"v");
    assert_eq!(read.count_keys("").await.unwrap(), 1);
    let refused = f.kv.namespace(&reader, &ns, domain::Need::Write).await.err().expect("refused");
    assert_eq!(refused.code(), "forbidden", "{refused}");
    // A handle opened for reading refuses writes, whoever holds it.
    let admin_read = f.kv.namespace(&me(), &ns, domain::Need::Read).await.unwrap();
    assert!(admin_read.put_key(put("k", "w")).await.is_err());
    assert!(admin_read.delete_key("k").await.is_err());
    assert_eq!(f.kv.get_key(&me(), &ns, "k").await.unwrap().value, b"v");
    // A malformed id is refused before anything is read.
    let bad = f.kv.namespace(&me(), "not an id", domain::Need::Read).await.err().expect("refused");
    assert_eq!(bad.field(), Some("namespace_id"), "{bad}");
    // A namespace hidden from the console answers "not found" for its scripts too.
    let hidden = Kv::sql(f.db.clone()).with_protected(vec!["handled".into()]);
    let console = user("alice@example.com", Role::Admin);
    let gone = hidden.namespace(&console, &ns, domain::Need::Read).await.err().expect("hidden");
    assert_eq!(gone.code(), "not_found", "{gone}");
}
