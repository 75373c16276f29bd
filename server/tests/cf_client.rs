//! The Cloudflare client (`domain::cloudflare`) against a real server speaking Cloudflare's
//! contract: our own, over HTTP. No fake Cloudflare: instance A plays it, and a small proxy in
//! front of it injects 429s (with Retry-After) and 503s.

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use common::proxy::{Mode, Proxy, UNAVAILABLE};
use domain::DomainError;
use domain::cloudflare::{BulkWrite, CloudflareClient, CloudflareConfig};
use kv_manager::cf_api::DEFAULT_ACCOUNT_ID;
use serde_json::json;

fn client(base: &str, token: &str) -> CloudflareClient {
    let mut config = CloudflareConfig::new(base, DEFAULT_ACCOUNT_ID, token);
    config.backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_secs(2);
    CloudflareClient::new(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_call_works_against_a_server_speaking_cloudflares_contract() {
    let a = TestServer::start().await;
    let cf = client(&format!("http://{}/client/v4", a.addr), &a.api_token("instance-b"));

    let ns = cf.create_namespace("from-b").await.unwrap();
    assert_eq!(ns.title, "from-b");
    match cf.create_namespace("from-b").await {
        Err(DomainError::Upstream { status: 400, code: 10014, message }) => {
            assert!(message.starts_with("Cloudflare: "))
        }
        other => panic!("expected Cloudflare's 10014, got {other:?}"),
    }
    cf.rename_namespace(&ns.id, "renamed-by-b").await.unwrap();
    assert_eq!(cf.get_namespace(&ns.id).await.unwrap().title, "renamed-by-b");
    for i in 0..3 {
        cf.create_namespace(&format!("extra-{i}")).await.unwrap();
    }
    assert_eq!(cf.all_namespaces().await.unwrap().len(), 4);
    let (page, total) = cf.list_namespaces(2, 3).await.unwrap();
    assert_eq!((page.len(), total), (1, 4));
    match cf.get_namespace("0123456789abcdef0123456789abcdef").await {
        Err(err @ DomainError::Upstream { status: 404, code: 10013, .. }) => assert_eq!(err.status(), 404),
        other => panic!("expected 10013, got {other:?}"),
    }

    // One value with metadata (multipart) and an expiration; any key characters.
    let at = domain::now_unix() + 3600;
    cf.put_value(&ns.id, "user/1 ✓?", b"hello", Some(&json!({ "plan": "pro" })), Some(at)).await.unwrap();
    assert_eq!(cf.get_value(&ns.id, "user/1 ✓?").await.unwrap().as_deref(), Some(b"hello".as_slice()));
    assert_eq!(cf.get_value(&ns.id, "nope").await.unwrap(), None);
    let keys = cf.all_keys(&ns.id, "user/").await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!((keys[0].expiration, keys[0].metadata.clone()), (Some(at), Some(json!({ "plan": "pro" }))));

    // 25,000 keys: three bulk writes, every key listed, values read back 100 at a time.
    let items: Vec<BulkWrite> = (0..25_000)
        .map(|i| {
            let value = if i == 7 { vec![0xff, 0x00, 0xfe] } else { format!("value {i}").into_bytes() };
            BulkWrite::new(format!("k{i:05}"), &value, None, (i % 2 == 0).then(|| json!({ "i": i })))
        })
        .collect();
    let before = cf.requests_sent();
    assert_eq!(cf.bulk_write(&ns.id, &items).await.unwrap(), 3);
    assert_eq!(cf.requests_sent() - before, 3);
    let listed = cf.all_keys(&ns.id, "k").await.unwrap();
    assert_eq!(listed.len(), 25_000);
    assert!(listed.windows(2).all(|w| w[0].name < w[1].name));
    assert_eq!(listed[4].metadata, Some(json!({ "i": 4 })));
    let names: Vec<String> = (0..250).map(|i| format!("k{i:05}")).chain(["missing".to_owned()]).collect();
    let before = cf.requests_sent();
    let values = cf.bulk_get(&ns.id, &names).await.unwrap();
    // Three bulk gets, and the one value that is not UTF-8 read again as bytes.
    assert_eq!(cf.requests_sent() - before, 4);
    assert_eq!(values.len(), 250);
    assert_eq!(values["k00003"].value, b"value 3");
    assert_eq!(values["k00007"].value, [0xff, 0x00, 0xfe]);
    assert_eq!(values["k00008"].metadata, Some(json!({ "i": 8 })));

    let all: Vec<String> = listed.iter().map(|k| k.name.clone()).collect();
    assert_eq!(cf.bulk_delete(&ns.id, &all).await.unwrap(), 3);
    cf.delete_value(&ns.id, "user/1 ✓?").await.unwrap();
    assert!(cf.all_keys(&ns.id, "").await.unwrap().is_empty());
    cf.delete_namespace(&ns.id).await.unwrap();
    assert_eq!(cf.all_namespaces().await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_outages_are_retried_and_a_lasting_failure_says_cloudflares_message() {
    let a = TestServer::start().await;
    let secret = a.api_token("instance-b");
    let (proxy, base) = Proxy::start(&format!("http://{}", a.addr)).await;
    proxy.set_mode(Mode::TwoInThree);
    let cf = client(&base, &secret);

    // Two of every three requests fail at first: everything still completes.
    let ns = cf.create_namespace("through-faults").await.unwrap();
    let items: Vec<BulkWrite> =
        (0..12_000).map(|i| BulkWrite::new(format!("k{i:05}"), format!("v{i}").as_bytes(), None, None)).collect();
    assert_eq!(cf.bulk_write(&ns.id, &items).await.unwrap(), 2);
    assert_eq!(cf.all_keys(&ns.id, "").await.unwrap().len(), 12_000);
    let names: Vec<String> = (0..300).map(|i| format!("k{i:05}")).collect();
    assert_eq!(cf.bulk_get(&ns.id, &names).await.unwrap().len(), 300);
    assert_eq!(cf.requests_sent() as usize, proxy.seen(), "every attempt reached the proxy");
    let stats = cf.stats();
    assert_eq!((stats.requests, stats.ok + stats.retried, stats.failed), (cf.requests_sent(), stats.requests, 0));
    assert!(stats.retried >= stats.requests / 2, "two in three failed at first: {stats:?}");
    let direct = client(&format!("http://{}/client/v4", a.addr), &secret);
    assert_eq!(direct.all_keys(&ns.id, "").await.unwrap().len(), 12_000, "each key written exactly once");

    // Retry-After is a floor for the wait.
    proxy.set_mode(Mode::FirstLimited);
    let cf_slow = client(&base, &secret);
    let started = Instant::now();
    cf_slow.get_namespace(&ns.id).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "retried after {:?}", started.elapsed());
    assert_eq!(cf_slow.requests_sent(), 2);
    let stats = cf_slow.stats();
    assert_eq!((stats.ok, stats.retried, stats.failed), (1, 1, 0));
    assert!(stats.latency_us < 1_000_000, "the wait between attempts is not answer time: {stats:?}");

    // Down for good: the attempts run out and Cloudflare's own words reach the caller.
    proxy.set_mode(Mode::Down);
    let cf_down = client(&base, &secret);
    match cf_down.bulk_write(&ns.id, &items[..10]).await {
        Err(err @ DomainError::Upstream { status: 503, .. }) => {
            assert!(err.to_string().contains(UNAVAILABLE), "{err}");
            assert_eq!(err.status(), 502);
        }
        other => panic!("expected the upstream failure, got {other:?}"),
    }
    assert_eq!(cf_down.requests_sent(), 6, "six attempts, then the error");
    let stats = cf_down.stats();
    assert_eq!((stats.requests, stats.ok, stats.retried, stats.failed), (6, 0, 5, 1));
}
