//! `kv-manager import` and `kv-manager export`, run as a user runs them: the built binary on a
//! SQLite file.

use std::process::Command;

use domain::{Actor, Database, Kv, Source};

fn kv_manager(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    let url = format!("sqlite://{}?mode=rwc", dir.join("kv.db").display());
    Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(args)
        .args(["--database-url", &url, "--data-dir"])
        .arg(dir.join("data"))
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run kv-manager")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_then_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
    let db = Database::connect(&url).await.unwrap();
    let kv = Kv::sql(db.clone());
    let ns = kv.create_namespace(&Actor::local(Source::Cli), "cli-target").await.unwrap().id;
    db.conn.clone().close().await.unwrap();

    let mut lines = String::new();
    for i in 0..2500 {
        lines.push_str(&format!("{{\"name\":\"k{i:04}\",\"value\":\"v{i}\",\"tags\":[\"cli\"]}}\n"));
    }
    std::fs::write(dir.path().join("in.ndjson"), &lines).unwrap();
    // By title.
    let out = kv_manager(dir.path(), &["import", "cli-target", "in.ndjson", "--collision", "fail"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.starts_with("completed: 2500 items into \"cli-target\""), "{stdout}");

    // Again with `fail`: every key exists now, nothing is written, and the exit status says so.
    let out = kv_manager(dir.path(), &["import", &ns, "in.ndjson", "--collision", "fail"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already exists") && stderr.contains("line 1"), "{stderr}");

    // By id, to a file, then compared line by line.
    let out = kv_manager(dir.path(), &["export", &ns, "--format", "ndjson", "-o", "out.ndjson"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let exported = std::fs::read_to_string(dir.path().join("out.ndjson")).unwrap();
    assert_eq!(exported, lines, "export reproduces what was imported, in key order");

    let out = kv_manager(dir.path(), &["export", "no-such-namespace"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no namespace has the id or title"));
}
