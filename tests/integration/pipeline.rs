//! End to end over HTTP only: the runner serves the template's API with the real `intake` and
//! `stream-router` binaries, enforces the JWT authorizer, and plays the Orders stream.

use std::time::Duration;

use local::{Runner, RunnerOptions, auth::LocalIssuer};
use serde_json::{Value, json};

use crate::harness::{Reply, eventually, function_binaries, http, moto_endpoint, order_body, unique_name};

const AUTHORIZER: &str = "StorefrontJwt";

async fn pipeline() -> Runner {
    let mut options = RunnerOptions::new(unique_name("e2e"));
    options.binaries = function_binaries();
    options.moto_endpoint = Some(moto_endpoint().to_owned());
    options.start_localstripe = false;
    Runner::start(options).await.unwrap()
}

async fn post_order(runner: &Runner, token: Option<&str>, key: &str) -> Reply {
    let bearer = token.map(|token| format!("Bearer {token}"));
    let mut headers = vec![("Content-Type", "application/json"), ("Idempotency-Key", key)];
    headers.extend(bearer.as_deref().map(|value| ("Authorization", value)));
    http("POST", &format!("{}/orders", runner.api_url()), &headers, &order_body().to_string()).await
}

fn intake_invocations(runner: &Runner) -> usize {
    runner.journal.invocations().iter().filter(|record| record.function == "intake").count()
}

#[tokio::test]
async fn an_order_posted_over_http_is_stored_and_its_event_reaches_the_consumers_queues() {
    let runner = pipeline().await;
    let token = runner.token(AUTHORIZER, "shop-e2e", Duration::from_secs(300)).unwrap();

    let placed = post_order(&runner, Some(&token), "e2e-1").await;
    assert_eq!(placed.status, 201, "{:?}", placed.json);
    let id = placed.json["id"].as_str().unwrap().to_owned();
    assert_eq!(placed.headers["location"], format!("/orders/{id}"));

    let read =
        http("GET", &format!("{}/orders/{id}", runner.api_url()), &[("Authorization", &format!("Bearer {token}"))], "")
            .await;
    assert_eq!((read.status, read.json["status"].as_str()), (200, Some("PLACED")));
    let stranger = runner.token(AUTHORIZER, "another-shop", Duration::from_secs(300)).unwrap();
    let hidden = http(
        "GET",
        &format!("{}/orders/{id}", runner.api_url()),
        &[("Authorization", &format!("Bearer {stranger}"))],
        "",
    )
    .await;
    assert_eq!(hidden.status, 404, "the verified sub claim reaches intake as the storefront");

    let sqs = aws_sdk_sqs::Client::new(&runner.sdk);
    for queue in ["InventoryQueue", "NotificationsQueue"] {
        let url = runner.stack.reference_of(queue).unwrap();
        let event: Value = eventually(Duration::from_secs(30), || async {
            let output = sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.ok()?;
            let message = output.messages?.into_iter().next()?;
            serde_json::from_str(message.body()?).ok()
        })
        .await;
        assert_eq!(
            (event["type"].as_str(), event["id"].as_str()),
            (Some("order.placed"), Some(format!("{id}:1").as_str())),
            "{queue}"
        );
    }
    let router = runner.journal.invocations().into_iter().find(|record| record.function == "stream-router").unwrap();
    assert_eq!(router.trigger, "dynamodb OrdersStream");
}

#[tokio::test]
async fn the_authorizer_answers_401_before_any_function_runs() {
    let runner = pipeline().await;
    let authorizer = &runner.authorizers()[AUTHORIZER];
    let now = chrono::Utc::now().timestamp();
    let claims = |changes: Value| {
        let mut claims = json!({ "iss": authorizer.issuer, "aud": authorizer.audiences[0], "sub": "shop", "iat": now, "exp": now + 300 });
        claims.as_object_mut().unwrap().extend(changes.as_object().unwrap().clone());
        claims
    };
    let expired = runner.issuer().sign(&claims(json!({ "exp": now - 5 }))).unwrap();
    let wrong_audience = runner.issuer().sign(&claims(json!({ "aud": "someone-else" }))).unwrap();
    let foreign = LocalIssuer::new().unwrap().sign(&claims(json!({}))).unwrap();

    for (case, token) in [
        ("missing", None),
        ("expired", Some(&expired)),
        ("wrong audience", Some(&wrong_audience)),
        ("wrongly signed", Some(&foreign)),
        ("garbage", Some(&"abc.def.ghi".to_owned())),
    ] {
        let refused = post_order(&runner, token.map(String::as_str), case).await;
        assert_eq!(refused.status, 401, "{case}");
        assert_eq!(refused.json, json!({ "message": "Unauthorized" }), "{case}");
        assert!(refused.headers["www-authenticate"].starts_with("Bearer"), "{case}");
    }
    assert_eq!(intake_invocations(&runner), 0, "no function ran");
    let orders = aws_sdk_dynamodb::Client::new(&runner.sdk)
        .scan()
        .table_name(runner.stack.reference_of("OrdersTable").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(orders.count, 0, "nothing was written");

    let good = runner.issuer().sign(&claims(json!({}))).unwrap();
    assert_eq!(post_order(&runner, Some(&good), "good").await.status, 201);
    let unknown = http("GET", &format!("{}/nowhere", runner.api_url()), &[], "").await;
    assert_eq!((unknown.status, unknown.json["message"].as_str()), (404, Some("Not Found")));
}
