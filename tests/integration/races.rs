//! Races over HTTP for real: the runner serves concurrent requests in sandboxes of their own, as
//! Lambda scales out, so the races below run in parallel processes against moto, not one after
//! another in one.

use std::time::Duration;

use futures_util::future::join_all;
use serde_json::json;

use crate::{
    harness::{Reply, http, order_body},
    pipeline::{AUTHORIZER, pipeline, reaches},
};

/// What `intake`'s processes did: how many started.
fn intake_processes(runner: &local::Runner) -> u64 {
    runner.function_stats()["IntakeFunction"].1.processes_started
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_over_http_race_in_parallel_sandboxes_and_the_store_settles_them() {
    let runner = pipeline().await;
    let token = runner.token(AUTHORIZER, "shop-races", Duration::from_secs(300)).unwrap();
    let bearer = format!("Bearer {token}");
    let orders = format!("{}/orders", runner.api_url());

    // A double-clicked checkout, eight times at once: one order, eight identical answers.
    let headers =
        [("Content-Type", "application/json"), ("Authorization", bearer.as_str()), ("Idempotency-Key", "twice")];
    let body = order_body().to_string();
    let replies: Vec<Reply> = join_all((0..8).map(|_| http("POST", &orders, &headers, &body))).await;
    assert!(
        replies.iter().all(|reply| reply.status == 201),
        "{:?}",
        replies.iter().map(|r| &r.json).collect::<Vec<_>>()
    );
    let ids: std::collections::BTreeSet<String> = replies.iter().map(|reply| reply.json["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(intake_processes(&runner) > 1, "the requests ran in parallel sandboxes");

    // Two amendments of one held order from the same version: one wins, one is told 412.
    let mut suspicious = order_body();
    suspicious["customer"]["email"] = json!("burner@mailinator.com");
    suspicious["billing_address"] = json!({"name": "G H", "line1": "1 Main St", "city": "Lagos", "country": "NG"});
    let placed =
        http("POST", &orders, &[headers[0], headers[1], ("Idempotency-Key", "held")], &suspicious.to_string()).await;
    let id = placed.json["id"].as_str().unwrap().to_owned();
    let held = reaches(&runner, &token, &id, "ON_HOLD").await;
    let version = format!("\"{}\"", held["version"]);
    let amend = |mugs: u16| {
        let body = json!({"lines": [{"sku": "MUG-CLASSIC", "quantity": mugs}, {"sku": "NOTEBOOK-A5", "quantity": 1}]});
        let headers =
            [("Content-Type", "application/json"), ("Authorization", bearer.as_str()), ("If-Match", &version)];
        let url = format!("{orders}/{id}");
        async move { http("PATCH", &url, &headers, body.to_string()).await }
    };
    let (four, five) = tokio::join!(amend(4), amend(5));
    let mut statuses = [four.status, five.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "{:?} {:?}", four.json, five.json);
    let winner = if four.status == 200 { 4 } else { 5 };
    let amended = http("GET", &format!("{orders}/{id}"), &[("Authorization", &bearer)], "").await;
    assert_eq!(amended.json["lines"][0]["quantity"], winner);

    let denials = runner.denials().await.unwrap();
    assert!(denials.is_empty(), "{denials:#?}");
}
