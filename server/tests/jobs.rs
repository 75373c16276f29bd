//! Jobs over HTTP: starters return at once, polling, event replay, import uploads, export
//! downloads, errors with their status and field, and progress over a WebSocket.

mod common;

use std::time::Duration;

use common::TestServer;
use serde_json::{Value, json};

async fn namespace(server: &TestServer, title: &str) -> String {
    server.ok("create_namespace", json!({ "title": title })).await["id"].as_str().unwrap().to_owned()
}

/// Polls `GET /api/jobs/{id}` until the job has ended.
async fn finished(server: &TestServer, id: &str) -> Value {
    for _ in 0..600 {
        let res = server.get(&format!("/api/jobs/{id}")).await;
        assert_eq!(res.status, 200, "{}", res.text());
        let job = res.json();
        if !["queued", "running"].contains(&job["status"].as_str().unwrap()) {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("job {id} did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_jobs_start_at_once_and_report_over_http() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "jobs-http").await;
    for key in ["a", "b", "c"] {
        server.ok("put_key", json!({ "namespace_id": ns, "key": key, "value": key })).await;
    }
    let started =
        server.ok("bulk_tag", json!({ "namespace_id": ns, "prefix": "", "tags": ["hot"], "operation": "add" })).await;
    let id = started["job_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("bulk_tag-"), "{started}");
    assert_eq!(started["ws_url"], format!("/api/jobs/{id}/ws"));
    let job = finished(&server, &id).await;
    assert_eq!(
        (job["status"].as_str(), job["processed"].as_u64(), job["percentage"].as_f64()),
        (Some("completed"), Some(3), Some(100.0))
    );
    let details = server.ok("get_key_details", json!({ "namespace_id": ns, "key": "b" })).await;
    assert_eq!(details["tags"], json!(["hot"]));
    let events = server.get(&format!("/api/jobs/{id}/events")).await.json();
    let names: Vec<&str> = events["events"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!((names.first(), names.last()), (Some(&"created"), Some(&"completed")), "{names:?}");
    assert_eq!(server.ok("job_events", json!({ "job_id": id })).await.as_array().unwrap().len(), names.len());
    let listed = server.ok("list_jobs", json!({ "type": "bulk_tag" })).await;
    assert_eq!(listed["jobs"][0]["id"], id);

    // Bad input: 4xx naming the field, and no job.
    let res = server
        .call("bulk_ttl", json!({ "namespace_id": ns, "prefix": "", "expiration_ttl": 600, "remove": true }))
        .await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some("expiration_ttl")));
    let res = server.call("bulk_delete", json!({ "namespace_id": ns })).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some("keys")));
    let res =
        server.call("bulk_tag", json!({ "namespace_id": ns, "prefix": "", "tags": ["x"], "operation": "merge" })).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some("operation")));
    let res = server
        .call("bulk_copy", json!({ "namespace_id": ns, "prefix": "", "target_namespace_id": "f".repeat(32) }))
        .await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (404, Some("target_namespace_id")));
    assert_eq!(server.get("/api/jobs/bulk_tag-nope").await.status, 404);
    let res = server.request("POST", &format!("/api/jobs/{id}/cancel"), &[], b"").await;
    assert_eq!((res.status, res.json()["error"]["code"].as_str()), (409, Some("conflict")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_uploads_and_export_downloads() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "import-export").await;
    let bad = b"{\"name\":\"a\",\"value\":\"1\"}\n{\"name\":\"b\",\"value\":\"2\"}\n{\"name\":\"c\",\"value\":\"3\",\"metadata\":{\"x\":\"";
    let res = server.request("POST", &format!("/api/import/{ns}?collision=fail"), &[], bad).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let job = finished(&server, res.json()["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "failed");
    assert!(job["error_message"].as_str().unwrap().contains("line 3"), "{job}");
    assert_eq!(server.ok("get_namespace", json!({ "namespace_id": ns })).await["key_count"], 0);

    let good = b"[{\"name\":\"bin\",\"value_base64\":\"AAEC/w==\",\"tags\":[\"t\"]},{\"key\":\"text\",\"value\":\"hello\",\"expiration_ttl\":3600,\"metadata\":{\"m\":1}}]";
    let res = server.request("POST", &format!("/api/import/{ns}"), &[("content-type", "application/json")], good).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let job = finished(&server, res.json()["job_id"].as_str().unwrap()).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(2)), "{job}");

    let started = server.ok("start_export", json!({ "namespace_id": ns, "format": "ndjson" })).await;
    let id = started["job_id"].as_str().unwrap().to_owned();
    let job = finished(&server, &id).await;
    assert_eq!(job["status"], "completed", "{job}");
    for _ in 0..2 {
        let file = server.get(&format!("/api/jobs/{id}/download")).await;
        assert_eq!(file.status, 200);
        assert_eq!(file.header("content-type"), Some("application/x-ndjson"));
        let disposition = file.header("content-disposition").unwrap();
        assert!(
            disposition.starts_with("attachment; filename=\"import-export-") && disposition.ends_with(".ndjson\""),
            "{disposition}"
        );
        let lines: Vec<Value> = file.text().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], json!({ "name": "bin", "value_base64": "AAEC/w==", "tags": ["t"] }));
        assert_eq!((lines[1]["name"].as_str(), lines[1]["value"].as_str()), (Some("text"), Some("hello")));
        assert_eq!(lines[1]["metadata"], json!({ "m": 1 }));
    }
    let res = server.request("POST", &format!("/api/import/{ns}?collision=merge"), &[], good).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some("collision")));
    let res = server.request("POST", &format!("/api/import/{ns}"), &[], b"").await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some("file")));
    let res = server.request("POST", &format!("/api/import/{}", "0".repeat(32)), &[], good).await;
    assert_eq!(res.status, 404, "{}", res.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_follows_a_job_to_its_end() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let server = TestServer::start().await;
    let ns = namespace(&server, "ws").await;
    let mut lines = String::new();
    for i in 0..20_000 {
        lines.push_str(&format!("{{\"name\":\"k{i:05}\",\"value\":\"v\"}}\n"));
    }
    let res = server.request("POST", &format!("/api/import/{ns}"), &[], lines.as_bytes()).await;
    let id = res.json()["job_id"].as_str().unwrap().to_owned();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/jobs/{id}/ws", server.addr)).await.unwrap();
    socket.send(Message::Text(r#"{"type":"ping"}"#.into())).await.unwrap();
    let mut kinds = Vec::new();
    let mut last = Value::Null;
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            let value: Value = serde_json::from_str(&text).unwrap();
            kinds.push(value["type"].as_str().unwrap().to_owned());
            last = value;
        }
    }
    assert_eq!(kinds.last().map(String::as_str), Some("completed"), "{kinds:?}");
    assert!(kinds.contains(&"pong".to_owned()) && kinds.contains(&"progress".to_owned()), "{kinds:?}");
    assert_eq!(last["job"]["processed"], 20_000);
    // After the end, a socket gets the final state at once and is closed.
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/jobs/{id}/ws", server.addr)).await.unwrap();
    let first = socket.next().await.unwrap().unwrap();
    let value: Value = serde_json::from_str(first.to_text().unwrap()).unwrap();
    assert_eq!((value["type"].as_str(), value["job"]["id"].as_str()), (Some("completed"), Some(id.as_str())));
    assert!(matches!(socket.next().await, Some(Ok(Message::Close(_))) | None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_websocket_can_cancel_its_job() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let server = TestServer::start().await;
    let ns = namespace(&server, "ws-cancel").await;
    let mut lines = String::new();
    for i in 0..100_000 {
        lines.push_str(&format!("{{\"name\":\"k{i:06}\",\"value\":\"v\"}}\n"));
    }
    let res = server.request("POST", &format!("/api/import/{ns}"), &[], lines.as_bytes()).await;
    let id = res.json()["job_id"].as_str().unwrap().to_owned();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/jobs/{id}/ws", server.addr)).await.unwrap();
    socket.send(Message::Text(r#"{"type":"cancel"}"#.into())).await.unwrap();
    let mut last = Value::Null;
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            last = serde_json::from_str(&text).unwrap();
        }
    }
    assert_eq!(last["type"], "cancelled", "{last}");
    let processed = last["job"]["processed"].as_u64().unwrap();
    assert!(processed < 100_000, "{last}");
    let key_count = server.ok("get_namespace", json!({ "namespace_id": ns })).await["key_count"].as_u64().unwrap();
    assert_eq!(key_count, processed, "what the job reports written is what was written");
}

/// Uploads are held to `--max-upload-bytes` while they stream: a declared length over it is
/// refused before a byte is read, a stream that grows over it is cut off with 413 and its partial
/// file removed, and an upload for a namespace that does not exist is refused before its body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_uploads_are_capped_and_refused_before_their_body() {
    let dir = tempfile::tempdir().unwrap();
    let imports = dir.path().join("data/imports");
    std::fs::create_dir_all(&imports).unwrap();
    std::fs::write(imports.join("01left-by-a-crash.upload"), b"{\"name\":\"k\",\"value\":\"v\"}\n").unwrap();
    let database = common::TestDatabase::new(dir.path());
    let url = database.url.clone();
    let data = dir.path().join("data");
    let server = TestServer::start_configured(url, dir, "127.0.0.1:0", |c| c.max_upload_bytes = 4096).await;
    let uploads = || std::fs::read_dir(&imports).unwrap().count();
    assert_eq!(uploads(), 0, "an upload no job reads is removed at start-up");
    let ns = namespace(&server, "capped").await;
    let host = server.addr.to_string();

    // A declared length over the limit: 413 at once, nothing stored.
    let head = format!(
        "POST /api/import/{ns} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 1000000000\r\n\r\n"
    );
    let res = server.raw(&head, &[b"{\"name\":"]).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (413, Some("file")), "{}", res.text());
    assert!(res.text().contains("4096"), "{}", res.text());
    assert_eq!(uploads(), 0);

    // A stream with no length that grows past it: 413, the partial file gone.
    let head = format!(
        "POST /api/import/{ns} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let line = "{\"name\":\"key\",\"value\":\"0123456789012345678901234567890123456789\"}\n".repeat(10);
    let chunk = format!("{:x}\r\n{line}\r\n", line.len());
    let chunks: Vec<&[u8]> = std::iter::repeat_n(chunk.as_bytes(), 20).chain([&b"0\r\n\r\n"[..]]).collect();
    let res = server.raw(&head, &chunks).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (413, Some("file")), "{}", res.text());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(uploads(), 0, "the partial upload is removed");

    // Just under the limit, streamed: accepted and imported.
    let chunks: Vec<&[u8]> = std::iter::repeat_n(chunk.as_bytes(), 6).chain([&b"0\r\n\r\n"[..]]).collect();
    let res = server.raw(&head, &chunks).await;
    assert_eq!(res.status, 202, "{}", res.text());
    let job = finished(&server, res.json()["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");

    // A namespace that does not exist: 404 without waiting for the gigabyte it announces.
    let missing = "0".repeat(32);
    let head = format!(
        "POST /api/import/{missing} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: 1000000000\r\n\r\n"
    );
    let res = server.raw(&head, &[]).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (404, Some("namespace_id")), "{}", res.text());
    assert!(data.join("imports").read_dir().unwrap().next().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_delete_over_thousands_of_listed_keys_lists_and_fetches_small() {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;

    let server = TestServer::start().await;
    let ns = namespace(&server, "listed-keys").await;
    // 5,000 names of 100 bytes: half a megabyte of list.
    let names: Vec<String> = (0..5000).map(|i| format!("{i:05}-{}", "n".repeat(94))).collect();
    let mut lines = String::new();
    for name in &names {
        lines.push_str(&format!("{{\"name\":\"{name}\",\"value\":\"v\"}}\n"));
    }
    let res = server.request("POST", &format!("/api/import/{ns}"), &[], lines.as_bytes()).await;
    let import = finished(&server, res.json()["job_id"].as_str().unwrap()).await;
    assert_eq!(import["processed"], 5000, "{import}");

    let started = server.ok("bulk_delete", json!({ "namespace_id": ns, "keys": names })).await;
    let id = started["job_id"].as_str().unwrap().to_owned();
    let (mut socket, _) =
        tokio_tungstenite::connect_async(format!("ws://{}/api/jobs/{id}/ws", server.addr)).await.unwrap();
    let mut largest_message = 0;
    while let Some(Ok(message)) = socket.next().await {
        if let Message::Text(text) = message {
            largest_message = largest_message.max(text.len());
        }
    }
    assert!(largest_message < 4096, "a WebSocket message of {largest_message} bytes");
    let job = finished(&server, &id).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(5000)), "{job}");
    assert_eq!(server.ok("get_namespace", json!({ "namespace_id": ns })).await["key_count"], 0);

    let fetched = server.call("get_job", json!({ "job_id": id })).await;
    assert_eq!(fetched.status, 200);
    assert!(fetched.text().len() < 4096, "get_job answered {} bytes", fetched.text().len());
    assert_eq!(fetched.json()["params"]["selection"]["key_count"], 5000, "{}", fetched.text());
    let listed = server.call("list_jobs", json!({ "type": "bulk_delete" })).await;
    assert_eq!(listed.status, 200);
    assert!(listed.text().len() < 8192, "list_jobs answered {} bytes", listed.text().len());
    assert_eq!(listed.json()["jobs"][0]["id"], id.as_str());
    let polled = server.get(&format!("/api/jobs/{id}")).await;
    assert!(polled.text().len() < 4096, "GET /api/jobs/{{id}} answered {} bytes", polled.text().len());
    let events = server.call("job_events", json!({ "job_id": id })).await;
    assert!(events.text().len() < 8192, "job_events answered {} bytes", events.text().len());
}

/// The unix second now, once the clock has passed it: every write made after is stamped later.
async fn moment() -> i64 {
    let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let at = now();
    while now() <= at {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    at
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rewind_previews_with_dry_run_then_runs_as_a_job() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "rewind-http").await;
    for key in ["a", "b", "same"] {
        server.ok("put_key", json!({ "namespace_id": ns, "key": key, "value": "old" })).await;
    }
    let at = moment().await;
    server.ok("put_key", json!({ "namespace_id": ns, "key": "a", "value": "new" })).await;
    server.ok("delete_key", json!({ "namespace_id": ns, "key": "b" })).await;
    server.ok("put_key", json!({ "namespace_id": ns, "key": "c", "value": "new" })).await;

    let preview = server.ok("rewind", json!({ "namespace_id": ns, "at": at, "dry_run": true })).await;
    assert_eq!(
        preview["counts"],
        json!({ "created": 1, "changed": 1, "deleted": 1, "unchanged": 1, "incomplete": 0 }),
        "{preview}"
    );
    assert_eq!(
        (&preview["created"], &preview["changed"], &preview["deleted"]),
        (&json!(["b"]), &json!(["a"]), &json!(["c"]))
    );
    assert_eq!(preview["complete"], true);
    let c = server.ok("get_key", json!({ "namespace_id": ns, "key": "c" })).await;
    assert_eq!(c["value"], "new", "a dry run writes nothing");

    let started = server.ok("rewind", json!({ "namespace_id": ns, "at": at })).await;
    let id = started["job_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("rewind-"), "{started}");
    let job = finished(&server, &id).await;
    assert_eq!((job["status"].as_str(), job["processed"].as_u64()), (Some("completed"), Some(4)), "{job}");
    assert_eq!(job["result"]["counts"]["deleted"], 1, "{job}");
    for key in ["a", "b", "same"] {
        let got = server.ok("get_key", json!({ "namespace_id": ns, "key": key })).await;
        assert_eq!(got["value"], "old", "{key}");
    }
    let res = server.call("get_key", json!({ "namespace_id": ns, "key": "c" })).await;
    assert_eq!(res.status, 404);

    let res = server.call("rewind", json!({ "namespace_id": ns, "at": at + 3600, "dry_run": true })).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some("at")), "{}", res.text());
    let res = server.call("rewind", json!({ "namespace_id": ns, "at": at + 3600 })).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some("at")), "{}", res.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_delete_previewed_then_run_is_undone_after_a_preview_and_what_cannot_be_undone_is_refused() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "undo-http").await;
    for key in ["a", "b", "c"] {
        server.ok("put_key", json!({ "namespace_id": ns, "key": key, "value": format!("value of {key}") })).await;
    }
    let plan = server.ok("bulk_delete", json!({ "namespace_id": ns, "prefix": "", "dry_run": true })).await;
    assert_eq!(plan["counts"], json!({ "created": 0, "changed": 0, "deleted": 3, "skipped": 0 }), "{plan}");
    assert_eq!((&plan["deleted"], &plan["job_type"]), (&json!(["a", "b", "c"]), &json!("bulk_delete")));
    assert_eq!(server.ok("get_key", json!({ "namespace_id": ns, "key": "a" })).await["value"], "value of a");
    let started = server.ok("bulk_delete", json!({ "namespace_id": ns, "prefix": "" })).await;
    let deleted = started["job_id"].as_str().unwrap().to_owned();
    assert_eq!(finished(&server, &deleted).await["status"], "completed");
    server.ok("put_key", json!({ "namespace_id": ns, "key": "c", "value": "written since" })).await;

    let preview = server.ok("undo_job", json!({ "job_id": deleted, "dry_run": true })).await;
    assert_eq!(
        preview["counts"],
        json!({ "created": 2, "changed": 0, "deleted": 0, "unchanged": 0, "incomplete": 0 }),
        "{preview}"
    );
    assert_eq!((&preview["created"], &preview["changed_since"]), (&json!(["a", "b"]), &json!(["c"])), "{preview}");
    assert_eq!((preview["changed_since_count"].as_u64(), preview["complete"].as_bool()), (Some(1), Some(false)));
    assert_eq!(
        server.call("get_key", json!({ "namespace_id": ns, "key": "a" })).await.status,
        404,
        "a dry run writes nothing"
    );

    let started = server.ok("undo_job", json!({ "job_id": deleted })).await;
    let id = started["job_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("undo-"), "{started}");
    let job = finished(&server, &id).await;
    assert_eq!((job["status"].as_str(), job["errors"].as_u64()), (Some("completed"), Some(1)), "{job}");
    assert_eq!(job["failures"][0]["key"], "c", "{job}");
    for (key, value) in [("a", "value of a"), ("b", "value of b"), ("c", "written since")] {
        assert_eq!(server.ok("get_key", json!({ "namespace_id": ns, "key": key })).await["value"], value, "{key}");
    }
    let listed = server.ok("list_jobs", json!({ "type": "undo" })).await;
    assert_eq!(listed["jobs"][0]["id"], json!(id), "{listed}");

    let export = server.ok("start_export", json!({ "namespace_id": ns, "format": "json" })).await;
    let export = export["job_id"].as_str().unwrap().to_owned();
    finished(&server, &export).await;
    for (input, status) in [
        (json!({ "job_id": export, "dry_run": true }), 400),
        (json!({ "job_id": export }), 400),
        (json!({ "job_id": "bulk_delete-nosuchjob", "dry_run": true }), 404),
    ] {
        let res = server.call("undo_job", input).await;
        assert_eq!((res.status, res.json()["error"]["field"].as_str()), (status, Some("job_id")), "{}", res.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_listed_and_restored_with_a_dry_run_first() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "backup-http").await;
    for key in ["a", "b", "same"] {
        server.ok("put_key", json!({ "namespace_id": ns, "key": key, "value": "old" })).await;
    }
    let started = server.ok("start_backup", json!({ "namespace_id": ns })).await;
    let id = started["job_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("backup-"), "{started}");
    let job = finished(&server, &id).await;
    assert_eq!(job["status"], "completed", "{job}");
    let backup_id = job["result"]["backup_id"].as_str().unwrap().to_owned();
    let listed = server.ok("list_backups", json!({})).await;
    let entry = listed["backups"].as_array().unwrap().iter().find(|b| b["backup_id"] == backup_id.as_str());
    let entry = entry.unwrap_or_else(|| panic!("{listed}"));
    assert_eq!((entry["status"].as_str(), entry["key_count"].as_u64()), (Some("complete"), Some(3)), "{entry}");
    assert_eq!(entry["namespace_id"], ns.as_str());

    server.ok("put_key", json!({ "namespace_id": ns, "key": "a", "value": "new" })).await;
    server.ok("delete_key", json!({ "namespace_id": ns, "key": "b" })).await;
    server.ok("put_key", json!({ "namespace_id": ns, "key": "c", "value": "new" })).await;
    let body = json!({ "backup_id": backup_id, "namespace_id": ns, "mode": "equal", "dry_run": true });
    let preview = server.ok("restore_backup", body).await;
    assert_eq!(
        (&preview["counts"]["created"], &preview["counts"]["changed"], &preview["counts"]["deleted"]),
        (&json!(1), &json!(1), &json!(1)),
        "{preview}"
    );
    assert_eq!(
        (&preview["created"], &preview["changed"], &preview["deleted"]),
        (&json!(["b"]), &json!(["a"]), &json!(["c"]))
    );
    let c = server.ok("get_key", json!({ "namespace_id": ns, "key": "c" })).await;
    assert_eq!(c["value"], "new", "a dry run writes nothing");

    let started =
        server.ok("restore_backup", json!({ "backup_id": backup_id, "namespace_id": ns, "mode": "equal" })).await;
    let id = started["job_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("restore-"), "{started}");
    let job = finished(&server, &id).await;
    assert_eq!(job["status"], "completed", "{job}");
    for key in ["a", "b", "same"] {
        let got = server.ok("get_key", json!({ "namespace_id": ns, "key": key })).await;
        assert_eq!(got["value"], "old", "{key}");
    }
    assert_eq!(server.call("get_key", json!({ "namespace_id": ns, "key": "c" })).await.status, 404);

    // Into a new namespace.
    let body = json!({ "backup_id": backup_id, "new_namespace_title": "backup-http-copy" });
    let started = server.ok("restore_backup", body).await;
    let job = finished(&server, started["job_id"].as_str().unwrap()).await;
    assert_eq!(job["status"], "completed", "{job}");
    let copy = job["namespace_id"].as_str().unwrap();
    let got = server.ok("get_key", json!({ "namespace_id": copy, "key": "same" })).await;
    assert_eq!(got["value"], "old");

    // Refusals name the field.
    for (body, field) in [
        (json!({ "backup_id": "../../etc", "namespace_id": ns, "dry_run": true }), "backup_id"),
        (json!({ "backup_id": backup_id, "namespace_id": ns, "mode": "merge" }), "mode"),
        (json!({ "backup_id": backup_id }), "namespace_id"),
        (json!({ "backup_id": backup_id, "namespace_id": ns, "prefix": "a\u{0}", "dry_run": true }), "prefix"),
        (json!({ "backup_id": backup_id, "namespace_id": ns, "target": "s3" }), "target"),
    ] {
        let res = server.call("restore_backup", body.clone()).await;
        assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some(field)), "{body}: {}", res.text());
    }
    let res =
        server.call("restore_backup", json!({ "backup_id": "no-such", "namespace_id": ns, "dry_run": true })).await;
    assert_eq!(res.status, 404, "{}", res.text());
    let res = server.call("start_backup", json!({ "namespace_id": ns, "prefix": "a\u{0}" })).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some("prefix")), "{}", res.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_plans_are_saved_run_paused_and_deleted() {
    let server = TestServer::start().await;
    let ns = namespace(&server, "plan-http").await;
    server.ok("put_key", json!({ "namespace_id": ns, "key": "a", "value": "1" })).await;
    for (body, field) in [
        (json!({ "namespace_id": ns, "cron": "every day" }), "cron"),
        (json!({ "namespace_id": ns, "cron": "0 3 * * *", "keep_last": 0 }), "keep_last"),
        (json!({ "namespace_id": ns, "cron": "0 3 * * *", "keep_days": 4000 }), "keep_days"),
        (json!({ "namespace_id": ns, "cron": "0 3 * * *", "target": "s3" }), "target"),
    ] {
        let res = server.call("save_backup_plan", body.clone()).await;
        assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some(field)), "{body}: {}", res.text());
    }
    let plan = server.ok("save_backup_plan", json!({ "namespace_id": ns, "cron": "0 3 * * *", "keep_last": 2 })).await;
    let id = plan["id"].as_str().unwrap().to_owned();
    assert_eq!((plan["keep_last"].as_u64(), plan["paused"].as_bool()), (Some(2), Some(false)), "{plan}");
    let listed = server.ok("list_backup_plans", json!({})).await;
    assert_eq!(listed["plans"].as_array().unwrap().len(), 1, "{listed}");

    let run = server.ok("run_backup_plan_now", json!({ "plan_id": id })).await;
    let job_id = run["jobs"][0]["job_id"].as_str().unwrap().to_owned();
    let job = finished(&server, &job_id).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["result"]["plan_id"], id.as_str());
    assert_eq!(job["result"]["pruned"], 0);

    let paused = server.ok("set_backup_plan_paused", json!({ "plan_id": id, "paused": true })).await;
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["next_run_at"], plan["next_run_at"]);
    let edited = server.ok("save_backup_plan", json!({ "plan_id": id, "namespace_id": ns, "cron": "@daily" })).await;
    assert_eq!((edited["cron"].as_str(), edited["paused"].as_bool()), (Some("@daily"), Some(true)), "{edited}");
    server.ok("delete_backup_plan", json!({ "plan_id": id })).await;
    let res = server.call("run_backup_plan_now", json!({ "plan_id": id })).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (404, Some("plan_id")), "{}", res.text());
    assert_eq!(server.ok("list_backup_plans", json!({})).await["plans"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_targets_are_listed_local_first() {
    let server = TestServer::start().await;
    let targets = server.ok("list_backup_targets", json!({})).await;
    let first = &targets["targets"][0];
    assert_eq!(first["name"], "local", "{targets}");
    assert!(first["location"].as_str().is_some_and(|l| !l.is_empty()), "{targets}");
}
