//! Which database the suite runs on: `scripts/test.sh` runs the API suites
//! twice and says which backend each pass must use
//! (`BERTH_TEST_EXPECT_BACKEND`), so a PostgreSQL pass that silently fell
//! back to SQLite fails here instead of passing.

use berth_api::store::Backend;
use berth_testkit::TestServer;

#[tokio::test]
async fn the_suite_runs_on_the_database_it_was_asked_for() {
    let srv = TestServer::start().await;
    let backend = srv.ctx.store().backend();
    let expected = match std::env::var("BERTH_TEST_EXPECT_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("BERTH_TEST_EXPECT_BACKEND={other}: use sqlite or postgres"),
    };
    assert_eq!(backend, expected);
    println!("this pass runs on {backend:?}");
}
