//! Services of the multi-tenant KV API and their tokens, on both databases.

mod common;

use common::{Fixture, namespace};
use domain::services::{ServiceDefinition, ServiceRole, ServiceSpec, Services};
use domain::{Actor, Role, Source};

both!(
    services_tokens_and_prefixes,
    a_services_file_creates_and_updates,
    writes_of_every_kind_at_once_never_find_the_database_locked
);

fn admin() -> Actor {
    Actor::new("admin", Source::Console, Role::Admin)
}

fn spec(name: &str, storage: &str, prefix: &str) -> ServiceSpec {
    ServiceSpec {
        name: name.into(),
        storage: storage.into(),
        role: "admin".into(),
        prefix: prefix.into(),
        ..Default::default()
    }
}

async fn services_tokens_and_prefixes(f: &Fixture) {
    let ns = namespace(f, "apps").await;
    let services = Services::new(f.kv.clone(), f.db.conn.clone(), Some("the-master"));
    let (web, first, secret) = services.create(&admin(), &spec("web", "apps", "web")).await.unwrap();
    assert_eq!((web.namespace_id.as_str(), web.role), (ns.as_str(), ServiceRole::Admin));
    let caller = services.caller(&secret, None).await.unwrap().expect("the token names its service");
    assert_eq!((caller.service.name.as_str(), caller.token.as_str(), caller.master), ("web", first.id.as_str(), false));
    assert_eq!(caller.actor().user, "web");

    // Prefixes are unique within a namespace, on either database.
    let err = services.create(&admin(), &spec("web2", &ns, "web")).await.unwrap_err();
    assert_eq!((err.status(), err.field()), (409, Some("prefix")));
    let err = services
        .update(&admin(), "web", &ServiceSpec { prefix: "x:y".into(), ..spec("web", &ns, "web") })
        .await
        .unwrap_err();
    assert_eq!(err.field(), Some("prefix"));

    // Rotation and revocation.
    let (second, second_secret) = services.issue_token(&admin(), "web").await.unwrap();
    services.revoke_token(&admin(), "web", &first.id).await.unwrap();
    assert!(services.caller(&secret, None).await.unwrap().is_none());
    assert_eq!(services.caller(&second_secret, None).await.unwrap().unwrap().token, second.id);
    let tokens = services.tokens("web").await.unwrap();
    assert_eq!(tokens.iter().filter(|t| t.revoked_at.is_some()).count(), 1);
    assert_eq!(services.revoke_token(&admin(), "web", &first.id).await.unwrap_err().status(), 409);

    // Disabled: its tokens name no one; enabled again, they work.
    let mut paused = spec("web", &ns, "web");
    paused.disabled = true;
    assert!(services.update(&admin(), "web", &paused).await.unwrap().disabled);
    assert!(services.caller(&second_secret, None).await.unwrap().is_none());
    paused.disabled = false;
    services.update(&admin(), "web", &paused).await.unwrap();
    assert!(services.caller(&second_secret, None).await.unwrap().is_some());

    // The master token acts on a named service only.
    assert!(services.caller("the-master", None).await.unwrap().is_none());
    let master = services.caller("the-master", Some("web")).await.unwrap().unwrap();
    assert!(master.master);
    assert_eq!(master.actor().user, "master");

    // Use is recorded (off the request's path).
    let mut used = None;
    for _ in 0..100 {
        used = services.tokens("web").await.unwrap().into_iter().find(|t| t.id == second.id).unwrap().last_used_at;
        if used.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(used.is_some(), "last_used_at written");

    // A protected namespace is not there for the console; an operator on the CLI may use it.
    namespace(f, "vault").await;
    let guarded = Services::new(f.kv.clone().with_protected(vec!["vault".into()]), f.db.conn.clone(), None);
    let err = guarded.create(&admin(), &spec("in-vault", "vault", "v")).await.unwrap_err();
    assert_eq!(err.field(), Some("storage"));
    let operator = Actor::new("ops", Source::Cli, Role::Admin);
    guarded.create(&operator, &spec("in-vault", "vault", "v")).await.unwrap();

    // Users who are not admins manage nothing.
    let user = Actor::new("u", Source::Console, Role::User);
    assert_eq!(services.issue_token(&user, "web").await.unwrap_err().status(), 403);
    assert_eq!(services.list().await.unwrap().len(), 2);
}

async fn a_services_file_creates_and_updates(f: &Fixture) {
    namespace(f, "shared").await;
    let services = Services::new(f.kv.clone(), f.db.conn.clone(), None);
    let hash = "ab".repeat(32);
    let mut definition =
        ServiceDefinition { spec: spec("from-file", "shared", "ff"), token_sha256: vec![hash.clone()] };
    services.load_definitions(&admin(), std::slice::from_ref(&definition)).await.unwrap();
    // Loading again (a restart) changes what the file changed and adds no second token.
    definition.spec.role = "read-only".into();
    services.load_definitions(&admin(), std::slice::from_ref(&definition)).await.unwrap();
    let service = services.get("from-file").await.unwrap();
    assert_eq!(service.role, ServiceRole::ReadOnly);
    assert_eq!(services.tokens("from-file").await.unwrap().len(), 1, "only the file's token");
    definition.token_sha256 = vec!["not-hex".into()];
    let err = services.load_definitions(&admin(), &[definition]).await.unwrap_err();
    assert_eq!(err.field(), Some("token_sha256"));
}

/// Tokens, services, keys and their details written at the same time from several tasks: each
/// write waits for the others. (On SQLite a transaction that read before it wrote failed at once
/// with "database is locked" when another writer had committed meanwhile: a token made while a
/// job ran answered 500.)
async fn writes_of_every_kind_at_once_never_find_the_database_locked(f: &Fixture) {
    let ns = namespace(f, "busy").await;
    let services = Services::new(f.kv.clone(), f.db.conn.clone(), None);
    let tokens = domain::tokens::Tokens::new(f.db.conn.clone());
    const ROUNDS: usize = 60;
    let mut tasks = tokio::task::JoinSet::new();
    {
        let tokens = tokens.clone();
        tasks.spawn(async move {
            for i in 0..ROUNDS {
                tokens
                    .create(&admin(), &format!("token-{i}"), false)
                    .await
                    .map(|_| ())
                    .map_err(|e| format!("token {i}: {e}"))?;
            }
            Ok::<_, String>(())
        });
    }
    {
        let (services, ns) = (services.clone(), ns.clone());
        tasks.spawn(async move {
            for i in 0..ROUNDS / 3 {
                let name = format!("svc-{i:02}");
                services.create(&admin(), &spec(&name, &ns, &name)).await.map_err(|e| format!("service {i}: {e}"))?;
            }
            Ok(())
        });
    }
    for writer in 0..2 {
        let (kv, ns) = (f.kv.clone(), ns.clone());
        tasks.spawn(async move {
            for i in 0..ROUNDS {
                let name = format!("w{writer}-{i}");
                kv.put_key(&admin(), &ns, common::put(&name, "v")).await.map_err(|e| format!("put {name}: {e}"))?;
                kv.put_key_details(&admin(), &ns, &name, Some(vec!["t".into()]), None)
                    .await
                    .map_err(|e| format!("details {name}: {e}"))?;
            }
            Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap().unwrap();
    }
    assert_eq!(tokens.list().await.unwrap().len(), ROUNDS);
    assert_eq!(services.list().await.unwrap().len(), ROUNDS / 3);
    assert_eq!(common::reader(&f.kv, &ns).await.count_keys("").await.unwrap(), 2 * ROUNDS as u64);
}
