//! Test databases on the PostgreSQL server at `KVM_TEST_POSTGRES_URL`, shared by the domain tests
//! (`common::postgres`) and the server tests (`common::TestDatabase`, included by path).

#![allow(dead_code)]

use sea_orm::ConnectionTrait;

/// Makes a database of its own on the server at `base`; answers its URL and name. Its default
/// collation is linguistic where the server has ICU, so that byte order holds only where the
/// schema asks for it (the key name column), not by luck of the server's locale.
pub async fn create_database(base: &str) -> (String, String) {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    let name = format!("kvm_t_{}_{n}_{nanos}", std::process::id());
    let admin = sea_orm::Database::connect(base).await.expect("PostgreSQL at KVM_TEST_POSTGRES_URL");
    let icu = format!("CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");
    if admin.execute_unprepared(&icu).await.is_err() {
        admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create database");
    }
    admin.close().await.ok();
    (database_url(base, &name), name)
}

/// Drops a database made by [`create_database`] (best effort; connections to it are ended).
pub async fn drop_database(base: &str, name: &str) {
    if let Ok(admin) = sea_orm::Database::connect(base).await {
        admin.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok();
        admin.close().await.ok();
    }
}

/// `base` with its database (if any) replaced by `name`, keeping any `?query`.
pub fn database_url(base: &str, name: &str) -> String {
    let (main, query) = base.split_once('?').map_or((base, None), |(main, query)| (main, Some(query)));
    let authority = main.find("://").map_or(0, |i| i + 3);
    let server = main[authority..].find('/').map_or(main, |i| &main[..authority + i]);
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}
