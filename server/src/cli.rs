//! `kv-manager import` and `kv-manager export`: the same jobs as the console, run on the
//! configured database from the command line, with a progress bar; `kv-manager rewind`: a
//! namespace back to a moment (or its preview); `kv-manager backup` and `kv-manager restore`:
//! backups to a directory and restores from them (or their preview); `kv-manager token`: API
//! tokens.

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use domain::jobs::{Collision, ExportFormat, ImportFormat, Job, JobSpec, JobStatus, Jobs};
use domain::{Actor, Kv, NamespaceQuery, Role, Source};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{
    AlertCommand, BackupArgs, Config, DbCommand, ExportArgs, ImportArgs, RestoreArgs, RewindArgs, ServiceCommand,
    TokenCommand, WebhookCommand,
};
use crate::runtime::Runtime;

fn actor() -> Actor {
    let user = std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "local".into());
    Actor::new(user, Source::Cli, Role::Admin)
}

/// The store and job engine of the configured backend, as `serve` builds them.
async fn open(config: &Config) -> anyhow::Result<(Kv, Jobs)> {
    let runtime = Runtime::open(config, cli_instance(config), 1).await?;
    Ok((runtime.kv, runtime.jobs))
}

/// This command's name on the jobs it runs: its own, so that a server starting meanwhile never
/// takes them as its own.
fn cli_instance(config: &Config) -> String {
    format!("{}-cli-{}", config.instance_id, std::process::id())
}

/// A namespace given by id, or else by its exact title.
async fn namespace_id(kv: &Kv, given: &str) -> anyhow::Result<(String, String)> {
    if domain::limits::is_namespace_id(given)
        && let Ok(ns) = kv.get_namespace(&actor(), given).await
    {
        return Ok((ns.id, ns.title));
    }
    let query =
        NamespaceQuery { page: Some(1), per_page: Some(1000), search: Some(given.to_owned()), ..Default::default() };
    let page = kv.list_namespaces(&actor(), query).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    match page.namespaces.into_iter().find(|ns| ns.title == given) {
        Some(ns) => Ok((ns.id, ns.title)),
        None => bail!("namespace: no namespace has the id or title {given:?}"),
    }
}

/// Follows a job with a progress bar (on a terminal) until it ends.
async fn follow(jobs: &Jobs, id: &str, verb: &str) -> anyhow::Result<Job> {
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg:>9} [{bar:40}] {pos}/{len} keys {percent}% eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(verb.to_owned());
    bar.enable_steady_tick(Duration::from_millis(200));
    // Ctrl-C stops the job as a server's shutdown does: after the batch it is writing, `interrupted`
    // with its checkpoint, to be resumed from the console or the script API.
    let interrupt = tokio::signal::ctrl_c();
    tokio::pin!(interrupt);
    let mut stopping = false;
    let job = loop {
        let job = jobs.peek(id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        bar.set_length(job.total);
        bar.set_position(job.processed);
        if job.status.is_final() {
            break job;
        }
        let changed = async {
            match jobs.subscribe(id) {
                Some(mut rx) => {
                    let _ = tokio::time::timeout(Duration::from_millis(200), rx.changed()).await;
                }
                None => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        tokio::select! {
            () = changed => {}
            _ = &mut interrupt, if !stopping => {
                stopping = true;
                bar.println(format!("stopping job {id} after the batch it is writing; resume it later to continue"));
                if let Err(err) = jobs.shutdown(Duration::from_secs(crate::config::DEFAULT_SHUTDOWN_GRACE_SECS)).await {
                    tracing::warn!(%err, "marking the job interrupted failed");
                }
            }
        }
    };
    bar.finish_and_clear();
    // The job's key operations reach the metric rollups before this process ends.
    if let Err(err) = jobs.kv().metrics().flush().await {
        tracing::warn!(%err, "writing the metric rollups failed");
    }
    let mut done = jobs.get(id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    done.status = job.status;
    Ok(done)
}

fn report(job: &Job, started: Instant) -> anyhow::Result<()> {
    for failure in job.failures.iter().take(20) {
        eprintln!("  {}: {}", failure.key, failure.reason);
    }
    if job.errors > 20 {
        eprintln!("  … and {} more (kv-manager keeps the first 1,000: see the job {})", job.errors - 20, job.id);
    }
    match job.status {
        JobStatus::Completed => Ok(()),
        status => bail!(
            "job {} {}: {}",
            job.id,
            status.as_str(),
            job.error_message.clone().unwrap_or_else(|| format!("after {:.1} s", started.elapsed().as_secs_f64()))
        ),
    }
}

pub async fn import(args: ImportArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.settings)?;
    let (kv, jobs) = open(&config).await?;
    let (ns, title) = namespace_id(&kv, &args.namespace).await?;
    let collision = match args.collision.as_str() {
        "overwrite" => Collision::Overwrite,
        "fail" => Collision::Fail,
        _ => Collision::Skip,
    };
    let format = match args.format.as_str() {
        "json" => ImportFormat::Json,
        "ndjson" => ImportFormat::Ndjson,
        _ => ImportFormat::Auto,
    };
    let (file, path) = jobs.new_upload().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if args.file.as_os_str() == "-" {
        let target = path.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
            let mut out = std::fs::File::create(target)?;
            std::io::copy(&mut std::io::stdin().lock(), &mut out)
        })
        .await??;
    } else {
        tokio::fs::copy(&args.file, &path).await.with_context(|| format!("reading {}", args.file.display()))?;
    }
    let started = Instant::now();
    let job = jobs
        .start(&actor(), JobSpec::Import { namespace_id: ns, file, collision, format })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let job = follow(&jobs, &job.id, "importing").await?;
    println!(
        "{}: {} items into {title:?} in {:.1} s ({} skipped, {} errors)",
        job.status.as_str(),
        job.processed,
        started.elapsed().as_secs_f64(),
        job.skipped,
        job.errors
    );
    report(&job, started)
}

pub async fn export(args: ExportArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args.settings)?;
    let (kv, jobs) = open(&config).await?;
    let (ns, title) = namespace_id(&kv, &args.namespace).await?;
    let format = if args.format == "json" { ExportFormat::Json } else { ExportFormat::Ndjson };
    let started = Instant::now();
    let job = jobs
        .start(&actor(), JobSpec::Export { namespace_id: ns, format, prefix: args.prefix.clone() })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let job = follow(&jobs, &job.id, "exporting").await?;
    report(&job, started)?;
    let file = jobs.export_file(&job.id).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    match args.output {
        Some(path) if path.as_os_str() == "-" => {
            let source = file.path.clone();
            tokio::task::spawn_blocking(move || -> std::io::Result<u64> {
                let mut input = std::fs::File::open(source)?;
                std::io::copy(&mut input, &mut std::io::stdout().lock())
            })
            .await??;
            eprintln!("completed: {} keys of {title:?} in {:.1} s", job.processed, started.elapsed().as_secs_f64());
        }
        output => {
            let path = output.unwrap_or_else(|| file.filename.clone().into());
            tokio::fs::copy(&file.path, &path).await.with_context(|| format!("writing {}", path.display()))?;
            println!(
                "completed: {} keys of {title:?} to {} in {:.1} s",
                job.processed,
                path.display(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// `kv-manager rewind <namespace> --to <RFC 3339> [--prefix P] [--dry-run]`.
pub async fn rewind(args: RewindArgs) -> anyhow::Result<()> {
    let at = chrono::DateTime::parse_from_rfc3339(&args.to)
        .with_context(|| format!("--to: {:?} is not an RFC 3339 time (2026-11-30T12:00:00Z)", args.to))?
        .timestamp();
    let config = Config::resolve(&args.settings)?;
    let (kv, jobs) = open(&config).await?;
    let (ns, title) = namespace_id(&kv, &args.namespace).await?;
    let preview =
        jobs.preview_rewind(&actor(), &ns, args.prefix.as_deref(), at).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let c = &preview.counts;
    println!(
        "{title:?} at {}: {} created, {} changed, {} deleted, {} unchanged, {} incomplete",
        domain::rfc3339(at),
        c.created,
        c.changed,
        c.deleted,
        c.unchanged,
        c.incomplete
    );
    print_first(&[
        ("created", &preview.created),
        ("changed", &preview.changed),
        ("deleted", &preview.deleted),
        ("incomplete (history no longer kept; left as it is)", &preview.incomplete),
    ]);
    if args.dry_run {
        return Ok(());
    }
    let started = Instant::now();
    let spec = JobSpec::Rewind { namespace_id: ns, prefix: args.prefix.clone(), at };
    let job = jobs.start(&actor(), spec).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let job = follow(&jobs, &job.id, "rewinding").await?;
    println!(
        "{}: {} keys of {title:?} walked in {:.1} s ({} left as they were, {} incomplete)",
        job.status.as_str(),
        job.processed,
        started.elapsed().as_secs_f64(),
        job.skipped,
        job.errors
    );
    report(&job, started)
}

/// The backup target a `--to` or `--from` names: `s3` for an `s3://` address (which becomes the
/// run's S3 target), else `local`, in the directory given, if one is.
fn place(config: &mut Config, given: Option<&str>) -> String {
    match given {
        Some(url) if url.starts_with("s3://") => {
            config.backup_s3_url = Some(url.to_owned());
            domain::jobs::s3::S3_TARGET.to_owned()
        }
        Some(dir) => {
            config.backup_dir = Some(dir.into());
            domain::jobs::default_target()
        }
        None => domain::jobs::default_target(),
    }
}

/// `kv-manager backup <namespace> | --all [--prefix P] [--to <dir|s3://bucket/prefix>]`: one job per namespace, one
/// after the other, each with a progress bar; prints each backup's id.
pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    let mut config = Config::resolve(&args.settings)?;
    let target = place(&mut config, args.to.as_deref());
    let (kv, jobs) = open(&config).await?;
    let namespaces = match &args.namespace {
        Some(given) => vec![namespace_id(&kv, given).await?],
        None => {
            let mut all = Vec::new();
            for page in 1u32.. {
                let query = NamespaceQuery { page: Some(page), per_page: Some(1000), ..Default::default() };
                let listed = kv.list_namespaces(&actor(), query).await.map_err(|e| anyhow::anyhow!("{e}"))?;
                let done = listed.namespaces.len() < 1000;
                all.extend(listed.namespaces.into_iter().map(|ns| (ns.id, ns.title)));
                if done {
                    break;
                }
            }
            all
        }
    };
    let mut failed = 0usize;
    for (ns, title) in namespaces {
        let started = Instant::now();
        let spec = JobSpec::Backup {
            namespace_id: ns,
            prefix: args.prefix.clone(),
            target: target.clone(),
            plan_id: None,
            batch: Vec::new(),
        };
        let job = jobs.start(&actor(), spec).await.map_err(|e| anyhow::anyhow!("{e}"))?;
        let job = follow(&jobs, &job.id, "backing up").await?;
        match (&job.status, &job.result) {
            (JobStatus::Completed, Some(result)) => println!(
                "{title:?}: {} keys, {} bytes in {:.1} s: {}",
                result["key_count"],
                result["bytes"],
                started.elapsed().as_secs_f64(),
                result["backup_id"].as_str().unwrap_or_default()
            ),
            _ => {
                failed += 1;
                eprintln!("{title:?}: {}", report(&job, started).err().map(|e| e.to_string()).unwrap_or_default());
            }
        }
    }
    if failed > 0 {
        bail!("{failed} backup(s) did not complete");
    }
    let location = jobs.backup_targets().into_iter().find(|(name, _)| *name == target).map(|(_, at)| at);
    println!("backups in {}", location.unwrap_or_default());
    Ok(())
}

/// `kv-manager restore <backup> --into <namespace> [--mode add|overwrite|equal] [--prefix P]
/// [--from <dir|s3://bucket/prefix>] [--dry-run]`: prints the preview, then (without `--dry-run`) runs the restore.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    use domain::jobs::{RestoreInto, RestoreMode};
    let mode = RestoreMode::parse(&args.mode).map_err(|e| anyhow::anyhow!("--{e}"))?;
    let mut config = Config::resolve(&args.settings)?;
    let target = place(&mut config, args.from.as_deref());
    let (kv, jobs) = open(&config).await?;
    let (into, title) = match namespace_id(&kv, &args.into).await {
        Ok((id, title)) => (RestoreInto::Namespace(id), title),
        Err(_) => (RestoreInto::NewNamespace(args.into.clone()), args.into.clone()),
    };
    let preview = jobs
        .preview_restore(&actor(), &args.backup, &into, args.prefix.as_deref(), mode, &target)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let c = &preview.counts;
    let new = if matches!(into, RestoreInto::NewNamespace(_)) { " (a new namespace)" } else { "" };
    println!(
        "{} into {title:?}{new}, mode {}: {} created, {} changed, {} deleted, {} unchanged, {} kept, {} expired, {} failed",
        args.backup,
        mode.as_str(),
        c.created,
        c.changed,
        c.deleted,
        c.unchanged,
        c.kept,
        c.expired,
        c.failed
    );
    print_first(&[
        ("created", &preview.created),
        ("changed", &preview.changed),
        ("deleted", &preview.deleted),
        ("kept (different, left as they are by the mode)", &preview.kept),
        ("expired (not written)", &preview.expired),
        ("failed", &preview.failed),
    ]);
    if args.dry_run {
        return Ok(());
    }
    let started = Instant::now();
    let job = jobs
        .start_restore(&actor(), &args.backup, &into, args.prefix.clone(), mode, &target)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let job = follow(&jobs, &job.id, "restoring").await?;
    println!(
        "{}: {} keys of {title:?} walked in {:.1} s ({} left as they were)",
        job.status.as_str(),
        job.processed,
        started.elapsed().as_secs_f64(),
        job.skipped
    );
    report(&job, started)
}

/// `kv-manager token create | list | revoke`.
pub async fn token(command: TokenCommand) -> anyhow::Result<()> {
    let settings = match &command {
        TokenCommand::Create(args) => &args.settings,
        TokenCommand::List(args) => &args.settings,
        TokenCommand::Revoke(args) => &args.settings,
    };
    let config = Config::resolve(settings)?;
    let tokens = Runtime::open(&config, cli_instance(&config), 1).await?.tokens;
    let when = |at: Option<i64>| at.map(domain::rfc3339).unwrap_or_else(|| "-".into());
    match command {
        TokenCommand::Create(args) => {
            let (token, secret) =
                tokens.create(&actor(), &args.name, args.read_only).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let access = if token.read_only { "read-only" } else { "read-write" };
            eprintln!("Made {access} token {:?} ({}). It is shown once; keep it now:", token.name, token.id);
            println!("{secret}");
        }
        TokenCommand::List(_) => {
            println!("{:<32} {:<24} {:<10} {:<21} {:<21} revoked", "id", "name", "access", "created", "last used");
            for token in tokens.list().await.map_err(|e| anyhow::anyhow!("{e}"))? {
                let access = if token.read_only { "read-only" } else { "read-write" };
                println!(
                    "{:<32} {:<24} {:<10} {:<21} {:<21} {}",
                    token.id,
                    token.name,
                    access,
                    domain::rfc3339(token.created_at),
                    when(token.last_used_at),
                    when(token.revoked_at)
                );
            }
        }
        TokenCommand::Revoke(args) => {
            let token = tokens.revoke(&actor(), &args.token).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            eprintln!("Revoked token {:?} ({}).", token.name, token.id);
        }
    }
    Ok(())
}

/// `kv-manager service create | list | token | revoke`.
pub async fn service(command: ServiceCommand) -> anyhow::Result<()> {
    let settings = match &command {
        ServiceCommand::Create(args) => &args.settings,
        ServiceCommand::List(args) => &args.settings,
        ServiceCommand::Token(args) => &args.settings,
        ServiceCommand::Revoke(args) => &args.settings,
    };
    let config = Config::resolve(settings)?;
    let services = Runtime::open(&config, cli_instance(&config), 1).await?.services;
    let fail = |e: domain::DomainError| anyhow::anyhow!("{e}");
    match command {
        ServiceCommand::Create(args) => {
            let spec = domain::services::ServiceSpec {
                name: args.name,
                storage: args.storage,
                role: args.role,
                prefix: args.prefix,
                allowed_origins: args.origins,
                public_keys: args.public_keys,
                description: args.description,
                disabled: false,
            };
            let (service, token, secret) = services.create(&actor(), &spec).await.map_err(fail)?;
            eprintln!(
                "Made {} service {:?} over namespace {} with prefix {:?}; token {} is shown once, keep it now:",
                service.role.as_str(),
                service.name,
                service.namespace_id,
                service.prefix,
                token.id
            );
            println!("{secret}");
        }
        ServiceCommand::List(_) => {
            println!("{:<30} {:<10} {:<20} {:<34} {:<8} origins", "name", "role", "prefix", "namespace", "enabled");
            for s in services.list().await.map_err(fail)? {
                println!(
                    "{:<30} {:<10} {:<20} {:<34} {:<8} {}",
                    s.name,
                    s.role.as_str(),
                    s.prefix,
                    s.namespace_id,
                    if s.disabled { "no" } else { "yes" },
                    s.allowed_origins.join(",")
                );
            }
        }
        ServiceCommand::Token(args) => {
            let (token, secret) = services.issue_token(&actor(), &args.name).await.map_err(fail)?;
            eprintln!("Issued token {} for {:?}. It is shown once; keep it now:", token.id, args.name);
            println!("{secret}");
        }
        ServiceCommand::Revoke(args) => {
            let token = services.revoke_token(&actor(), &args.name, &args.token_id).await.map_err(fail)?;
            eprintln!("Revoked token {} of {:?}.", token.id, token.service);
        }
    }
    Ok(())
}

/// `kv-manager alert add | list | remove`.
pub async fn alert(command: AlertCommand) -> anyhow::Result<()> {
    let settings = match &command {
        AlertCommand::Add(args) => &args.settings,
        AlertCommand::List(args) => &args.settings,
        AlertCommand::Remove(args) => &args.settings,
    };
    let config = Config::resolve(settings)?;
    let alerts = Runtime::open(&config, cli_instance(&config), 1).await?.alerts;
    let fail = |e: domain::DomainError| anyhow::anyhow!("{e}");
    match command {
        AlertCommand::Add(args) => {
            let kind = if args.metric.is_some() { "threshold" } else { "expiry" };
            let input = domain::alerts::RuleInput {
                kind: kind.into(),
                namespace_id: args.namespace,
                prefix: args.prefix,
                tag: args.tag,
                within_secs: args.expiring_within,
                metric: args.metric,
                threshold: args.above,
                cooldown_secs: args.cooldown,
                enabled: true,
            };
            let rule = alerts.create(&actor(), input).await.map_err(fail)?;
            println!("{}", rule.id);
        }
        AlertCommand::List(_) => {
            println!("{:<30} {:<9} {:<34} {:<9} condition", "id", "kind", "namespace", "state");
            for rule in alerts.list(&actor()).await.map_err(fail)? {
                let condition = match (rule.kind.as_str(), &rule.metric) {
                    ("expiry", _) => format!(
                        "expiring within {} s{}{}",
                        rule.within_secs.unwrap_or(0),
                        rule.prefix.as_deref().map(|p| format!(", prefix {p:?}")).unwrap_or_default(),
                        rule.tag.as_deref().map(|t| format!(", tag {t:?}")).unwrap_or_default()
                    ),
                    (_, metric) => format!(
                        "{} > {} (last {})",
                        metric.as_deref().unwrap_or("?"),
                        rule.threshold.unwrap_or(0.0),
                        rule.last_value.map(|v| v.to_string()).unwrap_or_else(|| "-".into())
                    ),
                };
                let state = match (rule.enabled, rule.breached) {
                    (false, _) => "disabled",
                    (true, true) => "breached",
                    (true, false) => "ok",
                };
                println!("{:<30} {:<9} {:<34} {:<9} {condition}", rule.id, rule.kind, rule.namespace_id, state);
            }
        }
        AlertCommand::Remove(args) => {
            alerts.delete(&actor(), &args.id).await.map_err(fail)?;
            eprintln!("Deleted alert rule {}.", args.id);
        }
    }
    Ok(())
}

/// `kv-manager webhook add | list | remove | resume | test | log`.
pub async fn webhook(command: WebhookCommand) -> anyhow::Result<()> {
    let settings = match &command {
        WebhookCommand::Add(args) => &args.settings,
        WebhookCommand::List(args) => &args.settings,
        WebhookCommand::Remove(args)
        | WebhookCommand::Resume(args)
        | WebhookCommand::Test(args)
        | WebhookCommand::Log(args) => &args.settings,
    };
    let config = Config::resolve(settings)?;
    let webhooks = Runtime::open(&config, cli_instance(&config), 1).await?.webhooks;
    let fail = |e: domain::DomainError| anyhow::anyhow!("{e}");
    let when = |at: Option<i64>| at.map(domain::rfc3339).unwrap_or_else(|| "-".into());
    match command {
        WebhookCommand::Add(args) => {
            let input = domain::webhooks::EndpointInput {
                url: args.url,
                description: args.description,
                events: args.events,
                namespace_id: args.namespace,
                prefix: args.prefix,
                enabled: true,
                secret: args.secret,
            };
            let made = webhooks.create(&actor(), input).await.map_err(fail)?;
            eprintln!(
                "Added endpoint {} for {} ({}). Its signing secret is shown once; keep it now:",
                made.endpoint.id,
                made.endpoint.url,
                made.endpoint.events.join(", ")
            );
            println!("{}", made.secret);
        }
        WebhookCommand::List(_) => {
            println!("{:<30} {:<10} {:>7} {:<21} {:<40} events", "id", "state", "pending", "last delivered", "url");
            for e in webhooks.list(&actor()).await.map_err(fail)? {
                let state = match (&e.paused_reason, e.enabled) {
                    (_, false) => "disabled",
                    (Some(_), true) => "paused",
                    (None, true) => "delivering",
                };
                println!(
                    "{:<30} {:<10} {:>7} {:<21} {:<40} {}",
                    e.id,
                    state,
                    e.pending,
                    when(e.last_delivered_at),
                    e.url,
                    e.events.join(",")
                );
                if let Some(reason) = &e.paused_reason {
                    println!("  {reason}");
                }
            }
        }
        WebhookCommand::Remove(args) => {
            webhooks.delete(&actor(), &args.id).await.map_err(fail)?;
            eprintln!("Deleted endpoint {}.", args.id);
        }
        WebhookCommand::Resume(args) => {
            let endpoint = webhooks.resume(&actor(), &args.id).await.map_err(fail)?;
            eprintln!(
                "Resumed {}; {} queued change(s) will be delivered by the running server.",
                endpoint.id, endpoint.pending
            );
        }
        WebhookCommand::Test(args) => {
            let attempt = webhooks.send_test(&actor(), &args.id).await.map_err(fail)?;
            let answer = match (attempt.status_code, &attempt.error) {
                (_, Some(error)) => error.clone(),
                (Some(status), None) => format!("HTTP {status}"),
                (None, None) => "no answer".into(),
            };
            println!("{}: {answer} in {} ms", attempt.outcome, attempt.duration_ms);
            if attempt.outcome != "test_delivered" {
                anyhow::bail!("the test event was not delivered");
            }
        }
        WebhookCommand::Log(args) => {
            let page = webhooks.attempts(&actor(), &args.id, None).await.map_err(fail)?;
            println!("{:<21} {:<15} {:>6} {:>6} {:>8}  detail", "at", "outcome", "events", "status", "ms");
            for a in page.attempts {
                let status = a.status_code.map(|s| s.to_string()).unwrap_or_else(|| "-".into());
                let detail = a.error.or(a.response).unwrap_or_default();
                println!(
                    "{:<21} {:<15} {:>6} {:>6} {:>8}  {}",
                    domain::rfc3339(a.at),
                    a.outcome,
                    a.events,
                    status,
                    a.duration_ms,
                    detail.replace('\n', " ")
                );
            }
        }
    }
    Ok(())
}

/// A preview's first names of each class, a line per class that has any.
fn print_first(classes: &[(&str, &Vec<String>)]) {
    for (label, names) in classes {
        if !names.is_empty() {
            println!("  {label}: {}", names.join(", "));
        }
    }
}

/// `kv-manager db backup <file>`: a consistent copy of the SQLite database, taken while the
/// server runs.
pub async fn db(command: DbCommand) -> anyhow::Result<()> {
    match command {
        DbCommand::Backup(args) => {
            let config = Config::resolve(&args.settings)?;
            let copy = domain::db_copy::backup_sqlite(&config.database_url, &args.file)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "copied the database to {}: {} bytes, {} namespaces, {} keys, schema {}, integrity ok, in {:.1} s",
                copy.path.display(),
                copy.bytes,
                copy.namespaces,
                copy.keys,
                copy.schema,
                copy.took.as_secs_f64()
            );
            Ok(())
        }
    }
}

/// Where a probe on this machine reaches a server listening on `addr`: a wildcard address is
/// reached on the loopback of its family.
pub fn probe_addr(addr: std::net::SocketAddr) -> std::net::SocketAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    std::net::SocketAddr::new(ip, addr.port())
}

/// `kv-manager health`: GET /health from the server the same settings describe (its address,
/// HTTP or HTTPS), on this machine, within 5 seconds. The certificate is not checked: it names
/// the server's public host, and the probe reaches it on an address of this machine.
pub async fn health(args: crate::config::ServeArgs) -> anyhow::Result<()> {
    let config = Config::resolve(&args)?;
    let scheme = if config.tls.is_some() { "https" } else { "http" };
    let url = format!("{scheme}://{}/health", probe_addr(config.addr));
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .tls_danger_accept_invalid_certs(config.tls.is_some())
        .no_proxy()
        .build()
        .context("building the HTTP client")?;
    let response = client.get(&url).send().await.with_context(|| format!("GET {url}: no answer"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("GET {url}: {status}: {}", body.chars().take(300).collect::<String>());
    }
    println!("healthy: GET {url}: {status}: {body}");
    Ok(())
}
