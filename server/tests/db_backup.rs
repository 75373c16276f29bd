//! `kv-manager db backup <file>`: a copy of the SQLite database taken while a server process
//! writes to it holds every write up to a moment and none after (writes are sequential, so the
//! copy holds a gap-free run of them), every value whole; and what it refuses.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::TestServer;
use domain::{Actor, Database, KeyQuery, Kv, Source};
use serde_json::json;

fn db_backup(file: &std::path::Path, database_url: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(["db", "backup"])
        .arg(file)
        .args(["--database-url", database_url])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run kv-manager db backup")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_taken_while_a_server_writes_holds_a_gap_free_run_of_whole_writes() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let server = TestServer::at(addr);
    let mut process = common::spawn_binary(dir.path(), &url, addr, &[]);
    common::ready(&server).await;
    let ns = server.ok("create_namespace", json!({ "title": "live" })).await["id"].as_str().unwrap().to_owned();
    // Some bulk, so that the copy takes a while.
    let mut lines = String::new();
    for i in 0..20_000 {
        lines.push_str(&format!("{{\"name\":\"bulk-{i:05}\",\"value\":\"{}\"}}\n", "x".repeat(400)));
    }
    let res = server.request("POST", &format!("/api/import/{ns}"), &[], lines.as_bytes()).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let job = res.json()["job_id"].as_str().unwrap().to_owned();
    let state = common::job_end(&server, &job).await;
    assert_eq!(state["status"], "completed", "{state}");

    // One writer, one key after another: w-000000, w-000001, ...
    let acked = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, stop, ns) = (acked.clone(), stop.clone(), ns.clone());
        tokio::spawn(async move {
            let server = TestServer::at(addr);
            let mut n = 0u64;
            while !stop.load(Ordering::SeqCst) {
                let key = format!("w-{n:06}");
                server.ok("put_key", json!({ "namespace_id": ns, "key": key, "value": format!("value of {n}") })).await;
                n += 1;
                acked.store(n, Ordering::SeqCst);
            }
        })
    };
    while acked.load(Ordering::SeqCst) < 20 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let copy = dir.path().join("copy.db");
    let before = acked.load(Ordering::SeqCst);
    let out = tokio::task::spawn_blocking({
        let (copy, url) = (copy.clone(), url.clone());
        move || db_backup(&copy, &url)
    })
    .await
    .unwrap();
    let after = acked.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("integrity ok") && stdout.contains("1 namespaces"), "{stdout}");
    assert!(after > before, "no write landed while the copy was taken ({before} before and after): nothing was tested");
    process.kill().unwrap();
    process.wait().unwrap();
    // No temporary file is left beside the copy.
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");

    // The copy opens as a database of its own.
    let kv = Kv::sql(Database::connect(&format!("sqlite://{}?mode=rw", copy.display())).await.unwrap());
    let me = Actor::local(Source::Cli);
    let mut written = Vec::new();
    let mut cursor = None;
    loop {
        let query = KeyQuery { prefix: Some("w-".into()), cursor, ..Default::default() };
        let page = kv.list_keys(&me, &ns, query).await.unwrap();
        written.extend(page.keys.iter().map(|k| k.name.clone()));
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let held = written.len() as u64;
    eprintln!("writes acknowledged: {before} before the copy, {after} after; the copy holds {held}");
    // Every write acknowledged before the copy began is in it; none begun after it ended (one
    // more may have committed before its answer arrived).
    assert!(
        held >= before && held <= after + 1,
        "the copy holds {held} writes; {before} were acknowledged before it, {after} after"
    );
    let expected: Vec<String> = (0..held).map(|n| format!("w-{n:06}")).collect();
    assert_eq!(written, expected, "a gap-free run of the writes, in order");
    let values = kv.namespace(&me, &ns, domain::Need::Read).await.unwrap().get_many(&written).await.unwrap();
    for (n, key) in values.iter().enumerate() {
        assert_eq!(key.value, format!("value of {n}").into_bytes(), "{}", key.name);
    }
    assert_eq!(kv.get_namespace(&me, &ns).await.unwrap().key_count, 20_000 + held);
}

#[test]
fn what_db_backup_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kv.db");
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();

    // No database there yet: nothing is created.
    let out = db_backup(&dir.path().join("copy.db"), &url);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("there is no database at"), "{}", stderr(&out));
    assert!(!db.exists() && !dir.path().join("copy.db").exists());

    // An existing file is never overwritten.
    let taken = dir.path().join("taken.db");
    std::fs::write(&taken, b"mine").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(["token", "list", "--database-url", &url])
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = db_backup(&taken, &url);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("exists") && stderr(&out).contains("taken.db"), "{}", stderr(&out));
    assert_eq!(std::fs::read(&taken).unwrap(), b"mine");

    // A folder that does not exist.
    let out = db_backup(&dir.path().join("no-such-folder").join("copy.db"), &url);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));

    // PostgreSQL has its own tools; nothing is connected to.
    let out = db_backup(&dir.path().join("pg.db"), "postgres://nobody:secret@127.0.0.1:1/none");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("secret"), "{}", stderr(&out));
}
