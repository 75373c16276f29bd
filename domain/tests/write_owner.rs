//! Every writer puts its change and its audit row in one transaction (`domain::write::WriteTxn`),
//! on SQLite and (with `KVM_TEST_POSTGRES_URL`) PostgreSQL: a failure forced by the database
//! after the change (a trigger that refuses the audit row) leaves neither the change nor an
//! audit row, and one forced on the change after the audit row leaves no audit row.

mod common;

use common::{Fixture, me, put};
use domain::catalog::TagOperation;
use domain::jobs::{JobSpec, Jobs, JobsConfig, Selection};
use domain::services::{ServiceSpec, Services};
use domain::tokens::Tokens;
use domain::{DatabaseKind, KeyQuery};
use sea_orm::ConnectionTrait;

both!(
    key_writes_and_their_audit_rows_commit_together,
    namespace_changes_and_their_audit_rows_commit_together,
    details_tags_and_expirations_commit_with_their_audit_rows,
    a_job_start_and_its_audit_row_commit_together,
    tokens_and_services_commit_with_their_audit_rows,
);

/// A trigger that makes every insert into `table` fail, until dropped.
struct Refusal<'a> {
    f: &'a Fixture,
    table: &'static str,
}

impl<'a> Refusal<'a> {
    async fn on(f: &'a Fixture, table: &'static str) -> Self {
        let statements: Vec<String> = match f.db.kind {
            DatabaseKind::Sqlite => vec![format!(
                "CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'forced failure'); END"
            )],
            DatabaseKind::Postgres => vec![
                "CREATE OR REPLACE FUNCTION refuse_row() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$ LANGUAGE plpgsql".to_owned(),
                format!("CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_row()"),
            ],
        };
        for sql in statements {
            f.db.conn.execute_unprepared(&sql).await.expect("create the trigger");
        }
        Self { f, table }
    }

    async fn lift(self) {
        let sql = match self.f.db.kind {
            DatabaseKind::Sqlite => format!("DROP TRIGGER refuse_{}", self.table),
            DatabaseKind::Postgres => format!("DROP TRIGGER refuse_{0} ON {0}", self.table),
        };
        self.f.db.conn.execute_unprepared(&sql).await.expect("drop the trigger");
    }
}

async fn count(f: &Fixture, sql: &str) -> i64 {
    let row = f.db.conn.query_one_raw(sea_orm::Statement::from_string(f.db.conn.get_database_backend(), sql)).await;
    row.expect(sql).expect("a row").try_get::<i64>("", "n").expect("n")
}

async fn audit_rows(f: &Fixture) -> i64 {
    count(f, "SELECT COUNT(*) AS n FROM audit_log").await
}

#[track_caller]
fn forced<T: std::fmt::Debug>(result: domain::DomainResult<T>) {
    let err = result.expect_err("the forced failure fails the write");
    assert_eq!(err.code(), "internal", "{err}");
}

async fn names(f: &Fixture, ns: &str) -> Vec<String> {
    let page = f.kv.list_keys(&me(), ns, KeyQuery::default()).await.unwrap();
    page.keys.into_iter().map(|k| k.name).collect()
}

async fn key_writes_and_their_audit_rows_commit_together(f: &Fixture) {
    let ns = f.kv.create_namespace(&me(), "owned").await.unwrap().id;
    let other = f.kv.create_namespace(&me(), "owned-2").await.unwrap().id;
    f.kv.put_key(&me(), &ns, put("kept", "0")).await.unwrap();
    f.kv.put_key(&me(), &ns, put("kept", "1")).await.unwrap();
    let rows = audit_rows(f).await;

    // The audit row refused: the change it records is gone with it.
    let refusal = Refusal::on(f, "audit_log").await;
    forced(f.kv.put_key(&me(), &ns, put("new", "1")).await);
    forced(f.kv.put_many(&me(), &ns, vec![put("a", "1"), put("b", "2")]).await);
    forced(f.kv.put_key(&me(), &ns, put("kept", "2")).await);
    forced(f.kv.delete_key(&me(), &ns, "kept").await);
    forced(f.kv.transfer(&me(), &ns, &other, &["kept".to_owned()], true, true).await);
    forced(f.kv.restore_key_version(&me(), &ns, "kept", 1).await);
    refusal.lift().await;
    assert_eq!(names(f, &ns).await, ["kept"]);
    assert_eq!(f.kv.get_key(&me(), &ns, "kept").await.unwrap().value, b"1");
    assert!(names(f, &other).await.is_empty());
    let versions = f.kv.list_key_versions(&me(), &ns, "kept").await.unwrap();
    assert_eq!(versions.len(), 1, "no version was kept for a write that rolled back: {versions:?}");
    assert_eq!(f.kv.get_namespace(&me(), &ns).await.unwrap().key_count, 1);
    assert_eq!(audit_rows(f).await, rows);

    // The change refused after its audit row was written: no audit row stays.
    let refusal = Refusal::on(f, "kv_entries").await;
    forced(f.kv.put_key(&me(), &ns, put("new", "1")).await);
    forced(f.kv.transfer(&me(), &ns, &other, &["kept".to_owned()], true, false).await);
    refusal.lift().await;
    let refusal = Refusal::on(f, "key_versions").await;
    forced(f.kv.delete_key(&me(), &ns, "kept").await);
    refusal.lift().await;
    assert_eq!(names(f, &ns).await, ["kept"]);
    assert_eq!(audit_rows(f).await, rows);

    // And with nothing refused, each write leaves its row.
    f.kv.put_key(&me(), &ns, put("new", "1")).await.unwrap();
    assert_eq!(audit_rows(f).await, rows + 1);
}

async fn namespace_changes_and_their_audit_rows_commit_together(f: &Fixture) {
    let ns = f.kv.create_namespace(&me(), "before").await.unwrap().id;
    let rows = audit_rows(f).await;
    let refusal = Refusal::on(f, "audit_log").await;
    forced(f.kv.create_namespace(&me(), "never").await);
    forced(f.kv.rename_namespace(&me(), &ns, "after").await);
    forced(f.kv.delete_namespace(&me(), &ns).await);
    refusal.lift().await;
    assert_eq!(f.kv.get_namespace(&me(), &ns).await.unwrap().title, "before");
    assert_eq!(count(f, "SELECT COUNT(*) AS n FROM namespaces").await, 1);
    assert_eq!(audit_rows(f).await, rows);
}

async fn details_tags_and_expirations_commit_with_their_audit_rows(f: &Fixture) {
    let ns = f.kv.create_namespace(&me(), "details").await.unwrap().id;
    f.kv.put_many(&me(), &ns, vec![put("a", "1"), put("b", "2")]).await.unwrap();
    let rows = audit_rows(f).await;
    let refusal = Refusal::on(f, "audit_log").await;
    forced(f.kv.put_key_details(&me(), &ns, "a", Some(vec!["red".into()]), None).await);
    let names = vec!["a".to_owned(), "b".to_owned()];
    forced(f.kv.apply_tags(&me(), &ns, &names, &["blue".to_owned()], TagOperation::Add).await);
    let at = domain::now_unix() + 3600;
    forced(f.kv.set_expiration(&me(), &ns, &names, Some(at)).await);
    refusal.lift().await;
    assert!(f.kv.get_key_details(&me(), &ns, "a").await.unwrap().tags.is_empty());
    assert_eq!(count(f, "SELECT COUNT(*) AS n FROM key_tags").await, 0);
    assert_eq!(f.kv.get_key(&me(), &ns, "b").await.unwrap().expiration, None);
    assert_eq!(count(f, "SELECT COUNT(*) AS n FROM key_versions").await, 0);
    assert_eq!(audit_rows(f).await, rows);
}

async fn a_job_start_and_its_audit_row_commit_together(f: &Fixture) {
    let ns = f.kv.create_namespace(&me(), "jobs").await.unwrap().id;
    f.kv.put_key(&me(), &ns, put("k", "v")).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jobs = Jobs::new(
        f.kv.clone(),
        f.db.conn.clone(),
        JobsConfig { max_jobs: 1, data_dir: dir.path().to_owned(), export_ttl_hours: 1, instance_id: "a".into() },
    );
    let rows = audit_rows(f).await;
    let selection = Selection { keys: Some(vec!["k".into()]), prefix: None };
    let spec = JobSpec::BulkDelete { namespace_id: ns.clone(), selection };
    let refusal = Refusal::on(f, "audit_log").await;
    forced(jobs.start(&me(), spec.clone()).await);
    refusal.lift().await;
    assert_eq!(count(f, "SELECT COUNT(*) AS n FROM jobs").await, 0, "no job row without its audit row");
    assert_eq!(count(f, "SELECT COUNT(*) AS n FROM job_events").await, 0);
    assert_eq!(audit_rows(f).await, rows);
    assert_eq!(f.kv.get_key(&me(), &ns, "k").await.unwrap().value, b"v");
    // Unrefused, the start, the change and the end each leave their row.
    let job = jobs.start(&me(), spec).await.unwrap();
    let ended = common::wait(&jobs, &job.id).await;
    assert_eq!(ended.status.as_str(), "completed");
    assert_eq!(audit_rows(f).await, rows + 3, "job.start, the key's delete and job.completed");
    assert!(f.kv.get_key(&me(), &ns, "k").await.unwrap_err().to_string().contains("k"));
}

async fn tokens_and_services_commit_with_their_audit_rows(f: &Fixture) {
    let ns = f.kv.create_namespace(&me(), "svc").await.unwrap().id;
    let tokens = Tokens::new(f.db.conn.clone());
    let services = Services::new(f.kv.clone(), f.db.conn.clone(), None);
    let (token, _) = tokens.create(&me(), "kept", false).await.unwrap();
    let spec = ServiceSpec {
        name: "billing".into(),
        storage: ns.clone(),
        role: "admin".into(),
        prefix: "billing".into(),
        ..Default::default()
    };
    let rows = audit_rows(f).await;
    let refusal = Refusal::on(f, "audit_log").await;
    forced(tokens.create(&me(), "never", false).await);
    forced(tokens.revoke(&me(), &token.id).await);
    forced(services.create(&me(), &spec).await);
    refusal.lift().await;
    let listed = tokens.list().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, None);
    assert!(services.list().await.unwrap().is_empty());
    assert_eq!(count(f, "SELECT COUNT(*) AS n FROM service_tokens").await, 0);
    assert_eq!(audit_rows(f).await, rows);
}
