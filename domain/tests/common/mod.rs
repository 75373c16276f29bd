//! The test fixture: a store over a database of its own, on a real SQLite file and, when
//! `KVM_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database.

#![allow(dead_code)]

use domain::{Actor, Database, DomainError, Kv, PutKey, Source};
use sea_orm::ConnectionTrait;

/// A store over a database of its own, dropped (PostgreSQL) or deleted (SQLite) afterwards.
pub struct Fixture {
    pub kv: Kv,
    pub db: Database,
    _dir: Option<tempfile::TempDir>,
    /// PostgreSQL: the server's URL and the test database's name, dropped after the test.
    drop_after: Option<(String, String)>,
}

impl Fixture {
    pub async fn finish(self) {
        let Some((base, name)) = self.drop_after else { return };
        self.db.conn.close().await.ok();
        if let Ok(admin) = sea_orm::Database::connect(base.as_str()).await {
            admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
        }
    }
}

pub async fn sqlite() -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
    let db = Database::connect(&url).await.expect("sqlite");
    Fixture { kv: Kv::sql(db.clone()), db, _dir: Some(dir), drop_after: None }
}

pub async fn postgres() -> Option<Fixture> {
    let base = std::env::var("KVM_TEST_POSTGRES_URL").ok()?;
    let admin = sea_orm::Database::connect(base.as_str()).await.expect("postgres");
    let name = format!("kvm_t_{}", uuid_like());
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
    let url = match base.rfind('/') {
        Some(i) if base[..i].contains("://") && i > base.find("://").unwrap() + 2 => {
            let query = base[i..].find('?').map(|q| &base[i + q..]).unwrap_or("");
            format!("{}/{name}{query}", &base[..i])
        }
        _ => format!("{base}/{name}"),
    };
    let db = Database::connect(&url).await.expect("postgres test database");
    Some(Fixture { kv: Kv::sql(db.clone()), db, _dir: None, drop_after: Some((base, name)) })
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{nanos:x}{:x}", std::process::id())
}

/// Generates a SQLite test and a PostgreSQL test for one check.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let fixture = $crate::common::sqlite().await;
                super::$name(&fixture).await;
            })*
        }
        mod on_postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let Some(fixture) = $crate::common::postgres().await else {
                    eprintln!("KVM_TEST_POSTGRES_URL is not set: PostgreSQL test skipped");
                    return;
                };
                super::$name(&fixture).await;
                fixture.finish().await;
            })*
        }
    };
}

/// Runs SQL directly, for states no API can produce (a key that expired a moment ago).
pub async fn exec(db: &Database, sql: &str) {
    db.conn.execute_unprepared(sql).await.expect(sql);
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

pub async fn namespace(f: &Fixture, title: &str) -> String {
    f.kv.create_namespace(&me(), title).await.expect("namespace").id
}
