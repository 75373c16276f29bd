//! How many SQL statements a key write costs, on SQLite and (with `KVM_TEST_POSTGRES_URL`)
//! PostgreSQL, counted by SeaORM's metric callback on the connection the store writes through.
//! The one write transaction (`WriteTxn`) takes the namespace lock and the audit row's title in
//! one statement; a write of many keys costs a few statements per batch, not per key. A change
//! that adds a statement to every write fails here and says which statements ran.

mod common;

use std::sync::{Arc, Mutex};

use common::{Fixture, me, put};
use domain::Kv;

both!(a_key_write_costs_six_statements_at_most, a_write_of_many_keys_costs_statements_per_batch_not_per_key);

/// A store over the fixture's database whose statements are recorded.
fn counted(f: &Fixture) -> (Kv, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut db = f.db.clone();
    let sink = Arc::clone(&seen);
    db.conn.set_metric_callback(move |info| {
        let sql = info.statement.sql.split_whitespace().collect::<Vec<_>>().join(" ");
        sink.lock().expect("the statement list").push(sql);
    });
    (Kv::sql(db), seen)
}

/// The statements recorded while `f` ran.
async fn during<F: std::future::Future<Output = ()>>(seen: &Arc<Mutex<Vec<String>>>, f: F) -> Vec<String> {
    seen.lock().expect("the statement list").clear();
    f.await;
    std::mem::take(&mut *seen.lock().expect("the statement list"))
}

async fn a_key_write_costs_six_statements_at_most(f: &Fixture) {
    let (kv, seen) = counted(f);
    let ns = kv.create_namespace(&me(), "statements").await.expect("namespace").id;
    kv.put_key(&me(), &ns, put("k", "first")).await.expect("create");
    // Overwrite: the lock with the title, what the write replaces, its version, the audit row,
    // the row itself, and the namespace's byte count (the size changed).
    let ran = during(&seen, async { kv.put_key(&me(), &ns, put("k", "second")).await.expect("overwrite") }).await;
    assert_eq!(ran.len(), 6, "an overwrite ran {} statements:\n{}", ran.len(), ran.join("\n"));
    assert!(ran[0].contains("RETURNING title"), "the lock comes first and reads the title: {}", ran[0]);
    assert!(!ran.iter().any(|s| s.starts_with("SELECT title")), "the title is read with the lock:\n{}", ran.join("\n"));
    // The same size: the counters stay, and are not written.
    let ran = during(&seen, async { kv.put_key(&me(), &ns, put("k", "third!")).await.expect("overwrite") }).await;
    assert_eq!(ran.len(), 5, "an overwrite of the same size ran {} statements:\n{}", ran.len(), ran.join("\n"));
    // Delete: the lock, what goes, its version, the audit row, its custom metadata and tags, the
    // row, the counters.
    let ran = during(&seen, async { assert!(kv.delete_key(&me(), &ns, "k").await.expect("delete")) }).await;
    assert_eq!(ran.len(), 8, "a delete ran {} statements:\n{}", ran.len(), ran.join("\n"));
}

async fn a_write_of_many_keys_costs_statements_per_batch_not_per_key(f: &Fixture) {
    let (kv, seen) = counted(f);
    let ns = kv.create_namespace(&me(), "statements-many").await.expect("namespace").id;
    let puts = |prefix: &str, n: usize| (0..n).map(|i| put(&format!("{prefix}/{i:04}"), "value")).collect::<Vec<_>>();
    let ten = during(&seen, async { kv.put_many(&me(), &ns, puts("ten", 10)).await.expect("10 keys") }).await;
    let hundred = during(&seen, async { kv.put_many(&me(), &ns, puts("hundred", 100)).await.expect("100 keys") }).await;
    assert_eq!(
        ten.len(),
        hundred.len(),
        "10 new keys ran {} statements, 100 new keys {}:\n{}",
        ten.len(),
        hundred.len(),
        hundred.join("\n")
    );
    let again = during(&seen, async { kv.put_many(&me(), &ns, puts("hundred", 100)).await.expect("100 again") }).await;
    assert!(again.len() <= 6, "overwriting 100 keys ran {} statements:\n{}", again.len(), again.join("\n"));
}
