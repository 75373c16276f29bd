//! The audit log over HTTP: `list_audit` and the CSV download.

mod common;

use common::TestServer;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_lists_and_downloads_as_csv() {
    let server = TestServer::start().await;
    let ns = server.ok("create_namespace", json!({ "title": "audited, \"quoted\"" })).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let tricky = "a \"key\", with\nnewline";
    server.ok("put_key", json!({ "namespace_id": ns, "key": tricky, "value": "secret value" })).await;
    server.ok("delete_key", json!({ "namespace_id": ns, "key": tricky })).await;

    let page =
        server.ok("list_audit", json!({ "namespace_ids": [ns], "operations": ["key.create", "key.delete"] })).await;
    let ops: Vec<&str> = page["entries"].as_array().unwrap().iter().map(|e| e["operation"].as_str().unwrap()).collect();
    assert_eq!(ops, ["key.delete", "key.create"], "newest first");
    assert_eq!(page["entries"][0]["key"], tricky);
    assert_eq!(page["entries"][0]["source"], "script");
    let res = server.call("list_audit", json!({ "limit": 5000 })).await;
    assert_eq!((res.status, res.json()["error"]["field"].as_str()), (400, Some("limit")));

    let csv = server.get(&format!("/api/audit.csv?namespace_ids={ns}")).await;
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(!csv.text().contains("secret value"), "values are never in the audit log");
    let mut reader = csv::Reader::from_reader(csv.body.as_slice());
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 3);
    assert_eq!((&records[0][4], &records[0][7]), ("key.delete", tricky));
    assert_eq!((&records[2][4], &records[2][6]), ("namespace.create", "audited, \"quoted\""));
    let bad = server.get("/api/audit.csv?namespace_ids=nope").await;
    assert_eq!((bad.status, bad.json()["error"]["field"].as_str()), (400, Some("namespace_ids")));
}
