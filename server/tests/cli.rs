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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewind_previews_then_runs_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
    let db = Database::connect(&url).await.unwrap();
    let kv = Kv::sql(db.clone());
    let me = Actor::local(Source::Cli);
    let ns = kv.create_namespace(&me, "cli-rewind").await.unwrap().id;
    let put = |name: &str, value: &str| domain::PutKey {
        name: name.into(),
        value: value.as_bytes().to_vec(),
        ..Default::default()
    };
    kv.put_many(&me, &ns, vec![put("a", "old"), put("b", "old")]).await.unwrap();
    let at = domain::now_unix();
    while domain::now_unix() <= at {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    kv.put_many(&me, &ns, vec![put("a", "new"), put("c", "new")]).await.unwrap();
    kv.delete_key(&me, &ns, "b").await.unwrap();
    db.conn.clone().close().await.unwrap();
    let to = domain::rfc3339(at);

    let out = kv_manager(dir.path(), &["rewind", "cli-rewind", "--to", &to, "--dry-run"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1 created, 1 changed, 1 deleted, 0 unchanged, 0 incomplete"), "{stdout}");

    let out = kv_manager(dir.path(), &["rewind", &ns, "--to", &to]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("completed: 3 keys"), "{stdout}");
    let db = Database::connect(&url).await.unwrap();
    let kv = Kv::sql(db.clone());
    assert_eq!(kv.get_key(&me, &ns, "a").await.unwrap().value, b"old");
    assert_eq!(kv.get_key(&me, &ns, "b").await.unwrap().value, b"old");
    assert!(kv.get_key(&me, &ns, "c").await.is_err());
    db.conn.clone().close().await.unwrap();

    let out = kv_manager(dir.path(), &["rewind", &ns, "--to", "yesterday"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--to"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_then_restore_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
    let db = Database::connect(&url).await.unwrap();
    let kv = Kv::sql(db.clone());
    let me = Actor::local(Source::Cli);
    let ns = kv.create_namespace(&me, "cli-backup").await.unwrap().id;
    kv.create_namespace(&me, "cli-other").await.unwrap();
    let put = |name: &str, value: &str| domain::PutKey {
        name: name.into(),
        value: value.as_bytes().to_vec(),
        ..Default::default()
    };
    kv.put_many(&me, &ns, vec![put("a", "old"), put("b", "old")]).await.unwrap();
    db.conn.clone().close().await.unwrap();
    let to = dir.path().join("elsewhere");
    let to = to.to_str().unwrap();

    let out = kv_manager(dir.path(), &["backup", "cli-backup", "--to", to]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let backup_id = stdout.lines().next().and_then(|l| l.rsplit(": ").next()).unwrap().trim().to_owned();
    assert!(backup_id.starts_with("cli-backup-"), "{stdout}");
    assert!(std::path::Path::new(to).join(&backup_id).join("manifest.json").is_file());
    let out = kv_manager(dir.path(), &["backup", "--all", "--to", to]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(stdout.lines().filter(|l| l.contains(" keys, ")).count(), 2, "one backup per namespace: {stdout}");

    let db = Database::connect(&url).await.unwrap();
    let kv = Kv::sql(db.clone());
    kv.put_many(&me, &ns, vec![put("a", "new"), put("c", "new")]).await.unwrap();
    kv.delete_key(&me, &ns, "b").await.unwrap();
    db.conn.clone().close().await.unwrap();

    let args = ["restore", &backup_id, "--into", "cli-backup", "--mode", "equal", "--from", to, "--dry-run"];
    let out = kv_manager(dir.path(), &args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("1 created, 1 changed, 1 deleted, 0 unchanged"), "{stdout}");

    let out = kv_manager(dir.path(), &["restore", &backup_id, "--into", &ns, "--mode", "equal", "--from", to]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("completed: 3 keys"), "{stdout}");
    let db = Database::connect(&url).await.unwrap();
    let kv = Kv::sql(db.clone());
    assert_eq!(kv.get_key(&me, &ns, "a").await.unwrap().value, b"old");
    assert_eq!(kv.get_key(&me, &ns, "b").await.unwrap().value, b"old");
    assert!(kv.get_key(&me, &ns, "c").await.is_err());
    db.conn.clone().close().await.unwrap();

    let out = kv_manager(dir.path(), &["restore", &backup_id, "--into", &ns, "--mode", "merge", "--from", to]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("mode"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kv_manager(dir.path(), &["restore", "../x", "--into", &ns, "--from", to]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("backup_id"), "{}", String::from_utf8_lossy(&out.stderr));
}

/// The S3 test server (moto; see the domain tests' `common/s3.rs`).
#[path = "../../domain/tests/common/s3.rs"]
#[allow(dead_code)]
mod s3;

/// `--to s3://…` and `--from s3://…`, with the keys, region and endpoint in the `AWS_*`
/// environment variables only, as a user runs it; a wrong secret fails with the service's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_to_s3_then_restore_from_the_command_line() {
    let server = s3::S3Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
    let db = Database::connect(&url).await.unwrap();
    let kv = Kv::sql(db.clone());
    let me = Actor::local(Source::Cli);
    let ns = kv.create_namespace(&me, "cli-s3").await.unwrap().id;
    let puts = (0..30)
        .map(|i| domain::PutKey { name: format!("k{i:02}"), value: b"v".to_vec(), ..Default::default() })
        .collect();
    kv.put_many(&me, &ns, puts).await.unwrap();
    db.conn.clone().close().await.unwrap();
    let bucket = format!("s3://{}/cli", s3::BUCKET);
    let run = |args: &[&str], secret: &str| {
        let db = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
        Command::new(env!("CARGO_BIN_EXE_kv-manager"))
            .args(args)
            .args(["--database-url", &db, "--data-dir"])
            .arg(dir.path().join("data"))
            .current_dir(dir.path())
            .env("RUST_LOG", "warn")
            .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", server.port))
            .env("AWS_ALLOW_HTTP", "true")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", &server.access_key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .output()
            .expect("run kv-manager")
    };
    let out = run(&["backup", "cli-s3", "--to", &bucket], &server.secret_key);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("30 keys") && stdout.contains(&format!("backups in {bucket}")), "{stdout}");
    let backup_id = stdout.lines().next().and_then(|l| l.rsplit(": ").next()).unwrap().trim().to_owned();

    let out = run(&["restore", &backup_id, "--into", "cli-s3-copy", "--from", &bucket], &server.secret_key);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("30 created"), "{stdout}");
    let db = Database::connect(&url).await.unwrap();
    let kv = Kv::sql(db.clone());
    let copies = kv.list_namespaces(&me, Default::default()).await.unwrap().namespaces;
    let copy = copies.iter().find(|n| n.title == "cli-s3-copy").expect("the new namespace");
    assert_eq!(copy.key_count, 30);
    db.conn.clone().close().await.unwrap();

    let out = run(&["backup", "cli-s3", "--to", &bucket], "a-wrong-secret");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains(&bucket) && stderr.contains("403"),
        "the failure names the target and the reason: {stderr}"
    );
    assert!(!stderr.contains("a-wrong-secret") && !stderr.contains(&server.secret_key), "no secret: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alert_rules_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
    let db = Database::connect(&url).await.unwrap();
    let ns = Kv::sql(db.clone()).create_namespace(&Actor::local(Source::Cli), "watched").await.unwrap().id;
    db.conn.clone().close().await.unwrap();

    let out = kv_manager(dir.path(), &["alert", "add", "--namespace", &ns, "--metric", "key_count", "--above", "1000"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(id.starts_with("alr_"), "{id}");
    let out =
        kv_manager(dir.path(), &["alert", "add", "--namespace", &ns, "--expiring-within", "3600", "--prefix", "sess:"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kv_manager(dir.path(), &["alert", "list"]);
    let list = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(list.lines().any(|l| l.starts_with(&id) && l.contains("key_count > 1000") && l.contains(" ok ")), "{list}");
    assert!(list.contains("expiring within 3600 s, prefix \"sess:\""), "{list}");
    // A bad rule: refused, naming the field, nothing made.
    let out = kv_manager(dir.path(), &["alert", "add", "--namespace", &ns, "--metric", "mood", "--above", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("metric:"), "{}", String::from_utf8_lossy(&out.stderr));
    let out = kv_manager(dir.path(), &["alert", "remove", &id]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let list = String::from_utf8_lossy(&kv_manager(dir.path(), &["alert", "list"]).stdout).into_owned();
    assert!(!list.contains(&id) && list.lines().count() == 2, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_a_command_line_import_at_a_checkpoint_it_can_resume_from() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("kv.db").display());
    let db = Database::connect(&url).await.unwrap();
    let kv = Kv::sql(db.clone());
    let me = Actor::local(Source::Cli);
    let ns = kv.create_namespace(&me, "interrupted").await.unwrap().id;
    let total = 200_000u64;
    let mut lines = String::new();
    for i in 0..total {
        lines.push_str(&format!("{{\"name\":\"k{i:06}\",\"value\":\"v{i}\"}}\n"));
    }
    std::fs::write(dir.path().join("big.ndjson"), &lines).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kv-manager"))
        .args(["import", "interrupted", "big.ndjson", "--database-url", &url, "--data-dir"])
        .arg(dir.path().join("data"))
        .current_dir(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Some batches written, as another connection to the file sees them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let count = kv.get_namespace(&me, &ns).await.unwrap().key_count;
        assert!(count < total, "the import ended before Ctrl-C");
        if count >= 2_000 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the import wrote nothing in a minute");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap().success());
    let out = tokio::task::spawn_blocking(move || {
        let status = child.wait().unwrap();
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
        (status, stderr)
    })
    .await
    .unwrap();
    let (status, stderr) = out;
    assert!(!status.success(), "an interrupted import exited 0: {stderr}");
    assert!(stderr.contains("interrupted") && stderr.contains("shut down"), "{stderr}");

    // The job is interrupted at a batch: what it counted is exactly what is there, and a resume
    // (here through the domain, as the console's Resume does) completes it.
    let jobs = domain::jobs::Jobs::new(
        kv.clone(),
        db.conn.clone(),
        domain::jobs::JobsConfig { data_dir: dir.path().join("data"), ..Default::default() },
    );
    let page = jobs.list(&me, &domain::jobs::JobQuery::default()).await.unwrap();
    let job = page.jobs.into_iter().find(|j| j.namespace_id == ns).expect("the import job");
    assert_eq!(job.status, domain::jobs::JobStatus::Interrupted, "{job:?}");
    assert!(job.processed > 0 && job.processed < total, "{job:?}");
    assert_eq!(kv.get_namespace(&me, &ns).await.unwrap().key_count, job.processed);
    jobs.resume(&me, &job.id).await.unwrap();
    let done = jobs.wait(&job.id).await.unwrap();
    assert_eq!((done.status, done.processed), (domain::jobs::JobStatus::Completed, total));
    assert_eq!(kv.get_namespace(&me, &ns).await.unwrap().key_count, total);
}
