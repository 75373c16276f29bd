//! The test fixture: a store over a database of its own, on a real SQLite file and, when
//! `KVM_TEST_POSTGRES_URL` is set, on a fresh PostgreSQL database.

#![allow(dead_code)]

use domain::{Database, Kv};
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
