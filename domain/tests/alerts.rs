//! Alert rules with a clock the test moves: an expiry rule fires once per key (and again for a
//! key whose expiration moved), only for its prefix and tag; a threshold fires when breached,
//! not again within its cooldown, again after it, and "resolved" when it clears, audited as the
//! system user and written to the webhook outbox; operations per hour and p99 come from the
//! rollups; bad rules are refused by field; one of two instances checks.

mod common;

use common::*;
use domain::alerts::{Alerts, CheckSummary, RuleInput};
use domain::webhooks::{EndpointInput, WebhookConfig, Webhooks};
use domain::{Actor, PutKey, Role, Source};
use sea_orm::ConnectionTrait;

fn alerts(f: &Fixture, instance: &str) -> Alerts {
    Alerts::new(f.kv.clone(), f.db.conn.clone(), instance)
}

async fn count(f: &Fixture, sql: &str) -> i64 {
    let row =
        f.db.conn
            .query_one_raw(sea_orm::Statement::from_string(f.db.conn.get_database_backend(), sql.to_owned()))
            .await
            .unwrap()
            .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

/// An endpoint that wants alerts, so events are written to the outbox (it is never delivered to:
/// no sender runs here).
async fn open_outbox(f: &Fixture) {
    let hooks = Webhooks::new(f.kv.clone(), f.db.conn.clone(), WebhookConfig::default()).unwrap();
    let input = EndpointInput {
        url: "https://hooks.example.com/kv".into(),
        events: vec!["keys.expiring".into(), "threshold.breached".into(), "threshold.resolved".into()],
        enabled: true,
        ..Default::default()
    };
    hooks.create(&me(), input).await.unwrap();
}

fn expiring(name: &str, expiration: i64) -> PutKey {
    PutKey { expiration: Some(expiration), ..put(name, "v") }
}

async fn an_expiry_rule_fires_once_per_key(f: &Fixture) {
    open_outbox(f).await;
    let ns = namespace(f, "sessions").await;
    let now = domain::now_unix();
    f.kv.put_many(
        &me(),
        &ns,
        vec![
            expiring("sess:a", now + 100),
            expiring("sess:b", now + 5000),
            expiring("user:c", now + 100),
            put("sess:forever", "v"),
        ],
    )
    .await
    .unwrap();
    let rule = RuleInput {
        kind: "expiry".into(),
        namespace_id: ns.clone(),
        prefix: Some("sess:".into()),
        within_secs: Some(600),
        enabled: true,
        ..Default::default()
    };
    let checker = alerts(f, "a");
    let rule = checker.create(&me(), rule).await.unwrap();
    let first = checker.check(now).await.unwrap();
    assert_eq!(first, CheckSummary { leader: true, expiring_fired: 1, ..Default::default() });
    let listed = checker.expiring(&me(), now, 10).await.unwrap();
    assert_eq!(listed.iter().map(|k| k.key.as_str()).collect::<Vec<_>>(), vec!["sess:a"]);
    assert_eq!(listed[0].rule_id, rule.id);
    // Once per key: the next check fires nothing.
    assert_eq!(checker.check(now + 60).await.unwrap().expiring_fired, 0);
    // Later, sess:b comes within the window.
    assert_eq!(checker.check(now + 4500).await.unwrap().expiring_fired, 1);
    // sess:a's expiration is moved on: it fires again when the new one nears.
    f.kv.put_key(&me(), &ns, expiring("sess:a", now + 9000)).await.unwrap();
    assert_eq!(checker.check(now + 8500).await.unwrap().expiring_fired, 1);
    let outbox = count(f, "SELECT COUNT(*) AS n FROM webhook_outbox WHERE kinds = 'keys.expiring'").await;
    assert_eq!(outbox, 3, "one outbox row per check that fired");
    // A tag narrows a rule.
    let tagged = RuleInput {
        kind: "expiry".into(),
        namespace_id: ns.clone(),
        tag: Some("vip".into()),
        within_secs: Some(600),
        enabled: true,
        ..Default::default()
    };
    checker.create(&me(), tagged).await.unwrap();
    f.kv.put_key(&me(), &ns, expiring("user:vip", now + 9100)).await.unwrap();
    f.kv.apply_tags(&me(), &ns, &["user:vip".to_owned()], &["vip".to_owned()], domain::catalog::TagOperation::Add)
        .await
        .unwrap();
    let summary = checker.check(now + 8600).await.unwrap();
    assert_eq!(summary.expiring_fired, 1, "only the tagged key: {summary:?}");
}

async fn a_threshold_fires_once_repeats_after_its_cooldown_and_resolves(f: &Fixture) {
    open_outbox(f).await;
    let ns = namespace(f, "bounded").await;
    f.kv.put_many(&me(), &ns, vec![put("a", "1"), put("b", "2")]).await.unwrap();
    let checker = alerts(f, "a");
    let rule = RuleInput {
        kind: "threshold".into(),
        namespace_id: ns.clone(),
        metric: Some("key_count".into()),
        threshold: Some(2.0),
        cooldown_secs: Some(600),
        enabled: true,
        ..Default::default()
    };
    let rule = checker.create(&me(), rule).await.unwrap();
    let t = 1_900_000_000;
    assert_eq!(checker.check(t).await.unwrap(), CheckSummary { leader: true, ..Default::default() });
    f.kv.put_key(&me(), &ns, put("c", "3")).await.unwrap();
    assert_eq!(checker.check(t + 10).await.unwrap().breached, 1);
    let state = checker.get(&me(), &rule.id).await.unwrap();
    assert_eq!((state.breached, state.last_value, state.breached_at), (true, Some(3.0), Some(t + 10)));
    // Within the cooldown: nothing; after it: once more.
    assert_eq!(checker.check(t + 60).await.unwrap(), CheckSummary { leader: true, ..Default::default() });
    assert_eq!(checker.check(t + 611).await.unwrap().repeated, 1);
    assert_eq!(checker.check(t + 700).await.unwrap(), CheckSummary { leader: true, ..Default::default() });
    f.kv.delete_many(&me(), &ns, &["a".to_owned(), "b".to_owned()]).await.unwrap();
    assert_eq!(checker.check(t + 710).await.unwrap().resolved, 1);
    let state = checker.get(&me(), &rule.id).await.unwrap();
    assert_eq!((state.breached, state.last_value, state.breached_at), (false, Some(1.0), None));
    assert_eq!(checker.check(t + 2000).await.unwrap(), CheckSummary { leader: true, ..Default::default() });
    let audited = count(
        f,
        "SELECT COUNT(*) AS n FROM audit_log WHERE user_name = 'system' AND operation IN ('alert.breached', 'alert.resolved')",
    )
    .await;
    assert_eq!(audited, 3, "breached, breached again, resolved");
    let outbox = count(f, "SELECT COUNT(*) AS n FROM webhook_outbox WHERE kinds LIKE 'threshold.%'").await;
    assert_eq!(outbox, 3);
}

async fn operations_and_latency_come_from_the_rollups(f: &Fixture) {
    let ns = namespace(f, "busy").await;
    f.kv.put_key(&me(), &ns, put("k", "v")).await.unwrap();
    for _ in 0..5 {
        f.kv.get_key(&me(), &ns, "k").await.unwrap();
    }
    f.kv.metrics().flush().await.unwrap();
    let checker = alerts(f, "a");
    let now = domain::now_unix();
    let ops = checker.measure(&ns, "ops_per_hour", now).await.unwrap();
    assert!(ops >= 6.0, "one write and five reads at least: {ops}");
    let p99 = checker.measure(&ns, "p99_ms", now).await.unwrap();
    assert!(p99 > 0.0 && p99 <= 1000.0, "{p99}");
    let rule = RuleInput {
        kind: "threshold".into(),
        namespace_id: ns.clone(),
        metric: Some("ops_per_hour".into()),
        threshold: Some(3.0),
        enabled: true,
        ..Default::default()
    };
    checker.create(&me(), rule).await.unwrap();
    assert_eq!(checker.check(now).await.unwrap().breached, 1);
    // An hour later the operations have left the window: resolved.
    assert_eq!(checker.check(now + 3700).await.unwrap().resolved, 1);
}

async fn bad_rules_are_refused_by_field(f: &Fixture) {
    let ns = namespace(f, "rules").await;
    let checker = alerts(f, "a");
    let base = RuleInput {
        kind: "expiry".into(),
        namespace_id: ns.clone(),
        within_secs: Some(600),
        enabled: true,
        ..Default::default()
    };
    let cases = [
        (RuleInput { kind: "sometimes".into(), ..base.clone() }, "kind"),
        (RuleInput { namespace_id: "nope".into(), ..base.clone() }, "namespace_id"),
        (RuleInput { within_secs: None, ..base.clone() }, "within_secs"),
        (RuleInput { within_secs: Some(5), ..base.clone() }, "within_secs"),
        (RuleInput { cooldown_secs: Some(1), ..base.clone() }, "cooldown_secs"),
        (
            RuleInput { kind: "threshold".into(), metric: Some("mood".into()), threshold: Some(1.0), ..base.clone() },
            "metric",
        ),
        (
            RuleInput {
                kind: "threshold".into(),
                metric: Some("key_count".into()),
                threshold: Some(-1.0),
                ..base.clone()
            },
            "threshold",
        ),
        (
            RuleInput {
                kind: "threshold".into(),
                metric: Some("key_count".into()),
                threshold: Some(f64::NAN),
                ..base.clone()
            },
            "threshold",
        ),
        (
            RuleInput {
                kind: "threshold".into(),
                metric: Some("key_count".into()),
                threshold: Some(1.0),
                prefix: Some("a".into()),
                ..base.clone()
            },
            "prefix",
        ),
    ];
    for (input, field) in cases {
        assert_err_status(checker.create(&me(), input).await, "invalid_input", 400, field);
    }
    let reader = Actor::new("viewer", Source::Console, Role::ReadOnly);
    assert_eq!(checker.create(&reader, base.clone()).await.unwrap_err().status(), 403);
    assert!(checker.list(&me()).await.unwrap().is_empty());
    let made = checker.create(&me(), base).await.unwrap();
    checker.delete(&me(), &made.id).await.unwrap();
    assert!(checker.list(&me()).await.unwrap().is_empty());
}

async fn one_of_two_instances_checks(f: &Fixture) {
    let one = alerts(f, "one");
    let two = alerts(f, "two");
    let now = domain::now_unix();
    assert!(one.check(now).await.unwrap().leader);
    assert!(!two.check(now).await.unwrap().leader);
    assert!(!two.check(now + domain::alerts::LEASE_SECS - 1).await.unwrap().leader, "held until it lapses");
    // Its lease lapses when the holder stops checking.
    assert!(two.check(now + domain::alerts::LEASE_SECS + 1).await.unwrap().leader);
}

both!(
    an_expiry_rule_fires_once_per_key,
    a_threshold_fires_once_repeats_after_its_cooldown_and_resolves,
    operations_and_latency_come_from_the_rollups,
    bad_rules_are_refused_by_field,
    one_of_two_instances_checks,
);
