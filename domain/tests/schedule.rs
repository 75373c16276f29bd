//! Backup plans (issue 17, schedules) on SQLite and (with `KVM_TEST_POSTGRES_URL`) PostgreSQL,
//! with a clock the test moves (`Jobs::tick(now)`): a due plan runs once per occurrence, a
//! missed run once, a paused plan never; two instances on one database start each due plan
//! once; retention prunes only the plan's own backups; every field is checked.

mod common;

use std::path::Path;

use common::{Fixture, assert_err, me, namespace, put};
use domain::jobs::{BackupPlan, Job, JobSpec, JobStatus, Jobs, JobsConfig, PlanInput};
use domain::{Actor, Kv, Role, Source, now_unix};

both!(
    every_field_of_a_plan_is_checked,
    a_due_plan_runs_once_per_occurrence,
    a_missed_run_runs_once_and_the_next_is_computed_from_now,
    a_paused_plan_does_not_run_and_resumes_from_now,
    run_now_leaves_the_schedule_alone_and_a_plan_of_every_namespace_backs_up_each,
    two_instances_on_one_database_start_each_due_plan_once,
    keep_last_prunes_only_the_plans_own_backups,
    keep_days_prunes_only_the_plans_own_old_backups,
    plan_changes_are_audited,
    a_plan_whose_namespace_is_gone_records_why_and_moves_on,
);

fn engine_on(kv: Kv, db: &domain::Database, dir: &Path, instance: &str) -> Jobs {
    Jobs::new(
        kv,
        db.conn.clone(),
        JobsConfig { max_jobs: 2, data_dir: dir.to_owned(), export_ttl_hours: 24, instance_id: instance.into() },
    )
}

fn engine(f: &Fixture, dir: &Path) -> Jobs {
    engine_on(f.kv.clone(), &f.db, dir, "a")
}

fn plan(namespace_id: Option<&str>, cron: &str) -> PlanInput {
    PlanInput { namespace_id: namespace_id.map(str::to_owned), cron: cron.to_owned(), ..Default::default() }
}

/// A namespace with a few keys.
async fn filled(f: &Fixture, title: &str) -> String {
    let ns = namespace(f, title).await;
    let items = (0..5).map(|i| put(&format!("k{i}"), &format!("v{i}"))).collect();
    f.kv.put_many(&me(), &ns, items).await.unwrap();
    ns
}

/// Waits for every job and checks each completed; answers them ended.
async fn completed(jobs: &Jobs, started: &[Job]) -> Vec<Job> {
    let mut out = Vec::new();
    for job in started {
        let done = common::wait(jobs, &job.id).await;
        assert_eq!(done.status, JobStatus::Completed, "{done:?}");
        out.push(done);
    }
    out
}

fn spec_plan_id(job: &Job) -> Option<String> {
    match serde_json::from_value::<JobSpec>(job.params.clone()).expect("a spec") {
        JobSpec::Backup { plan_id, .. } => plan_id,
        other => panic!("not a backup: {other:?}"),
    }
}

fn backup_id(job: &Job) -> String {
    job.result.as_ref().expect("a result")["backup_id"].as_str().expect("backup_id").to_owned()
}

/// The ids of the complete backups of the `local` target.
async fn complete_backups(jobs: &Jobs) -> Vec<String> {
    let listed = jobs.list_backups(&me(), "local").await.unwrap();
    listed.into_iter().filter(|b| b.status == "complete").map(|b| b.backup_id).collect()
}

/// Runs `plan` now and waits for its one job.
async fn run_now(jobs: &Jobs, plan: &BackupPlan) -> Job {
    let started = jobs.run_plan_now(&me(), &plan.id).await.expect("run now");
    assert_eq!(started.len(), 1);
    completed(jobs, &started).await.remove(0)
}

async fn every_field_of_a_plan_is_checked(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = namespace(f, "checked").await;
    let ok = plan(Some(&ns), "0 3 * * *");
    let bad = |change: &dyn Fn(&mut PlanInput)| {
        let mut input = ok.clone();
        change(&mut input);
        input
    };
    for cron in ["", "* * *", "61 * * * *", "0 0 * * * *", "every day", "0 0 30 2 *"] {
        assert_err(jobs.save_plan(&me(), None, &bad(&|p| p.cron = cron.into())).await, "invalid_input", "cron");
    }
    let long = "*".repeat(300);
    assert_err(jobs.save_plan(&me(), None, &bad(&|p| p.cron = long.clone())).await, "invalid_input", "cron");
    for n in [0, -1, 10_001, i64::MAX] {
        let input = bad(&|p| p.keep_last = Some(n));
        assert_err(jobs.save_plan(&me(), None, &input).await, "invalid_input", "keep_last");
    }
    for n in [0, -5, 3651, i64::MIN] {
        let input = bad(&|p| p.keep_days = Some(n));
        assert_err(jobs.save_plan(&me(), None, &input).await, "invalid_input", "keep_days");
    }
    let prefix = "p".repeat(600);
    assert_err(
        jobs.save_plan(&me(), None, &bad(&|p| p.prefix = Some(prefix.clone()))).await,
        "invalid_input",
        "prefix",
    );
    let input = bad(&|p| p.target = Some("elsewhere".into()));
    assert_err(jobs.save_plan(&me(), None, &input).await, "invalid_input", "target");
    let input = bad(&|p| p.namespace_id = Some("no-such-namespace".into()));
    assert_err(jobs.save_plan(&me(), None, &input).await, "not_found", "namespace_id");
    assert_err(jobs.save_plan(&me(), Some("plan-nope"), &ok).await, "not_found", "plan_id");
    assert_err(jobs.run_plan_now(&me(), "plan-nope").await, "not_found", "plan_id");
    assert_err(jobs.delete_plan(&me(), "plan-nope").await, "not_found", "plan_id");
    assert!(jobs.list_plans(&me()).await.unwrap().is_empty(), "nothing refused was saved");

    // Admins only.
    let user = Actor::new("someone@example.com", Source::Console, Role::User);
    let refused = jobs.save_plan(&user, None, &ok).await.expect_err("a user may not make plans");
    assert_eq!(refused.code(), "forbidden");
    assert_eq!(jobs.list_plans(&user).await.expect_err("nor list them").code(), "forbidden");

    // The limits themselves are accepted; a plan of every namespace has no namespace.
    let input = PlanInput { keep_last: Some(10_000), keep_days: Some(3650), ..plan(None, "@daily") };
    let saved = jobs.save_plan(&me(), None, &input).await.unwrap();
    assert_eq!((saved.keep_last, saved.keep_days, saved.namespace_id.as_deref()), (Some(10_000), Some(3650), None));
    assert_eq!(saved.target, "local");
    assert!(saved.next_run_at > now_unix() && saved.next_run_at % 86_400 == 0, "{saved:?}");
    // A backup a user starts cannot claim to be a plan's (it would bring the plan's pruning).
    let spec = JobSpec::Backup {
        namespace_id: ns,
        prefix: None,
        target: "local".into(),
        plan_id: Some(saved.id),
        batch: Vec::new(),
    };
    assert_err(jobs.start(&me(), spec).await, "invalid_input", "plan_id");
}

async fn a_due_plan_runs_once_per_occurrence(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = filled(f, "hourly").await;
    let saved = jobs.save_plan(&me(), None, &plan(Some(&ns), "0 * * * *")).await.unwrap();
    let first = saved.next_run_at;
    assert_eq!(first % 3600, 0);
    assert!(first > now_unix() && first <= now_unix() + 3600);

    assert!(jobs.tick(first - 1).await.unwrap().is_empty(), "not due yet");
    let started = jobs.tick(first).await.unwrap();
    assert_eq!(started.len(), 1, "due: one job");
    assert_eq!(started[0].namespace_id, ns);
    assert_eq!(spec_plan_id(&started[0]).as_deref(), Some(saved.id.as_str()));
    let done = completed(&jobs, &started).await;
    assert_eq!(done[0].result.as_ref().unwrap()["plan_id"], saved.id.as_str());

    // The same occurrence never runs again, on this tick or on any before the next one.
    for now in [first, first + 1, first + 1800, first + 3599] {
        assert!(jobs.tick(now).await.unwrap().is_empty(), "ran again at {now}");
    }
    let after = jobs.get_plan(&me(), &saved.id).await.unwrap();
    assert_eq!(after.next_run_at, first + 3600);
    assert_eq!(after.last_run_at, Some(first));
    assert_eq!(after.last_job_ids, vec![started[0].id.clone()]);
    assert_eq!(after.last_error, None);

    let second = jobs.tick(first + 3600).await.unwrap();
    assert_eq!(second.len(), 1, "the next occurrence runs");
    completed(&jobs, &second).await;
    assert_eq!(complete_backups(&jobs).await.len(), 2, "no retention set: both kept");
}

async fn a_missed_run_runs_once_and_the_next_is_computed_from_now(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = filled(f, "missed").await;
    let saved = jobs.save_plan(&me(), None, &plan(Some(&ns), "30 3 * * *")).await.unwrap();
    // The server was down for thirty days: thirty occurrences passed, one run is made.
    let later = saved.next_run_at + 30 * 86_400 + 3600 + 17;
    let started = jobs.tick(later).await.unwrap();
    assert_eq!(started.len(), 1, "a missed run runs once: {started:?}");
    completed(&jobs, &started).await;
    assert!(jobs.tick(later).await.unwrap().is_empty());
    assert!(jobs.tick(later + 60).await.unwrap().is_empty());
    let after = jobs.get_plan(&me(), &saved.id).await.unwrap();
    // The next run: the first 03:30 after `later` (later is 04:30:17 of its day).
    assert_eq!(after.next_run_at, later - 3600 - 17 + 86_400);
    assert_eq!(complete_backups(&jobs).await.len(), 1);
}

async fn a_paused_plan_does_not_run_and_resumes_from_now(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = filled(f, "paused").await;
    let input = PlanInput { paused: Some(true), ..plan(Some(&ns), "* * * * *") };
    let saved = jobs.save_plan(&me(), None, &input).await.unwrap();
    assert!(saved.paused);
    assert!(jobs.tick(saved.next_run_at + 7 * 86_400).await.unwrap().is_empty(), "paused: no run");

    let running = jobs.set_plan_paused(&me(), &saved.id, false).await.unwrap();
    assert!(!running.paused);
    assert!(running.next_run_at > now_unix() - 1 && running.next_run_at <= now_unix() + 60, "{running:?}");
    let started = jobs.tick(running.next_run_at).await.unwrap();
    assert_eq!(started.len(), 1);
    completed(&jobs, &started).await;

    let paused = jobs.set_plan_paused(&me(), &saved.id, true).await.unwrap();
    assert!(jobs.tick(paused.next_run_at + 86_400).await.unwrap().is_empty(), "paused again: no run");
    // An edit that leaves `paused` out keeps it paused.
    let edited = jobs.save_plan(&me(), Some(&saved.id), &plan(Some(&ns), "0 4 * * *")).await.unwrap();
    assert!(edited.paused);
    assert_eq!(edited.cron, "0 4 * * *");
    assert!(jobs.tick(edited.next_run_at + 86_400).await.unwrap().is_empty());
}

async fn run_now_leaves_the_schedule_alone_and_a_plan_of_every_namespace_backs_up_each(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let one = filled(f, "every-one").await;
    let two = filled(f, "every-two").await;
    let saved = jobs.save_plan(&me(), None, &plan(None, "0 2 * * *")).await.unwrap();
    let started = jobs.run_plan_now(&me(), &saved.id).await.unwrap();
    let mut namespaces: Vec<String> = started.iter().map(|j| j.namespace_id.clone()).collect();
    namespaces.sort();
    let mut expected = vec![one, two];
    expected.sort();
    assert_eq!(namespaces, expected, "one backup job per namespace");
    completed(&jobs, &started).await;
    let after = jobs.get_plan(&me(), &saved.id).await.unwrap();
    assert_eq!(after.next_run_at, saved.next_run_at, "run now leaves the schedule alone");
    assert_eq!(after.last_job_ids.len(), 2);
    assert!(jobs.tick(saved.next_run_at - 1).await.unwrap().is_empty());
    let scheduled = jobs.tick(saved.next_run_at).await.unwrap();
    assert_eq!(scheduled.len(), 2);
    completed(&jobs, &scheduled).await;
    assert_eq!(complete_backups(&jobs).await.len(), 4);
}

async fn two_instances_on_one_database_start_each_due_plan_once(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let a = engine(f, dir.path());
    // A second server process: its own connection pool, store and engine, one database.
    let db_b = domain::Database::connect(&f.url).await.unwrap();
    let b = engine_on(Kv::sql(db_b.clone()), &db_b, dir.path(), "b");
    let mut plans = Vec::new();
    for i in 0..4 {
        let ns = filled(f, &format!("shared-{i}")).await;
        plans.push(a.save_plan(&me(), None, &plan(Some(&ns), "* * * * *")).await.unwrap());
    }
    let now = plans.iter().map(|p| p.next_run_at).max().unwrap();
    for round in 0..3 {
        let moment = now + round * 60;
        let (from_a, from_b) = tokio::join!(a.tick(moment), b.tick(moment));
        let (from_a, from_b) = (from_a.unwrap(), from_b.unwrap());
        let mut plan_ids: Vec<String> = from_a.iter().chain(&from_b).filter_map(spec_plan_id).collect();
        plan_ids.sort();
        let mut expected: Vec<String> = plans.iter().map(|p| p.id.clone()).collect();
        expected.sort();
        assert_eq!(plan_ids, expected, "round {round}: each plan once ({} on a, {} on b)", from_a.len(), from_b.len());
        completed(&a, &from_a).await;
        completed(&b, &from_b).await;
    }
    assert_eq!(complete_backups(&a).await.len(), 12);
    db_b.conn.close().await.ok();
}

async fn keep_last_prunes_only_the_plans_own_backups(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = filled(f, "keep-last").await;
    let other_ns = filled(f, "keep-last-other").await;
    let manual_spec = JobSpec::Backup {
        namespace_id: ns.clone(),
        prefix: None,
        target: "local".into(),
        plan_id: None,
        batch: Vec::new(),
    };
    let manual = jobs.start(&me(), manual_spec).await.unwrap();
    let manual = backup_id(&completed(&jobs, &[manual]).await[0]);
    let input = PlanInput { keep_last: Some(2), ..plan(Some(&ns), "0 0 1 1 *") };
    let kept_two = jobs.save_plan(&me(), None, &input).await.unwrap();
    let input = PlanInput { keep_last: Some(1), ..plan(Some(&ns), "0 0 1 1 *") };
    let kept_one = jobs.save_plan(&me(), None, &input).await.unwrap();
    let input = PlanInput { keep_last: Some(1), ..plan(Some(&other_ns), "0 0 1 1 *") };
    let other_namespace = jobs.save_plan(&me(), None, &input).await.unwrap();
    let other = backup_id(&run_now(&jobs, &other_namespace).await);
    let single = run_now(&jobs, &kept_one).await;
    assert_eq!(single.result.as_ref().unwrap()["pruned"], 0);
    let single = backup_id(&single);

    let mut made = Vec::new();
    for round in 0..4 {
        let job = run_now(&jobs, &kept_two).await;
        let pruned = job.result.as_ref().unwrap()["pruned"].as_u64().unwrap();
        assert_eq!(pruned, if round < 2 { 0 } else { 1 }, "round {round}: {:?}", job.result);
        made.push(backup_id(&job));
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut listed = complete_backups(&jobs).await;
    listed.sort();
    let mut expected = vec![manual.clone(), other.clone(), single.clone(), made[2].clone(), made[3].clone()];
    expected.sort();
    assert_eq!(listed, expected, "the plan keeps its newest two; nothing else is touched");
    // Nothing half-deleted is left behind (incomplete folders are listed to admins).
    assert_eq!(jobs.list_backups(&me(), "local").await.unwrap().len(), 5);

    // The plan keeping one prunes its own older one only.
    let newer = backup_id(&run_now(&jobs, &kept_one).await);
    let listed = complete_backups(&jobs).await;
    assert!(listed.contains(&newer) && !listed.contains(&single), "{listed:?}");
    for kept in [&manual, &other, &made[2], &made[3]] {
        assert!(listed.contains(kept), "{kept} was pruned: {listed:?}");
    }
}

/// Moves a backup's `snapshot_at` into the past, as if it had been made then.
fn age(dir: &Path, backup_id: &str, seconds: i64) {
    let path = dir.join("backups").join(backup_id).join("manifest.json");
    let mut manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let at = manifest["snapshot_at"].as_i64().unwrap();
    manifest["snapshot_at"] = (at - seconds).into();
    std::fs::write(&path, serde_json::to_vec_pretty(&manifest).unwrap()).unwrap();
}

async fn keep_days_prunes_only_the_plans_own_old_backups(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = filled(f, "keep-days").await;
    let input = PlanInput { keep_days: Some(7), ..plan(Some(&ns), "0 0 1 1 *") };
    let weekly = jobs.save_plan(&me(), None, &input).await.unwrap();
    let unlimited = jobs.save_plan(&me(), None, &plan(Some(&ns), "0 0 1 1 *")).await.unwrap();
    let manual_spec = JobSpec::Backup {
        namespace_id: ns.clone(),
        prefix: None,
        target: "local".into(),
        plan_id: None,
        batch: Vec::new(),
    };
    let manual = jobs.start(&me(), manual_spec).await.unwrap();
    let manual = backup_id(&completed(&jobs, &[manual]).await[0]);
    let other_plan = backup_id(&run_now(&jobs, &unlimited).await);
    let old = backup_id(&run_now(&jobs, &weekly).await);
    let recent = backup_id(&run_now(&jobs, &weekly).await);
    // Ten days old: the weekly plan's first backup, the manual one, the other plan's one; six
    // days old: the weekly plan's second.
    for id in [&old, &manual, &other_plan] {
        age(dir.path(), id, 10 * 86_400);
    }
    age(dir.path(), &recent, 6 * 86_400);

    let job = run_now(&jobs, &weekly).await;
    let result = job.result.clone().unwrap();
    assert_eq!(result["pruned"], 1, "{result}");
    assert_eq!(result["pruned_backup_ids"], serde_json::json!([old.clone()]));
    let listed = complete_backups(&jobs).await;
    assert!(!listed.contains(&old), "{listed:?}");
    for kept in [&manual, &other_plan, &recent, &backup_id(&job)] {
        assert!(listed.contains(kept), "{kept} was pruned: {listed:?}");
    }
    assert!(!dir.path().join("backups").join(&old).exists(), "the pruned backup's folder is gone");

    // A deleted plan prunes nothing more (its backups stay).
    jobs.delete_plan(&me(), &weekly.id).await.unwrap();
    assert_eq!(complete_backups(&jobs).await.len(), 4);
}

async fn plan_changes_are_audited(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = filled(f, "audited").await;
    let saved = jobs.save_plan(&me(), None, &plan(Some(&ns), "0 1 * * *")).await.unwrap();
    jobs.save_plan(&me(), Some(&saved.id), &plan(Some(&ns), "0 2 * * *")).await.unwrap();
    jobs.set_plan_paused(&me(), &saved.id, true).await.unwrap();
    jobs.set_plan_paused(&me(), &saved.id, false).await.unwrap();
    let started = jobs.run_plan_now(&me(), &saved.id).await.unwrap();
    completed(&jobs, &started).await;
    jobs.delete_plan(&me(), &saved.id).await.unwrap();
    let audit = domain::audit::Audit::new(f.db.conn.clone());
    let query = domain::audit::AuditQuery { limit: Some(1000), ..Default::default() };
    let mut operations: Vec<(String, Option<String>)> = audit
        .list(&query)
        .await
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.operation.starts_with("backup_plan."))
        .map(|e| (e.operation, e.namespace_id))
        .collect();
    operations.reverse();
    let expected: Vec<(String, Option<String>)> = ["create", "update", "pause", "resume", "run", "delete"]
        .iter()
        .map(|op| (format!("backup_plan.{op}"), Some(ns.clone())))
        .collect();
    assert_eq!(operations, expected);
}

async fn a_plan_whose_namespace_is_gone_records_why_and_moves_on(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let jobs = engine(f, dir.path());
    let ns = filled(f, "gone").await;
    let saved = jobs.save_plan(&me(), None, &plan(Some(&ns), "0 * * * *")).await.unwrap();
    f.kv.delete_namespace(&me(), &ns).await.unwrap();
    assert_err(jobs.run_plan_now(&me(), &saved.id).await, "not_found", "namespace_id");
    assert!(jobs.tick(saved.next_run_at).await.unwrap().is_empty(), "no job for a namespace that is gone");
    let after = jobs.get_plan(&me(), &saved.id).await.unwrap();
    assert!(after.last_error.as_deref().is_some_and(|e| e.contains("namespace_id")), "{after:?}");
    assert!(after.last_job_ids.is_empty());
    assert_eq!(after.next_run_at, saved.next_run_at + 3600, "the schedule moves on");
    assert!(jobs.tick(saved.next_run_at).await.unwrap().is_empty());
}
