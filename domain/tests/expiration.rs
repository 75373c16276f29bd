//! Expirations from extreme inputs: the write core, bulk TTL jobs and import items either refuse
//! the input with a 400 naming its field, or set an expiration at least a minute ahead, never a
//! wrapped one.

mod common;

use std::time::Duration;

use common::{me, namespace, put};
use domain::ValidPut;
use domain::jobs::transfer::parse_item;
use domain::jobs::{JobSpec, JobStatus, Jobs, JobsConfig, Selection, TtlChange};
use domain::limits::{MIN_TTL_SECONDS, resolve_expiration};
use domain::{DomainError, now_unix};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Seconds: the edges, values around now, and anything at all.
fn seconds() -> impl Strategy<Value = i64> {
    let now = now_unix();
    prop_oneof![
        prop::sample::select(vec![0, 1, 59, 60, 61, -1, -60, i64::MAX, i64::MAX - 1, i64::MIN, i64::MIN + 1]),
        Just(i64::MAX - now),
        Just(i64::MAX - now + 1),
        (now - 120..now + 240),
        any::<i64>(),
    ]
}

/// The field at fault and the expiration a correct implementation answers, computed without
/// overflow: `Err(field)` or `Ok(expiration)`.
fn expected(expiration: Option<i64>, ttl: Option<i64>, now: i64) -> Result<Option<i64>, &'static str> {
    let (now_wide, min) = (i128::from(now), i128::from(MIN_TTL_SECONDS));
    if let Some(ttl) = ttl {
        let at = now_wide + i128::from(ttl);
        return if ttl < MIN_TTL_SECONDS || at > i128::from(i64::MAX) {
            Err("expiration_ttl")
        } else {
            Ok(Some(at as i64))
        };
    }
    match expiration {
        Some(at) if i128::from(at) < now_wide + min => Err("expiration"),
        other => Ok(other),
    }
}

#[track_caller]
fn check(result: Result<Option<i64>, DomainError>, expected: Result<Option<i64>, &'static str>, now: i64) {
    match (result, expected) {
        (Ok(got), Ok(want)) => {
            assert_eq!(got, want);
            if let Some(at) = got {
                assert!(i128::from(at) >= i128::from(now) + 60, "{at} is not a minute after {now}");
            }
        }
        (Err(err), Err(field)) => {
            assert_eq!((err.code(), err.status(), err.field()), ("invalid_input", 400, Some(field)), "{err}");
            assert!(err.to_string().contains(field), "{err}");
        }
        (got, want) => panic!("got {got:?}, expected {want:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn resolve_expiration_is_checked(
        expiration in prop::option::of(seconds()),
        ttl in prop::option::of(seconds()),
        now in prop_oneof![Just(now_unix()), Just(i64::MAX - 30), Just(i64::MAX), Just(0i64), any::<i64>()],
    ) {
        check(resolve_expiration(expiration, ttl, now), expected(expiration, ttl, now), now);
    }

    #[test]
    fn import_items_with_extreme_expirations(
        expiration in json_seconds(),
        ttl in json_seconds(),
    ) {
        let mut item = json!({"name": "k", "value": "v"});
        if let Some(e) = &expiration {
            item["expiration"] = e.clone();
        }
        if let Some(t) = &ttl {
            item["expiration_ttl"] = t.clone();
        }
        let now = now_unix();
        let result = parse_item(item).and_then(|(put, details)| ValidPut::new(put, details, now)).map(|v| v.expiration());
        // Only whole numbers that fit an i64 are seconds; anything else is refused by its field.
        let as_seconds = |v: &Option<Value>| match v {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or(()),
        };
        let want = match (as_seconds(&expiration), as_seconds(&ttl)) {
            (Err(()), _) => Err("expiration"),
            (Ok(_), Err(())) => Err("expiration_ttl"),
            (Ok(e), Ok(t)) => expected(e, t, now),
        };
        check(result, want, now);
    }
}

/// An item's seconds field: absent, null, whole numbers (u64::MAX too), floats, text.
fn json_seconds() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        seconds().prop_map(|s| Some(json!(s))),
        Just(Some(json!(u64::MAX))),
        Just(Some(json!(u64::MAX / 2 + 1))),
        Just(Some(json!(60.0))),
        Just(Some(json!(1e300))),
        Just(Some(json!(-0.5))),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(|f| Some(json!(f))),
        Just(Some(json!("3600"))),
    ]
}

/// Bulk TTL jobs on a real store: refused at start with a 400 naming the field, or completed with
/// every key's expiration at least a minute ahead (an absolute one given as is).
#[test]
fn bulk_ttl_jobs_with_extreme_values() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let (fixture, jobs, ns, dir) = rt.block_on(async {
        let f = common::sqlite().await;
        let dir = tempfile::tempdir().unwrap();
        let jobs = Jobs::new(
            f.kv.clone(),
            f.db.conn.clone(),
            JobsConfig { max_jobs: 2, data_dir: dir.path().to_owned(), export_ttl_hours: 1, instance_id: "p".into() },
        );
        let ns = namespace(&f, "ttl-props").await;
        (f, jobs, ns, dir)
    });
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 64, ..ProptestConfig::default() });
    let strategy = (any::<bool>(), seconds());
    runner
        .run(&strategy, |(absolute, value)| {
            rt.block_on(async {
                // A fresh key each case: none expired by an earlier one.
                fixture.kv.put_key(&me(), &ns, put("k", "v")).await.unwrap();
                let change = if absolute { TtlChange::At(value) } else { TtlChange::Ttl(value) };
                let now = now_unix();
                let spec = JobSpec::BulkTtl {
                    namespace_id: ns.clone(),
                    selection: Selection { keys: Some(vec!["k".into()]), prefix: None },
                    change,
                };
                let want = if absolute { expected(Some(value), None, now) } else { expected(None, Some(value), now) };
                match jobs.start(&me(), spec).await {
                    Err(err) => check(Err(err), want, now),
                    Ok(job) => {
                        let job =
                            tokio::time::timeout(Duration::from_secs(30), jobs.wait(&job.id)).await.unwrap().unwrap();
                        let key = fixture.kv.get_key(&me(), &ns, "k").await;
                        match (absolute, want) {
                            // A second may pass between the check at start and the batch.
                            (true, Ok(_)) if value < now + 62 && job.status == JobStatus::Failed => {
                                assert!(job.error_message.unwrap_or_default().contains("expiration"));
                            }
                            (true, Ok(want)) => {
                                assert_eq!(job.status, JobStatus::Completed, "{job:?}");
                                assert_eq!(key.unwrap().expiration, want);
                            }
                            // A TTL at the very edge of time may overflow a second later.
                            (false, Ok(_)) if value > i64::MAX - now - 10 && job.status == JobStatus::Failed => {
                                assert!(job.error_message.unwrap_or_default().contains("expiration_ttl"));
                            }
                            (false, Ok(_)) => {
                                assert_eq!(job.status, JobStatus::Completed, "{job:?}");
                                let at = key.unwrap().expiration.unwrap();
                                assert!(i128::from(at) >= i128::from(now) + i128::from(value), "{at}");
                                assert!(at >= now + 60);
                            }
                            (_, Err(field)) => panic!("{field}: {value} was accepted: {job:?}"),
                        }
                    }
                }
            });
            Ok(())
        })
        .unwrap();
    drop(dir);
}
