//! The audit log on SQLite and (with `KVM_TEST_POSTGRES_URL`) PostgreSQL: exactly one row per
//! change, with its user and source, none for a change that failed; filters and paging; CSV.

mod common;

use common::{Fixture, me, put};
use domain::audit::{Audit, AuditEntry, AuditQuery};
use domain::jobs::{JobSpec, Jobs, JobsConfig, Selection};
use domain::{Actor, PutKey, Source};
use serde_json::json;

both!(every_change_leaves_exactly_one_row_and_failures_none, the_log_filters_and_pages);

/// Operation, user, source, namespace title, key.
type Row = (String, String, String, Option<String>, Option<String>);

fn alice() -> Actor {
    Actor::new("alice@example.com", Source::Console, domain::Role::User).with_request_id(Some("req-1".into()))
}

async fn log(f: &Fixture) -> Vec<AuditEntry> {
    let mut page =
        Audit::new(f.db.conn.clone()).list(&AuditQuery { limit: Some(1000), ..Default::default() }).await.unwrap();
    page.entries.reverse();
    page.entries
}

async fn every_change_leaves_exactly_one_row_and_failures_none(f: &Fixture) {
    let a = alice();
    let ns = f.kv.create_namespace(&a, "audited").await.unwrap().id;
    f.kv.put_key(&a, &ns, put("k", "1")).await.unwrap();
    f.kv.put_key(&a, &ns, put("k", "2")).await.unwrap();
    f.kv.put_key_details(&a, &ns, "k", Some(vec!["t".into()]), Some(json!({"owner": "ops"}))).await.unwrap();
    f.kv.restore_key_version(&a, &ns, "k", 1).await.unwrap();
    f.kv.delete_key(&a, &ns, "k").await.unwrap();
    f.kv.put_many(&me(), &ns, vec![put("a", "x"), put("b", "y"), put("c", "z")]).await.unwrap();
    f.kv.rename_namespace(&a, &ns, "audited-2").await.unwrap();
    let before = log(f).await.len();
    // Failed changes leave nothing.
    assert!(f.kv.put_key(&a, &"0".repeat(32), put("k", "v")).await.is_err());
    assert!(f.kv.put_key(&a, &ns, PutKey { metadata: Some(json!("x".repeat(2000))), ..put("k", "v") }).await.is_err());
    f.kv.create_namespace(&a, "other").await.unwrap();
    assert!(f.kv.rename_namespace(&a, &ns, "other").await.is_err());
    assert!(!f.kv.delete_key(&a, &ns, "never-there").await.unwrap());
    let rows = log(f).await;
    assert_eq!(rows.len(), before + 1, "only the successful create of \"other\" was added");

    let dir = tempfile::tempdir().unwrap();
    let jobs = Jobs::new(
        f.kv.clone(),
        f.db.conn.clone(),
        JobsConfig { max_jobs: 1, data_dir: dir.path().to_owned(), export_ttl_hours: 1, instance_id: "a".into() },
    );
    let job = jobs
        .start(
            &a,
            JobSpec::BulkDelete {
                namespace_id: ns.clone(),
                selection: Selection { keys: None, prefix: Some(String::new()) },
            },
        )
        .await
        .unwrap();
    common::wait(&jobs, &job.id).await;
    f.kv.delete_namespace(&a, &ns).await.unwrap();

    let rows: Vec<Row> =
        log(f).await.into_iter().map(|e| (e.operation, e.user, e.source, e.namespace_title, e.key)).collect();
    let alice = "alice@example.com".to_owned();
    let console = "console".to_owned();
    let expected: Vec<Row> = vec![
        ("namespace.create".into(), alice.clone(), console.clone(), Some("audited".into()), None),
        ("key.create".into(), alice.clone(), console.clone(), Some("audited".into()), Some("k".into())),
        ("key.update".into(), alice.clone(), console.clone(), Some("audited".into()), Some("k".into())),
        ("key.details".into(), alice.clone(), console.clone(), Some("audited".into()), Some("k".into())),
        ("key.restore".into(), alice.clone(), console.clone(), Some("audited".into()), Some("k".into())),
        ("key.delete".into(), alice.clone(), console.clone(), Some("audited".into()), Some("k".into())),
        ("keys.put".into(), "local".into(), "script".into(), Some("audited".into()), None),
        ("namespace.rename".into(), alice.clone(), console.clone(), Some("audited-2".into()), None),
        ("namespace.create".into(), alice.clone(), console.clone(), Some("other".into()), None),
        ("job.start".into(), alice.clone(), console.clone(), Some("audited-2".into()), None),
        ("keys.delete".into(), alice.clone(), "job".into(), Some("audited-2".into()), None),
        ("job.completed".into(), alice.clone(), console.clone(), Some("audited-2".into()), None),
        ("namespace.delete".into(), alice.clone(), console.clone(), Some("audited-2".into()), None),
    ];
    assert_eq!(rows, expected);
    let all = log(f).await;
    let many = all.iter().find(|e| e.operation == "keys.put").unwrap();
    assert_eq!((many.details["count"].clone(), many.details["keys"].clone()), (json!(3), json!(["a", "b", "c"])));
    assert_eq!(all[0].request_id.as_deref(), Some("req-1"));
    let rename = all.iter().find(|e| e.operation == "namespace.rename").unwrap();
    assert_eq!(rename.details, json!({"from": "audited", "to": "audited-2"}));
    // Values are never recorded.
    assert!(all.iter().all(|e| !e.details.to_string().contains("\"x\"") && !e.details.to_string().contains("\"1\"")));
}

async fn the_log_filters_and_pages(f: &Fixture) {
    let a = alice();
    let ns1 = f.kv.create_namespace(&a, "one").await.unwrap().id;
    let ns2 = f.kv.create_namespace(&me(), "two").await.unwrap().id;
    for i in 0..30 {
        f.kv.put_key(&a, &ns1, put(&format!("user:{i:02}"), "v")).await.unwrap();
        f.kv.put_key(&me(), &ns2, put(&format!("job:{i:02}"), "v")).await.unwrap();
    }
    let audit = Audit::new(f.db.conn.clone());
    let q = |query: AuditQuery| {
        let audit = audit.clone();
        async move { audit.list(&query).await }
    };
    let by_ns =
        q(AuditQuery { namespace_ids: vec![ns1.clone()], limit: Some(1000), ..Default::default() }).await.unwrap();
    assert_eq!(by_ns.entries.len(), 31);
    let by_user = q(AuditQuery {
        users: vec!["local".into()],
        operations: vec!["key.create".into()],
        limit: Some(1000),
        ..Default::default()
    })
    .await
    .unwrap();
    assert_eq!(by_user.entries.len(), 30);
    assert!(by_user.entries.iter().all(|e| e.namespace_id.as_deref() == Some(ns2.as_str())));
    let by_prefix =
        q(AuditQuery { key_prefix: Some("user:1".into()), limit: Some(1000), ..Default::default() }).await.unwrap();
    assert_eq!(by_prefix.entries.len(), 10);
    let by_source =
        q(AuditQuery { sources: vec!["console".into()], limit: Some(1000), ..Default::default() }).await.unwrap();
    assert_eq!(by_source.entries.len(), 31);
    // Paging: newest first, every row once.
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = q(AuditQuery { limit: Some(7), cursor: cursor.clone(), ..Default::default() }).await.unwrap();
        seen.extend(page.entries.iter().map(|e| e.id));
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let mut sorted = seen.clone();
    sorted.sort_unstable_by(|x, y| y.cmp(x));
    assert_eq!((seen.len(), &seen), (62, &sorted));
    assert_eq!(q(AuditQuery { limit: Some(0), ..Default::default() }).await.unwrap_err().field(), Some("limit"));
    assert_eq!(
        q(AuditQuery { namespace_ids: vec!["x".into()], ..Default::default() }).await.unwrap_err().field(),
        Some("namespace_ids")
    );
    assert_eq!(
        q(AuditQuery { cursor: Some("!!".into()), ..Default::default() }).await.unwrap_err().field(),
        Some("cursor")
    );

    // CSV: quotes, commas and newlines survive a CSV parser.
    let tricky = "he said \"hi\", then\nleft\r\n";
    f.kv.put_key(&a, &ns1, put(tricky, "v")).await.unwrap();
    let entry = q(AuditQuery { limit: Some(1), ..Default::default() }).await.unwrap().entries.remove(0);
    let text = format!("{}{}", domain::audit::CSV_HEADER, domain::audit::csv_record(&entry));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let record = reader.records().next().unwrap().unwrap();
    assert_eq!(&record[7], tricky);
    assert_eq!(&record[2], "alice@example.com");
    assert_eq!(serde_json::from_str::<serde_json::Value>(&record[8]).unwrap(), entry.details);
}
