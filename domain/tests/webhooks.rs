//! Webhooks against a real receiver on loopback (axum): every event arrives at least once and
//! signed, through 500s and 429s; big changes are batched; a change committed before a crash
//! is still delivered after it; a failing endpoint is paused and replays on resume; filters;
//! two senders on one database deliver each event once; refused addresses.

mod common;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use common::*;
use domain::webhooks::{AddressPolicy, EndpointInput, WebhookConfig, Webhooks, sign};
use domain::{Actor, Database, Kv, Role, Source};
use sea_orm::ConnectionTrait;

/// What the receiver answers before it answers 200, and what it got.
#[derive(Default)]
struct Receiver {
    secret: String,
    /// Answers to give first, in order: (status, Retry-After).
    script: VecDeque<(u16, Option<&'static str>)>,
    /// Answer this to everything after the script, instead of 200.
    always: Option<u16>,
    /// Every request: the events' (id, type, key) and whether its signature verified.
    requests: Vec<(Vec<Got>, bool)>,
    /// The answer given to each request.
    answers: Vec<u16>,
}

type Shared = Arc<Mutex<Receiver>>;
/// An event as received: (id, type, key).
type Got = (String, String, Option<String>);

async fn receive(state: axum::extract::State<Shared>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let mut receiver = state.0.lock().unwrap();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let timestamp: i64 = header(sign::TIMESTAMP_HEADER).parse().unwrap_or(0);
    let fresh = (domain::now_unix() - timestamp).abs() < 300;
    let signed = fresh && sign::verify(&receiver.secret, timestamp, &body, &header(sign::SIGNATURE_HEADER));
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let events = json["events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .map(|e| {
                    (
                        e["id"].as_str().unwrap_or_default().to_owned(),
                        e["type"].as_str().unwrap_or_default().to_owned(),
                        e["key"].as_str().map(str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    receiver.requests.push((events, signed));
    let (status, retry_after) = match receiver.script.pop_front() {
        Some(answer) => answer,
        None => (receiver.always.unwrap_or(200), None),
    };
    receiver.answers.push(status);
    let mut response = (StatusCode::from_u16(status).unwrap(), format!("answer {status}")).into_response();
    if let Some(after) = retry_after {
        response.headers_mut().insert("retry-after", after.parse().unwrap());
    }
    response
}

/// Starts a receiver on loopback; answers its URL.
async fn receiver(secret: &str) -> (Shared, String) {
    let shared: Shared = Arc::new(Mutex::new(Receiver { secret: secret.to_owned(), ..Default::default() }));
    let app = axum::Router::new().route("/hook", axum::routing::post(receive)).with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    (shared, format!("http://{addr}/hook"))
}

fn config(instance: &str) -> WebhookConfig {
    WebhookConfig {
        instance_id: instance.to_owned(),
        allow_networks: AddressPolicy::parse_list("127.0.0.0/8").unwrap(),
        timeout: Duration::from_secs(5),
        retry_base: Duration::from_millis(50),
        retry_max: Duration::from_millis(400),
        pause_after: 10,
        batch_max: 100,
        ..Default::default()
    }
}

fn sender(f: &Fixture, instance: &str) -> Webhooks {
    Webhooks::new(f.kv.clone(), f.db.conn.clone(), config(instance)).unwrap()
}

const SECRET: &str = "whsec_test_secret_0123456789";

fn endpoint(url: &str, events: &[&str]) -> EndpointInput {
    EndpointInput {
        url: url.to_owned(),
        events: events.iter().map(|e| (*e).to_owned()).collect(),
        enabled: true,
        secret: Some(SECRET.to_owned()),
        ..Default::default()
    }
}

const KEY_EVENTS: &[&str] = &["key.created", "key.updated", "key.deleted"];

/// Runs passes until `done` holds of what the receiver got, for at most 20 s.
async fn pump(hooks: &[&Webhooks], shared: &Shared, done: impl Fn(&Receiver) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        for hook in hooks {
            hook.run_pass().await.expect("pass");
        }
        if done(&shared.lock().unwrap()) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "webhooks not delivered in time: {:?}",
            shared.lock().unwrap().requests
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

/// The distinct events received and accepted (answered 200): id -> (type, key).
fn received(r: &Receiver) -> HashMap<String, (String, Option<String>)> {
    r.requests
        .iter()
        .zip(&r.answers)
        .filter(|(_, status)| **status == 200)
        .flat_map(|((events, _), _)| events.iter())
        .map(|(id, t, k)| (id.clone(), (t.clone(), k.clone())))
        .collect()
}

fn kinds_and_keys(r: &Receiver) -> BTreeSet<(String, String)> {
    received(r).into_values().map(|(t, k)| (t, k.unwrap_or_default())).collect()
}

async fn every_event_arrives_signed_through_failures(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    shared.lock().unwrap().script = VecDeque::from([(500, None), (500, None), (429, Some("1"))]);
    let hooks = sender(f, "a");
    let made = hooks.create(&me(), endpoint(&url, KEY_EVENTS)).await.unwrap();
    assert_eq!(made.secret, SECRET);
    let ns = namespace(f, "hooked").await;
    f.kv.put_many(&me(), &ns, vec![put("a", "1"), put("b", "2"), put("c", "3")]).await.unwrap();
    f.kv.put_key(&me(), &ns, put("a", "changed")).await.unwrap();
    f.kv.delete_key(&me(), &ns, "b").await.unwrap();
    let expected: BTreeSet<(String, String)> =
        [("key.created", "a"), ("key.created", "b"), ("key.created", "c"), ("key.updated", "a"), ("key.deleted", "b")]
            .into_iter()
            .map(|(t, k)| (t.to_owned(), k.to_owned()))
            .collect();
    let started = std::time::Instant::now();
    pump(&[&hooks], &shared, |r| kinds_and_keys(r) == expected).await;
    // The 429 asked for a second: the delivery after it waited for it.
    assert!(started.elapsed() >= Duration::from_millis(900), "Retry-After not honoured: {:?}", started.elapsed());
    {
        let r = shared.lock().unwrap();
        assert!(r.requests.iter().all(|(_, signed)| *signed), "a delivery was not signed correctly");
        assert_eq!(received(&r).len(), 5, "five distinct event ids: {:?}", r.requests);
        // A retry holds what the failed attempt held, with the same ids, first (on PostgreSQL a
        // change may become readable between attempts, while another test's transaction ran,
        // and then rides along after them).
        assert!(r.requests.iter().all(|(events, _)| events.starts_with(&r.requests[0].0)), "{:?}", r.requests);
    }
    let log = hooks.attempts(&me(), &made.endpoint.id, None).await.unwrap().attempts;
    let mut outcomes: Vec<(String, Option<i64>)> = log.iter().map(|a| (a.outcome.clone(), a.status_code)).collect();
    outcomes.reverse();
    assert_eq!(
        outcomes[..4].to_vec(),
        vec![
            ("failed".to_owned(), Some(500)),
            ("failed".to_owned(), Some(500)),
            ("failed".to_owned(), Some(429)),
            ("delivered".to_owned(), Some(200)),
        ],
        "{log:?}"
    );
    let after_429 = &log[log.len() - 3];
    assert!(after_429.retry_at.unwrap() - after_429.at * 1000 >= 900, "{after_429:?}");
    assert_eq!(log.iter().filter(|a| a.outcome == "delivered").map(|a| a.events).sum::<i64>(), 5);
    assert_eq!(log[0].response.as_deref(), Some("answer 200"));
    let listed = hooks.get(&me(), &made.endpoint.id).await.unwrap();
    assert_eq!((listed.failures, listed.pending, listed.paused_reason), (0, 0, None));
}

async fn a_big_change_is_batched(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    let hooks = sender(f, "a");
    hooks.create(&me(), endpoint(&url, &["key.created"])).await.unwrap();
    let ns = namespace(f, "bulk").await;
    let puts = (0..250).map(|i| put(&format!("k{i:03}"), "v")).collect();
    f.kv.put_many(&me(), &ns, puts).await.unwrap();
    pump(&[&hooks], &shared, |r| received(r).len() == 250).await;
    let r = shared.lock().unwrap();
    assert_eq!(r.requests.len(), 3, "250 events in batches of at most 100");
    assert!(r.requests.iter().all(|(events, _)| events.len() <= 100));
    // In order: the first delivery holds the first hundred keys.
    assert_eq!(r.requests[0].0[0].2.as_deref(), Some("k000"));
    assert_eq!(r.requests[2].0.last().unwrap().2.as_deref(), Some("k249"));
}

async fn a_change_committed_before_a_crash_is_delivered_after_it(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    let hooks = sender(f, "before");
    hooks.create(&me(), endpoint(&url, KEY_EVENTS)).await.unwrap();
    let ns = namespace(f, "crash").await;
    f.kv.put_key(&me(), &ns, put("survivor", "1")).await.unwrap();
    // The process ends before any pass ran: nothing but the database is left.
    drop(hooks);
    let db = Database::connect(&f.url).await.unwrap();
    let kv = Kv::sql(db.clone());
    let restarted = Webhooks::new(kv, db.conn.clone(), config("after")).unwrap();
    // The old instance's lease has to lapse first; a restart under the same id takes it at once.
    let restarted_same = Webhooks::new(Kv::sql(db.clone()), db.conn.clone(), config("before")).unwrap();
    pump(&[&restarted, &restarted_same], &shared, |r| !received(r).is_empty()).await;
    assert_eq!(
        kinds_and_keys(&shared.lock().unwrap()),
        BTreeSet::from([("key.created".to_owned(), "survivor".to_owned())])
    );
}

async fn a_failing_endpoint_is_paused_and_replays_on_resume(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    shared.lock().unwrap().always = Some(503);
    let mut settings = config("a");
    settings.pause_after = 3;
    let hooks = Webhooks::new(f.kv.clone(), f.db.conn.clone(), settings).unwrap();
    let id = hooks.create(&me(), endpoint(&url, KEY_EVENTS)).await.unwrap().endpoint.id;
    let ns = namespace(f, "paused").await;
    f.kv.put_key(&me(), &ns, put("one", "1")).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while hooks.get(&me(), &id).await.unwrap().paused_reason.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "not paused");
        hooks.run_pass().await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    let paused = hooks.get(&me(), &id).await.unwrap();
    assert!(paused.paused_reason.as_deref().unwrap().contains("3 failed deliveries"), "{paused:?}");
    assert!(paused.paused_reason.as_deref().unwrap().contains("503"), "{paused:?}");
    assert_eq!(shared.lock().unwrap().requests.len(), 3);
    // Paused: changes wait in its queue, nothing is sent.
    f.kv.put_key(&me(), &ns, put("two", "2")).await.unwrap();
    for _ in 0..5 {
        hooks.run_pass().await.unwrap();
    }
    assert_eq!(shared.lock().unwrap().requests.len(), 3);
    // Both wait (on PostgreSQL "two" is counted once transactions older than it have ended).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while hooks.get(&me(), &id).await.unwrap().pending < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the two changes are not both waiting");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(hooks.get(&me(), &id).await.unwrap().pending, 2);
    assert_eq!(shared.lock().unwrap().requests.len(), 3, "nothing is sent while paused");
    let audited =
        f.db.conn
            .query_one_raw(sea_orm::Statement::from_string(
                f.db.conn.get_database_backend(),
                "SELECT COUNT(*) AS n FROM audit_log WHERE operation = 'webhook.paused' AND user_name = 'system'",
            ))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(audited.try_get::<i64>("", "n").unwrap(), 1);
    shared.lock().unwrap().always = None;
    hooks.resume(&me(), &id).await.unwrap();
    pump(&[&hooks], &shared, |r| kinds_and_keys(r).len() == 2).await;
    let r = shared.lock().unwrap();
    let last = &r.requests.last().unwrap().0;
    assert_eq!(last.iter().map(|e| e.2.clone().unwrap()).collect::<Vec<_>>(), vec!["one", "two"], "replayed in order");
}

async fn filters_choose_what_an_endpoint_gets(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    let hooks = sender(f, "a");
    let wanted = namespace(f, "wanted").await;
    let other = namespace(f, "other").await;
    let input = EndpointInput {
        namespace_id: Some(wanted.clone()),
        prefix: Some("user:".into()),
        ..endpoint(&url, &["key.deleted"])
    };
    hooks.create(&me(), input).await.unwrap();
    for ns in [&wanted, &other] {
        f.kv.put_many(&me(), ns, vec![put("user:1", "a"), put("order:1", "b")]).await.unwrap();
        f.kv.delete_many(&me(), ns, &["user:1".to_owned(), "order:1".to_owned()]).await.unwrap();
    }
    // A marker after everything else: once it arrives, nothing earlier is still on its way.
    f.kv.put_key(&me(), &wanted, put("user:marker", "m")).await.unwrap();
    f.kv.delete_key(&me(), &wanted, "user:marker").await.unwrap();
    pump(&[&hooks], &shared, |r| kinds_and_keys(r).iter().any(|(_, k)| k == "user:marker")).await;
    assert_eq!(
        kinds_and_keys(&shared.lock().unwrap()),
        BTreeSet::from([
            ("key.deleted".to_owned(), "user:1".to_owned()),
            ("key.deleted".to_owned(), "user:marker".to_owned())
        ])
    );
}

async fn two_senders_deliver_each_event_once(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    let one = sender(f, "one");
    let two = Webhooks::new(f.kv.clone(), f.side_connection().await, config("two")).unwrap();
    one.create(&me(), endpoint(&url, KEY_EVENTS)).await.unwrap();
    let ns = namespace(f, "shared").await;
    for i in 0..20 {
        f.kv.put_key(&me(), &ns, put(&format!("k{i}"), "v")).await.unwrap();
        let (a, b) = tokio::join!(one.run_pass(), two.run_pass());
        let (a, b) = (a.unwrap(), b.unwrap());
        assert!(!(a.leader && b.leader), "both held the lease");
    }
    pump(&[&one, &two], &shared, |r| received(r).len() == 20).await;
    let r = shared.lock().unwrap();
    let sent: usize = r.requests.iter().map(|(events, _)| events.len()).sum();
    assert_eq!(sent, 20, "an event was delivered twice: {:?}", r.requests);
}

async fn bad_endpoints_are_refused_by_field(f: &Fixture) {
    let hooks = Webhooks::new(f.kv.clone(), f.db.conn.clone(), WebhookConfig::default()).unwrap();
    assert_err_status(
        hooks.create(&me(), endpoint("http://127.0.0.1:9/x", KEY_EVENTS)).await,
        "invalid_input",
        400,
        "url",
    );
    assert_err_status(
        hooks.create(&me(), endpoint("gopher://example.com/", KEY_EVENTS)).await,
        "invalid_input",
        400,
        "url",
    );
    assert_err_status(hooks.create(&me(), endpoint("https://example.com/", &[])).await, "invalid_input", 400, "events");
    assert_err_status(
        hooks.create(&me(), endpoint("https://example.com/", &["key.eaten"])).await,
        "invalid_input",
        400,
        "events",
    );
    let input = EndpointInput { namespace_id: Some("nope".into()), ..endpoint("https://example.com/", KEY_EVENTS) };
    assert_err_status(hooks.create(&me(), input).await, "invalid_input", 400, "namespace_id");
    let input = EndpointInput { secret: Some("short".into()), ..endpoint("https://example.com/", KEY_EVENTS) };
    assert_err_status(hooks.create(&me(), input).await, "invalid_input", 400, "secret");
    let reader = Actor::new("viewer", Source::Console, Role::ReadOnly);
    let refused = hooks.create(&reader, endpoint("https://example.com/", KEY_EVENTS)).await.unwrap_err();
    assert_eq!(refused.status(), 403);
    assert!(hooks.list(&reader).await.is_err());
    // Nothing was made, and with no endpoint, changes write no events.
    assert!(hooks.list(&me()).await.unwrap().is_empty());
    hooks.refresh_gate().await.unwrap();
    assert!(!f.kv.events().is_open());
}

async fn a_name_that_resolves_to_loopback_is_refused_when_sent(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    let port = url.trim_start_matches("http://127.0.0.1:").trim_end_matches("/hook").to_owned();
    // The default policy: loopback is refused, so the name must not reach the receiver.
    let hooks = Webhooks::new(
        f.kv.clone(),
        f.db.conn.clone(),
        WebhookConfig { retry_base: Duration::from_millis(10), ..WebhookConfig::default() },
    )
    .unwrap();
    let made = hooks.create(&me(), endpoint(&format!("http://localhost:{port}/hook"), KEY_EVENTS)).await.unwrap();
    let attempt = hooks.send_test(&me(), &made.endpoint.id).await.unwrap();
    assert_eq!(attempt.outcome, "test_failed");
    assert!(attempt.error.as_deref().unwrap().contains("loopback"), "{attempt:?}");
    assert!(shared.lock().unwrap().requests.is_empty(), "the request reached a loopback receiver");
}

async fn a_test_event_is_sent_and_logged(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    let hooks = sender(f, "a");
    let made = hooks.create(&me(), endpoint(&url, &["job.failed"])).await.unwrap();
    let attempt = hooks.send_test(&me(), &made.endpoint.id).await.unwrap();
    assert_eq!((attempt.outcome.as_str(), attempt.status_code), ("test_delivered", Some(200)));
    {
        let r = shared.lock().unwrap();
        assert_eq!(r.requests.len(), 1);
        assert!(r.requests[0].1, "the test event was not signed");
        assert_eq!(r.requests[0].0[0].1, "webhook.test");
    }
    let log = hooks.attempts(&me(), &made.endpoint.id, None).await.unwrap();
    assert_eq!(log.attempts, vec![attempt]);
}

async fn jobs_tell_how_they_ended(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    let hooks = sender(f, "a");
    hooks.create(&me(), endpoint(&url, &["job.completed", "job.failed"])).await.unwrap();
    let ns = namespace(f, "jobs").await;
    f.kv.put_many(&me(), &ns, vec![put("a", "1"), put("b", "2")]).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let spec = domain::jobs::JobSpec::BulkDelete {
        namespace_id: ns.clone(),
        selection: domain::jobs::Selection { keys: Some(vec!["a".into(), "b".into()]), prefix: None },
    };
    let job = run(&jobs, spec).await;
    pump(&[&hooks], &shared, |r| !received(r).is_empty()).await;
    let events = received(&shared.lock().unwrap());
    assert_eq!(events.values().map(|(t, _)| t.as_str()).collect::<Vec<_>>(), vec!["job.completed"], "{job:?}");
}

async fn a_receiver_slower_than_the_timeout_is_a_failed_attempt(f: &Fixture) {
    let app = axum::Router::new().route(
        "/slow",
        axum::routing::post(|| async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "too late"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slow", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    let settings = WebhookConfig { timeout: Duration::from_millis(300), ..config("a") };
    let hooks = Webhooks::new(f.kv.clone(), f.db.conn.clone(), settings).unwrap();
    let made = hooks.create(&me(), endpoint(&url, KEY_EVENTS)).await.unwrap();
    let started = std::time::Instant::now();
    let attempt = hooks.send_test(&me(), &made.endpoint.id).await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "the attempt waited past its timeout");
    assert_eq!((attempt.outcome.as_str(), attempt.status_code), ("test_failed", None));
    assert!(attempt.error.as_deref().unwrap().contains("timed out"), "{attempt:?}");
}

async fn a_paused_endpoints_queue_keeps_changes_only_so_long(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    shared.lock().unwrap().always = Some(503);
    let settings = WebhookConfig { pause_after: 1, keep_queued: Duration::from_secs(86_400), ..config("a") };
    let hooks = Webhooks::new(f.kv.clone(), f.db.conn.clone(), settings).unwrap();
    let id = hooks.create(&me(), endpoint(&url, KEY_EVENTS)).await.unwrap().endpoint.id;
    let ns = namespace(f, "gone-receiver").await;
    let now = domain::now_unix();
    f.kv.put_many(&me(), &ns, vec![put("a", "1")]).await.unwrap();
    f.kv.put_key(&me(), &ns, put("b", "2")).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while hooks.get(&me(), &id).await.unwrap().paused_reason.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "not paused");
        hooks.run_pass().await.unwrap();
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    // Both changes wait (on PostgreSQL the second may become readable only once transactions
    // older than it, other tests' too, have ended).
    while hooks.get(&me(), &id).await.unwrap().pending < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the two changes are not both waiting");
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert_eq!(hooks.get(&me(), &id).await.unwrap().pending, 2);
    // Within the day nothing goes; past it, both changes are dropped and the log says so.
    assert_eq!(hooks.drop_stale_queues(now + 86_400 - 60).await.unwrap(), 0);
    assert_eq!(hooks.get(&me(), &id).await.unwrap().pending, 2);
    assert_eq!(hooks.drop_stale_queues(now + 86_400 + 60).await.unwrap(), 2);
    assert_eq!(hooks.get(&me(), &id).await.unwrap().pending, 0);
    let log = hooks.attempts(&me(), &id, None).await.unwrap().attempts;
    let dropped = log.iter().find(|a| a.outcome == "dropped").expect("a dropped entry in the log");
    assert_eq!(dropped.events, 2);
    assert!(dropped.error.as_deref().unwrap().contains("2 queued change(s) older than 1 day(s)"), "{dropped:?}");
    assert!(dropped.first_event.as_deref().unwrap().starts_with("evt_"), "{dropped:?}");
    // What comes after is still queued and delivered once the endpoint is resumed.
    f.kv.put_key(&me(), &ns, put("c", "3")).await.unwrap();
    shared.lock().unwrap().always = None;
    hooks.resume(&me(), &id).await.unwrap();
    pump(&[&hooks], &shared, |r| kinds_and_keys(r).iter().any(|(_, k)| k == "c")).await;
    let keys: BTreeSet<String> = kinds_and_keys(&shared.lock().unwrap()).into_iter().map(|(_, k)| k).collect();
    assert_eq!(keys, BTreeSet::from(["c".to_owned()]), "the dropped changes are not sent");
}

/// Once every change was delivered and pruned, a new change is still delivered: the outbox's ids
/// keep counting past the endpoint's place (a reused id would sort before it and be passed over).
async fn a_change_after_the_outbox_was_emptied_is_delivered(f: &Fixture) {
    let (shared, url) = receiver(SECRET).await;
    let hooks = sender(f, "a");
    hooks.create(&me(), endpoint(&url, KEY_EVENTS)).await.unwrap();
    let ns = namespace(f, "emptied").await;
    f.kv.put_key(&me(), &ns, put("first", "1")).await.unwrap();
    pump(&[&hooks], &shared, |r| received(r).len() == 1).await;
    // Emptied, as pruning leaves it once every endpoint is past its rows.
    f.db.conn.execute_unprepared("DELETE FROM webhook_outbox").await.unwrap();
    f.kv.put_key(&me(), &ns, put("second", "2")).await.unwrap();
    pump(&[&hooks], &shared, |r| received(r).len() == 2).await;
    let keys: BTreeSet<String> = kinds_and_keys(&shared.lock().unwrap()).into_iter().map(|(_, k)| k).collect();
    assert_eq!(keys, BTreeSet::from(["first".to_owned(), "second".to_owned()]));
}

/// An upgrade from the per-endpoint queues (migration 12) to cursors (13) keeps what each
/// endpoint was still waiting for: the rest of a change it had half sent, and a change not yet
/// fanned out; nothing it already had is sent again.
async fn queued_changes_survive_the_move_to_cursors(f: &Fixture) {
    use migration::MigratorTrait;
    let (shared, url) = receiver(SECRET).await;
    let hooks = sender(f, "a");
    let id = hooks.create(&me(), endpoint(&url, KEY_EVENTS)).await.unwrap().endpoint.id;
    // Undo every migration from the move to cursors on.
    let names: Vec<String> = migration::Migrator::migrations().iter().map(|m| m.name().to_owned()).collect();
    let at = names.iter().position(|n| n.contains("webhook_cursors")).expect("the move to cursors");
    let steps = u32::try_from(names.len() - at).unwrap();
    migration::Migrator::down(&f.db.conn, Some(steps)).await.expect("back to the queues");
    let backend = f.db.conn.get_database_backend();
    let events = |keys: &[&str]| {
        serde_json::to_string(
            &keys.iter().map(|k| serde_json::json!({ "t": "key.created", "k": k })).collect::<Vec<_>>(),
        )
        .unwrap()
    };
    // Row 1 was delivered; of row 2 the first event was; row 3 was not fanned out yet.
    for (row, keys, dispatched) in [(1, ["a0", "a1"], true), (2, ["b0", "b1"], true), (3, ["c0", "c1"], false)] {
        let sql = format!(
            "INSERT INTO webhook_outbox (id, at, user_name, source, kinds, events, dispatched) \
             VALUES ({row}, {}, 'me', 'ui', 'key.created', '{}', {dispatched})",
            domain::now_unix(),
            events(&keys)
        );
        f.db.conn.execute_unprepared(&sql).await.unwrap();
    }
    let queued = format!("INSERT INTO webhook_queue (endpoint_id, outbox_id, skip) VALUES ('{id}', 2, 1)");
    f.db.conn.execute_unprepared(&queued).await.unwrap();
    if backend == sea_orm::DbBackend::Postgres {
        // The rows were given their ids by hand: the sequence goes on after them.
        let sql = "SELECT setval(pg_get_serial_sequence('webhook_outbox', 'id'), 3)";
        f.db.conn.execute_unprepared(sql).await.unwrap();
    }
    migration::Migrator::up(&f.db.conn, None).await.expect("on to the cursors");
    assert_eq!(hooks.get(&me(), &id).await.unwrap().pending, 2, "rows 2 and 3 are waited for");
    pump(&[&hooks], &shared, |r| received(r).len() == 3).await;
    // A change after the upgrade follows them.
    let ns = namespace(f, "upgraded").await;
    f.kv.put_key(&me(), &ns, put("d0", "1")).await.unwrap();
    pump(&[&hooks], &shared, |r| received(r).len() == 4).await;
    let keys: Vec<String> = shared
        .lock()
        .unwrap()
        .requests
        .iter()
        .flat_map(|(events, _)| events.iter().filter_map(|(_, _, key)| key.clone()))
        .collect();
    assert_eq!(keys, ["b1", "c0", "c1", "d0"], "in order, each once, nothing sent twice");
}

/// On PostgreSQL a write that took an outbox id first may commit after one that took a later
/// id: the sender must not pass over its change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_committed_late_on_postgres_is_not_passed_over() {
    use sea_orm::TransactionTrait;
    let Some(f) = postgres().await else {
        eprintln!("KVM_TEST_POSTGRES_URL is not set: PostgreSQL test skipped");
        return;
    };
    let (shared, url) = receiver(SECRET).await;
    let hooks = sender(&f, "a");
    hooks.create(&me(), endpoint(&url, &["key.updated"])).await.unwrap();
    let (slow, fast) = (namespace(&f, "slow").await, namespace(&f, "fast").await);
    f.kv.put_key(&me(), &slow, put("late", "0")).await.unwrap();
    f.kv.put_key(&me(), &fast, put("early", "0")).await.unwrap();
    // Another session holds the row the slow write will update: that write emits its event (the
    // smaller outbox id) and then waits, its transaction open...
    let holder = f.db.conn.begin().await.unwrap();
    let lock = "SELECT name FROM kv_entries WHERE name = 'late' FOR UPDATE";
    holder.execute_unprepared(lock).await.unwrap();
    let kv = f.kv.clone();
    let slow_write = tokio::spawn(async move { kv.put_key(&me(), &slow, put("late", "1")).await });
    let waiting =
        "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let row = f.db.conn.query_one_raw(sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, waiting));
        let n: i64 = row.await.unwrap().unwrap().try_get("", "n").unwrap();
        if n > 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the slow write never waited for the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...while a write in another namespace takes a later id and commits first.
    f.kv.put_key(&me(), &fast, put("early", "1")).await.unwrap();
    for _ in 0..5 {
        hooks.run_pass().await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    holder.rollback().await.unwrap();
    slow_write.await.unwrap().unwrap();
    pump(&[&hooks], &shared, |r| received(r).len() == 2).await;
    let keys: BTreeSet<String> = kinds_and_keys(&shared.lock().unwrap()).into_iter().map(|(_, k)| k).collect();
    assert_eq!(keys, BTreeSet::from(["early".to_owned(), "late".to_owned()]));
    f.finish().await;
}

both!(
    queued_changes_survive_the_move_to_cursors,
    a_change_after_the_outbox_was_emptied_is_delivered,
    a_paused_endpoints_queue_keeps_changes_only_so_long,
    a_receiver_slower_than_the_timeout_is_a_failed_attempt,
    every_event_arrives_signed_through_failures,
    a_big_change_is_batched,
    a_change_committed_before_a_crash_is_delivered_after_it,
    a_failing_endpoint_is_paused_and_replays_on_resume,
    filters_choose_what_an_endpoint_gets,
    two_senders_deliver_each_event_once,
    bad_endpoints_are_refused_by_field,
    a_name_that_resolves_to_loopback_is_refused_when_sent,
    a_test_event_is_sent_and_logged,
    jobs_tell_how_they_ended,
);
