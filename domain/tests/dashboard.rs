//! The dashboard (issue 18): after a scripted mix of operations through several surfaces, its
//! numbers are what the test did, per range (rows placed in the past count only in the ranges
//! that reach them), per namespace and per service; hidden namespaces count nowhere; the health
//! panel lists failed jobs, open breaches, namespaces without a backup plan, failing webhook
//! endpoints and expiring keys, and each goes when it is fixed.

mod common;

use common::*;
use domain::alerts::{Alerts, RuleInput};
use domain::dashboard::{Dashboard, Range, UsageView};
use domain::jobs::PlanInput;
use domain::webhooks::{EndpointInput, WebhookConfig, Webhooks};
use domain::{Actor, Kv, PutKey, Role, Source};
use sea_orm::ConnectionTrait;

struct Parts {
    dashboard: Dashboard,
    jobs: domain::jobs::Jobs,
    alerts: Alerts,
    webhooks: Webhooks,
    _dir: tempfile::TempDir,
}

fn parts(f: &Fixture, kv: &Kv) -> Parts {
    let dir = tempfile::tempdir().expect("a folder for jobs");
    let jobs = engine(f, dir.path());
    let alerts = Alerts::new(kv.clone(), f.db.conn.clone(), "a");
    let webhooks = Webhooks::new(kv.clone(), f.db.conn.clone(), WebhookConfig::default()).expect("webhooks");
    let dashboard = Dashboard::new(kv.clone(), jobs.clone(), alerts.clone(), webhooks.clone(), f.db.conn.clone());
    Parts { dashboard, jobs, alerts, webhooks, _dir: dir }
}

fn console() -> Actor {
    Actor::new("alice@example.com", Source::Console, Role::Admin)
}

fn reader() -> Actor {
    Actor::new("bob@example.com", Source::Console, Role::ReadOnly)
}

fn kevi() -> Actor {
    Actor::new("web-app", Source::Kevi, Role::Admin)
}

async fn exec(f: &Fixture, sql: &str) {
    f.db.conn
        .execute_raw(sea_orm::Statement::from_string(f.db.conn.get_database_backend(), sql.to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Operations of a view's points, added up: (reads, writes, deletes, lists).
fn point_sums(view: &UsageView) -> (u64, u64, u64, u64) {
    view.ops.iter().fold((0, 0, 0, 0), |(r, w, d, l), p| (r + p.reads, w + p.writes, d + p.deletes, l + p.lists))
}

fn totals(view: &UsageView) -> (u64, u64, u64, u64) {
    (view.totals.reads, view.totals.writes, view.totals.deletes, view.totals.lists)
}

async fn the_numbers_are_what_was_done_in_each_range(f: &Fixture) {
    let p = parts(f, &f.kv);
    let kv = &f.kv;
    let busy = kv.create_namespace(&console(), "busy").await.unwrap().id;
    let quiet = kv.create_namespace(&console(), "quiet").await.unwrap().id;
    for name in ["a", "b", "c"] {
        kv.put_key(&console(), &busy, put(name, "12345")).await.unwrap();
    }
    kv.get_key(&console(), &busy, "a").await.unwrap();
    kv.list_keys(&console(), &busy, Default::default()).await.unwrap();
    kv.delete_key(&console(), &busy, "c").await.unwrap();
    kv.put_many(&kevi(), &quiet, vec![put("k1", "1"), put("k2", "22")]).await.unwrap();
    kv.get_key(&kevi(), &quiet, "k1").await.unwrap();
    let now = domain::now_unix();
    kv.metrics().flush().await.unwrap();
    kv.metrics().sample_storage(now).await.unwrap();

    let view = p.dashboard.usage(&console(), Range::Hour, None, now).await.unwrap();
    assert_eq!(view.ops.len(), 60, "one point a minute");
    assert_eq!(totals(&view), (2, 4, 1, 1), "reads, writes, deletes, lists");
    assert_eq!(point_sums(&view), totals(&view), "the points add up to the totals");
    assert_eq!(view.totals.errors, 0);
    assert!(view.totals.p99_ms.is_some_and(|ms| ms >= 1.0), "{:?}", view.totals);
    assert_eq!((view.key_count, view.size_bytes), (4, 5 + 5 + 1 + 2));
    let last = view.storage.last().expect("a storage sample");
    assert_eq!((last.key_count, last.size_bytes), (4, 13), "the sample holds both namespaces");
    let busiest: Vec<_> = view.top_namespaces.iter().map(|n| (n.title.as_deref(), n.operations)).collect();
    assert_eq!(busiest, vec![(Some("busy"), 6), (Some("quiet"), 2)]);
    let services = view.services.clone().expect("an admin sees services");
    assert_eq!(services.iter().map(|s| (s.name.as_str(), s.operations)).collect::<Vec<_>>(), vec![("web-app", 2)]);
    let surfaces: Vec<_> = view.surfaces.iter().map(|s| (s.name.as_str(), s.operations)).collect();
    assert_eq!(surfaces, vec![("console", 6), ("kevi", 2)]);
    let largest: Vec<_> = view.largest.iter().map(|n| (n.id.as_str(), n.size_bytes, n.operations)).collect();
    assert_eq!(largest, vec![(busy.as_str(), 10, 6), (quiet.as_str(), 3, 2)]);

    // Three days ago: 100 reads of `busy` and a sample of it with one key, in the hour rows.
    let then = now - 3 * 86_400;
    let hour = then - then.rem_euclid(3600);
    exec(
        f,
        &format!(
            "INSERT INTO metric_rollups (resolution, bucket_start, namespace_id, surface, service, operation, \
             operations, keys, le_ms5) VALUES (3600, {hour}, '{busy}', 'console', '', 'read', 100, 100, 100)"
        ),
    )
    .await;
    exec(
        f,
        &format!(
            "INSERT INTO metric_rollups (resolution, bucket_start, namespace_id, surface, service, operation, \
             key_count, size_bytes) VALUES (3600, {hour}, '{busy}', '', '', 'storage', 1, 5)"
        ),
    )
    .await;
    kv.metrics().sample_storage(now).await.unwrap();
    let day = p.dashboard.usage(&console(), Range::Day, None, now).await.unwrap();
    assert_eq!(totals(&day), (2, 4, 1, 1), "three days ago is outside 24 hours");
    let week = p.dashboard.usage(&console(), Range::Week, None, now).await.unwrap();
    assert_eq!(week.ops.len(), 84);
    assert_eq!(totals(&week), (102, 4, 1, 1));
    assert_eq!(point_sums(&week), totals(&week));
    let old = week.ops.iter().find(|p| p.reads == 100).expect("the old reads in one point");
    assert!(old.start <= hour && hour < old.start + week.step);
    assert_eq!(old.p50_ms, Some(5.0), "from the old rows' histogram");
    let busy_trend = week.largest.iter().find(|n| n.id == busy).unwrap();
    assert_eq!(busy_trend.trend.first().map(|s| s.key_count), Some(1));
    assert_eq!((busy_trend.key_change, busy_trend.byte_change), (1, 5), "2 keys, 10 bytes now");
    assert_eq!(week.storage.first().map(|s| (s.key_count, s.size_bytes)), Some((1, 5)));
    assert_eq!(week.top_namespaces[0].operations, 106);

    // One namespace's own panel.
    let mine = p.dashboard.usage(&console(), Range::Week, Some(&quiet), now).await.unwrap();
    assert_eq!(totals(&mine), (1, 1, 0, 0));
    assert_eq!((mine.key_count, mine.size_bytes), (2, 3));
    assert!(mine.top_namespaces.is_empty() && mine.largest.is_empty());
    assert_eq!(mine.surfaces.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(), vec!["kevi"]);
    let missing = p.dashboard.usage(&console(), Range::Hour, Some("no-such-namespace"), now).await.unwrap_err();
    assert_eq!(missing.status(), 404);

    // Readers see the numbers, not the services.
    let theirs = p.dashboard.usage(&reader(), Range::Hour, None, now).await.unwrap();
    assert_eq!(totals(&theirs), totals(&view));
    assert_eq!(theirs.services, None);
}

async fn hidden_namespaces_count_nowhere(f: &Fixture) {
    let open = f.kv.create_namespace(&console(), "open").await.unwrap().id;
    let secret = f.kv.create_namespace(&console(), "secret").await.unwrap().id;
    f.kv.put_key(&console(), &open, put("a", "1")).await.unwrap();
    f.kv.put_many(&kevi(), &secret, vec![put("s1", "xxxx"), put("s2", "yyyy")]).await.unwrap();
    let now = domain::now_unix();
    f.kv.metrics().flush().await.unwrap();
    f.kv.metrics().sample_storage(now).await.unwrap();
    let guarded = f.kv.clone().with_protected(vec!["secret".into()]);
    let p = parts(f, &guarded);
    let view = p.dashboard.usage(&console(), Range::Hour, None, now).await.unwrap();
    assert_eq!(totals(&view), (0, 1, 0, 0));
    assert_eq!((view.key_count, view.size_bytes), (1, 1));
    assert!(view.top_namespaces.iter().chain(&view.largest).all(|n| n.id == open), "{view:?}");
    assert_eq!(view.storage.last().map(|s| s.key_count), Some(1));
    assert_eq!(view.services, Some(Vec::new()));
    let err = p.dashboard.usage(&console(), Range::Hour, Some(&secret), now).await.unwrap_err();
    assert_eq!(err.status(), 404, "as for a namespace that does not exist");
    let health = p.dashboard.health(&console(), now).await.unwrap();
    assert_eq!(health.without_backup, 1, "{health:?}");
}

async fn the_health_panel_lists_what_needs_looking_at(f: &Fixture) {
    let p = parts(f, &f.kv);
    let now = domain::now_unix();
    assert_eq!(p.dashboard.health(&reader(), now).await.unwrap_err().status(), 403);
    let a = namespace(f, "alpha").await;
    let b = namespace(f, "beta").await;
    let health = p.dashboard.health(&me(), now).await.unwrap();
    assert!(!health.is_clear());
    assert_eq!(health.without_backup, 2);
    assert_eq!(health.without_backup_names.iter().map(|n| n.name.as_str()).collect::<Vec<_>>(), vec!["alpha", "beta"]);
    assert_eq!(health.failed_jobs, 0);

    // Backup plans: one namespace's, then every namespace's; a paused plan covers nothing.
    let plan = |ns: Option<&str>| PlanInput {
        namespace_id: ns.map(str::to_owned),
        cron: "@daily".into(),
        ..Default::default()
    };
    p.jobs.save_plan(&me(), None, &plan(Some(&a))).await.unwrap();
    let health = p.dashboard.health(&me(), now).await.unwrap();
    assert_eq!((health.without_backup, health.without_backup_names[0].id.as_str()), (1, b.as_str()));
    let all = p.jobs.save_plan(&me(), None, &plan(None)).await.unwrap();
    assert_eq!(p.dashboard.health(&me(), now).await.unwrap().without_backup, 0);
    p.jobs.set_plan_paused(&me(), &all.id, true).await.unwrap();
    assert_eq!(p.dashboard.health(&me(), now).await.unwrap().without_backup, 1);
    p.jobs.set_plan_paused(&me(), &all.id, false).await.unwrap();

    // Failed jobs of the last 24 hours (one older is left out).
    for (id, finished) in [("job-recent", now - 100), ("job-old", now - 90_000)] {
        exec(
            f,
            &format!(
                "INSERT INTO jobs (id, job_type, namespace_id, params, status, created_by, created_at, finished_at, \
                 updated_at) VALUES ('{id}', 'delete', '{a}', '{{}}', 'failed', 'x', {finished}, {finished}, {finished})"
            ),
        )
        .await;
    }
    let health = p.dashboard.health(&me(), now).await.unwrap();
    assert_eq!((health.failed_jobs, health.failed_job_ids.clone()), (1, vec!["job-recent".to_owned()]));
    // Many: all are counted, the newest five named.
    for i in 0..6 {
        let finished = now - 50 + i;
        exec(
            f,
            &format!(
                "INSERT INTO jobs (id, job_type, namespace_id, params, status, created_by, created_at, finished_at, \
                 updated_at) VALUES ('job-{i}', 'delete', '{a}', '{{}}', 'failed', 'x', {finished}, {finished}, {finished})"
            ),
        )
        .await;
    }
    let health = p.dashboard.health(&me(), now).await.unwrap();
    assert_eq!(health.failed_jobs, 7);
    assert_eq!(health.failed_job_ids, ["job-5", "job-4", "job-3", "job-2", "job-1"].map(str::to_owned).to_vec());

    // A threshold breached now, and resolved.
    f.kv.put_many(&me(), &a, vec![put("k1", "v"), put("k2", "v")]).await.unwrap();
    let rule = RuleInput {
        kind: "threshold".into(),
        namespace_id: a.clone(),
        metric: Some("key_count".into()),
        threshold: Some(1.0),
        enabled: true,
        ..Default::default()
    };
    let rule = p.alerts.create(&me(), rule).await.unwrap();
    p.alerts.check(now).await.unwrap();
    let health = p.dashboard.health(&me(), now).await.unwrap();
    assert_eq!(health.breaches.len(), 1);
    let breach = &health.breaches[0];
    assert_eq!(
        (breach.rule_id.as_str(), breach.namespace_title.as_deref(), breach.metric.as_str(), breach.value),
        (rule.id.as_str(), Some("alpha"), "key_count", Some(2.0))
    );
    assert_eq!(breach.since, Some(now));
    f.kv.delete_key(&me(), &a, "k2").await.unwrap();
    p.alerts.check(now + 60).await.unwrap();
    assert!(p.dashboard.health(&me(), now + 60).await.unwrap().breaches.is_empty(), "resolved");

    // A failing webhook endpoint.
    let input = EndpointInput {
        url: "https://hooks.example.com/kv".into(),
        events: vec!["key.created".into()],
        enabled: true,
        ..Default::default()
    };
    let endpoint = p.webhooks.create(&me(), input).await.unwrap().endpoint;
    assert!(p.dashboard.health(&me(), now).await.unwrap().failing_webhooks.is_empty());
    exec(f, &format!("UPDATE webhook_endpoints SET failures = 3 WHERE id = '{}'", endpoint.id)).await;
    let failing = p.dashboard.health(&me(), now).await.unwrap().failing_webhooks;
    assert_eq!(
        failing.iter().map(|e| (e.id.as_str(), e.failures)).collect::<Vec<_>>(),
        vec![(endpoint.id.as_str(), 3)]
    );

    // Keys an expiry rule fired for.
    f.kv.put_key(&me(), &b, PutKey { expiration: Some(now + 300), ..put("session", "v") }).await.unwrap();
    let rule = RuleInput {
        kind: "expiry".into(),
        namespace_id: b.clone(),
        within_secs: Some(600),
        enabled: true,
        ..Default::default()
    };
    p.alerts.create(&me(), rule).await.unwrap();
    p.alerts.check(now + 120).await.unwrap();
    let expiring = p.dashboard.health(&me(), now + 120).await.unwrap().expiring;
    assert_eq!(
        expiring.iter().map(|k| (k.namespace_id.as_str(), k.key.as_str())).collect::<Vec<_>>(),
        vec![(b.as_str(), "session")]
    );
}

both!(
    the_numbers_are_what_was_done_in_each_range,
    hidden_namespaces_count_nowhere,
    the_health_panel_lists_what_needs_looking_at,
);
