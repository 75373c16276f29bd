//! PostgreSQL keeps statistics of the key tables even where autovacuum is off (as on the test
//! machines): after a thousand rows written, the key tables are analyzed, so the batched key
//! lookups of imports and bulk jobs keep using the key index as the table grows.

mod common;

use common::*;
use sea_orm::ConnectionTrait;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_key_tables_are_analyzed_as_they_grow() {
    let Some(f) = postgres().await else {
        eprintln!("KVM_TEST_POSTGRES_URL is not set: PostgreSQL test skipped");
        return;
    };
    let analyzed = || async {
        let row =
            f.db.conn
                .query_one_raw(sea_orm::Statement::from_string(
                    sea_orm::DbBackend::Postgres,
                    "SELECT COUNT(*) AS n FROM pg_stat_user_tables WHERE relname = 'kv_entries' \
                 AND (last_analyze IS NOT NULL OR last_autoanalyze IS NOT NULL)",
                ))
                .await
                .unwrap()
                .unwrap();
        row.try_get::<i64>("", "n").unwrap() == 1
    };
    assert!(!analyzed().await, "a fresh database has no statistics yet");
    let ns = namespace(&f, "grows").await;
    for batch in 0..2 {
        let puts = (0..1000).map(|i| put(&format!("k{batch}-{i:04}"), "v")).collect();
        f.kv.put_many(&me(), &ns, puts).await.unwrap();
    }
    let mut done = false;
    for _ in 0..200 {
        if analyzed().await {
            done = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(done, "kv_entries was not analyzed after 2000 rows were written");
    f.finish().await;
}
