//! A minimal reproduction of the cause of the page renders that waited forever when several
//! servers ran in one process (leptos-rs/leptos#4773): leptos_server's `SuppressResourceLoad`,
//! which `generate_route_list` holds while it renders the app to find its routes, is one flag for
//! the whole process. While it is held, a page rendered by any server of the process starts its
//! resources as futures that never end. kv-manager finds its routes once per process
//! (`router::route_list`), before any server renders, so nothing renders in that window.
//!
//! This file holds one test so that the flag it sets is seen by no other test. It asserts what
//! Leptos does today: if it fails because the page rendered, Leptos has fixed the flag and the
//! once-per-process route list may go.

mod common;

use std::time::Duration;

use common::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_any_route_list_is_made_no_page_of_the_process_loads_its_resources() {
    let server = TestServer::start().await;
    assert_eq!(server.get("/").await.status, 200, "the page renders");

    // What generate_route_list holds while it runs, somewhere else in the process.
    let suppressed = leptos::server::SuppressResourceLoad::new();
    let stalled = tokio::time::timeout(Duration::from_secs(3), server.request("GET", "/", &[], b"")).await;
    drop(suppressed);
    assert!(stalled.is_err(), "the page rendered while resources were suppressed: leptos-rs/leptos#4773 is fixed");

    let res = server.get("/").await;
    assert!(res.status == 200 && res.text().contains("</html>"), "pages render again once the flag is down");
}
