//! The test fixture: a store over a database of its own, on a real SQLite file and, when
//! `KVM_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database.

#![allow(dead_code)]

pub mod postgres;
pub mod s3;

use domain::{Actor, Database, DomainError, Kv, PutKey, Source};
use sea_orm::ConnectionTrait;

/// A store over a database of its own, dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct Fixture {
    pub kv: Kv,
    pub db: Database,
    /// The URL the store was opened with, for a second connection to the same database.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the server's URL and the test database's name, dropped after the test.
    drop_after: Option<(String, String)>,
}

impl Fixture {
    pub async fn finish(mut self) {
        let Some((base, name)) = self.drop_after.take() else { return };
        self.db.conn.clone().close().await.ok();
        postgres::drop_database(&base, &name).await;
    }

    /// A connection of its own to the fixture's database, outside the store's pool.
    pub async fn side_connection(&self) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(self.url.as_str()).await.expect("second connection")
    }
}

/// A test that panicked never reaches `finish`: its PostgreSQL database is dropped here, on a
/// runtime of its own (best effort).
impl Drop for Fixture {
    fn drop(&mut self) {
        let Some((base, name)) = self.drop_after.take() else { return };
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                rt.block_on(postgres::drop_database(&base, &name));
            }
        })
        .join();
    }
}

pub async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
    let db = Database::connect(&url).await.expect("sqlite");
    Fixture { kv: Kv::sql(db.clone()), db, url, _dir: Some(dir), drop_after: None }
}

/// A fixture on a fresh PostgreSQL database of the server at `KVM_TEST_POSTGRES_URL`; none when
/// it is not set, unless `KVM_REQUIRE_POSTGRES=1` (as in CI), which makes that a failure.
pub async fn postgres() -> Option<Fixture> {
    let Ok(base) = std::env::var("KVM_TEST_POSTGRES_URL") else {
        assert!(
            std::env::var("KVM_REQUIRE_POSTGRES").as_deref() != Ok("1"),
            "KVM_REQUIRE_POSTGRES=1 but KVM_TEST_POSTGRES_URL is not set: name a PostgreSQL server \
             (postgres://user@host:5432/database) for the PostgreSQL tests"
        );
        return None;
    };
    let (url, name) = postgres::create_database(&base).await;
    let db = Database::connect(&url).await.expect("postgres test database");
    Some(Fixture { kv: Kv::sql(db.clone()), db, url, _dir: None, drop_after: Some((base, name)) })
}

/// Generates a SQLite test and a PostgreSQL test for one check.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let fixture = $crate::common::sqlite().await;
                $crate::common::within_limit(stringify!($name), super::$name(&fixture)).await;
            })*
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(fixture) = $crate::common::postgres().await else {
                    eprintln!("KVM_TEST_POSTGRES_URL is not set: PostgreSQL test skipped");
                    return;
                };
                $crate::common::within_limit(stringify!($name), super::$name(&fixture)).await;
                fixture.finish().await;
            })*
        }
    };
}

/// How long one test may take before it fails instead of hanging the run (a job that never ends,
/// a lock never released).
pub const TEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);
/// How long a test waits for one job to end.
pub const JOB_LIMIT: std::time::Duration = std::time::Duration::from_secs(180);

/// Runs a test's body, failing it with its name when it passes [`TEST_LIMIT`].
pub async fn within_limit(name: &str, body: impl std::future::Future<Output = ()>) {
    if tokio::time::timeout(TEST_LIMIT, body).await.is_err() {
        panic!("{name} did not finish within {TEST_LIMIT:?}");
    }
}

/// The job once it has ended; fails the test, with the job's last state, when it has not ended
/// within [`JOB_LIMIT`].
pub async fn wait(jobs: &domain::jobs::Jobs, id: &str) -> domain::jobs::Job {
    match tokio::time::timeout(JOB_LIMIT, jobs.wait(id)).await {
        Ok(done) => done.unwrap_or_else(|err| panic!("waiting for job {id}: {err}")),
        Err(_) => panic!("job {id} did not end within {JOB_LIMIT:?}; it is {:?}", jobs.get(id).await),
    }
}

/// Runs SQL directly, for states no API can produce (a key that expired a moment ago).
pub async fn exec(db: &Database, sql: &str) {
    db.conn.execute_unprepared(sql).await.expect(sql);
}

/// A namespace opened for reading by [`me`], for the checks that read what a test wrote.
pub async fn reader(kv: &Kv, namespace_id: &str) -> domain::NamespaceAccess {
    kv.namespace(&me(), namespace_id, domain::Need::Read).await.expect("open the namespace for reading")
}

pub fn me() -> Actor {
    Actor::local(Source::Script)
}

pub fn put(name: &str, value: &str) -> PutKey {
    PutKey { name: name.to_owned(), value: value.as_bytes().to_vec(), ..Default::default() }
}

/// The error's code and field, and a message that names the field.
#[track_caller]
pub fn assert_err(result: Result<impl std::fmt::Debug, DomainError>, code: &str, field: &str) {
    let err = result.expect_err("expected an error");
    assert_eq!((err.code(), err.field()), (code, Some(field)), "{err}");
    assert!(err.to_string().contains(field), "message {err} does not name {field}");
}

/// As [`assert_err`], and the HTTP status that goes with the error.
#[track_caller]
pub fn assert_err_status(result: Result<impl std::fmt::Debug, DomainError>, code: &str, status: u16, field: &str) {
    let err = result.expect_err("expected an error");
    assert_eq!((err.code(), err.status(), err.field()), (code, status, Some(field)), "{err}");
    assert!(err.to_string().contains(field), "message {err} does not name {field}");
}

pub async fn namespace(f: &Fixture, title: &str) -> String {
    f.kv.create_namespace(&me(), title).await.expect("namespace").id
}

/// A job engine over the fixture's store, its files under `dir`.
pub fn engine(f: &Fixture, dir: &std::path::Path) -> domain::jobs::Jobs {
    domain::jobs::Jobs::new(
        f.kv.clone(),
        f.db.conn.clone(),
        domain::jobs::JobsConfig {
            max_jobs: 2,
            data_dir: dir.to_owned(),
            export_ttl_hours: 24,
            instance_id: "a".into(),
        },
    )
}

/// Starts a job as [`me`] and waits for its end.
pub async fn run(jobs: &domain::jobs::Jobs, spec: domain::jobs::JobSpec) -> domain::jobs::Job {
    let job = jobs.start(&me(), spec).await.expect("start");
    wait(jobs, &job.id).await
}

/// The NDJSON export of a namespace, as bytes.
pub async fn export(jobs: &domain::jobs::Jobs, ns: &str) -> Vec<u8> {
    use domain::jobs::{ExportFormat, JobSpec, JobStatus};
    let spec = JobSpec::Export { namespace_id: ns.to_owned(), format: ExportFormat::Ndjson, prefix: None };
    let job = run(jobs, spec).await;
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    let file = jobs.export_file(&job.id).await.expect("export file");
    std::fs::read(file.path).expect("read the export")
}
