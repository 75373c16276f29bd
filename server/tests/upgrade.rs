//! Upgrades with several instances on one database: an instance keeps working after a newer
//! version migrated the database under it (a migration of the kind every one so far is: a new
//! table, a nullable column, an index), an instance of the older version starting afterwards is
//! refused with a message naming the newer migration, and instances starting together on an
//! empty PostgreSQL database migrate it one after the other, all coming up.

mod common;

use std::net::SocketAddr;
use std::process::{Child, Command};

use common::TestServer;
use sea_orm::ConnectionTrait;
use serde_json::json;

const FUTURE: &str = "m20991231_000001_future_columns";

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

struct Processes(Vec<Child>);

impl Drop for Processes {
    fn drop(&mut self) {
        for process in &mut self.0 {
            let _ = process.kill();
            let _ = process.wait();
        }
    }
}

/// What a newer version's migration does, applied by hand: a new table, a nullable column on the
/// key table, an index, and its record.
async fn migrate_as_a_newer_version(url: &str) {
    let db = sea_orm::Database::connect(url).await.unwrap();
    let postgres = url.starts_with("postgres");
    let id = if postgres { "BIGSERIAL PRIMARY KEY" } else { "INTEGER PRIMARY KEY AUTOINCREMENT" };
    db.execute_unprepared(&format!("CREATE TABLE future_things (id {id}, note TEXT NOT NULL)")).await.unwrap();
    db.execute_unprepared("ALTER TABLE kv_entries ADD COLUMN future_note TEXT NULL").await.unwrap();
    db.execute_unprepared("CREATE INDEX idx_future_note ON kv_entries (future_note)").await.unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{FUTURE}', 4102358400)"
    ))
    .await
    .unwrap();
    db.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_keeps_working_after_a_newer_version_migrated_and_an_old_one_starting_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let database = common::TestDatabase::new(dir.path());
    let addr = free_addr();
    let server = TestServer::at(addr);
    let _processes = Processes(vec![common::spawn_binary(dir.path(), &database.url, addr, &["--instance-id", "old"])]);
    common::ready(&server).await;
    let ns = server.ok("create_namespace", json!({ "title": "before" })).await["id"].as_str().unwrap().to_owned();
    server.ok("put_key", json!({ "namespace_id": ns, "key": "a", "value": "1" })).await;

    migrate_as_a_newer_version(&database.url).await;

    // The running instance: reads, writes, deletes, lists, searches, a new namespace and a job.
    server.ok("put_key", json!({ "namespace_id": ns, "key": "b", "value": "2", "expiration_ttl": 3600 })).await;
    assert_eq!(server.ok("get_key", json!({ "namespace_id": ns, "key": "a" })).await["value"], "1");
    server.ok("delete_key", json!({ "namespace_id": ns, "key": "a" })).await;
    let listed = server.ok("list_keys", json!({ "namespace_id": ns })).await;
    let names: Vec<&str> = listed["keys"].as_array().unwrap().iter().map(|k| k["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["b"], "{listed}");
    let other = server.ok("create_namespace", json!({ "title": "after" })).await["id"].as_str().unwrap().to_owned();
    let lines: String = (0..2_000).map(|i| format!("{{\"name\":\"k{i:04}\",\"value\":\"v{i}\"}}\n")).collect();
    let res = server.request("POST", &format!("/api/import/{other}"), &[], lines.as_bytes()).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let job = res.json()["job_id"].as_str().unwrap().to_owned();
    let state = common::job_end(&server, &job).await;
    assert_eq!((state["status"].as_str(), state["processed"].as_u64()), (Some("completed"), Some(2_000)), "{state}");
    let audit = server.ok("list_audit", json!({})).await;
    assert!(audit.to_string().contains("job.completed"), "{audit}");

    // This version started again on that database: refused, saying why.
    let out = Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(["serve", "--addr", &free_addr().to_string(), "--database-url", &database.url, "--instance-id", "late"])
        .arg("--data-dir")
        .arg(dir.path().join("late"))
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "an old version started on a newer database");
    assert!(stderr.contains("migrated by a newer kv-manager") && stderr.contains(FUTURE), "{stderr}");
    // ... and the running one is still fine.
    assert_eq!(server.get("/health").await.status, 200);
    assert_eq!(server.ok("get_key", json!({ "namespace_id": ns, "key": "b" })).await["value"], "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_starting_together_on_an_empty_postgresql_database_all_come_up() {
    let Ok(base) = std::env::var("KVM_TEST_POSTGRES_URL") else {
        assert_ne!(
            std::env::var("KVM_REQUIRE_POSTGRES").as_deref(),
            Ok("1"),
            "KVM_REQUIRE_POSTGRES=1 but KVM_TEST_POSTGRES_URL is not set"
        );
        eprintln!("skipped: KVM_TEST_POSTGRES_URL is not set (instances starting together on PostgreSQL)");
        return;
    };
    // Several rounds: each a fresh database that three instances migrate at the same moment.
    for round in 0..3 {
        let (url, name) = common::postgres::create_database(&base).await;
        let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
        let addrs: Vec<SocketAddr> = (0..3).map(|_| free_addr()).collect();
        let processes = Processes(
            dirs.iter()
                .zip(&addrs)
                .enumerate()
                .map(|(i, (dir, addr))| {
                    common::spawn_binary(dir.path(), &url, *addr, &["--instance-id", &format!("together-{i}")])
                })
                .collect(),
        );
        for addr in &addrs {
            common::ready(&TestServer::at(*addr)).await;
        }
        let mut processes = processes;
        for (i, process) in processes.0.iter_mut().enumerate() {
            assert!(process.try_wait().unwrap().is_none(), "round {round}: instance {i} exited");
        }
        drop(processes);
        common::postgres::drop_database(&base, &name).await;
    }
}
