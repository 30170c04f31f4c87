//! The operators' desk end to end over HTTP, with the operators' tokens as their user pool makes
//! them: another shop's order does not exist on any operator route; a token without a route's
//! scope is refused by API Gateway and a refund over the storefront's limit by the function; two
//! agents racing for one held order, one wins; every change names its operator on the timeline;
//! search, the queue and a customer's history read only the operator's storefronts, by index;
//! an operator signs in at the hosted login with PKCE.

use std::time::Duration;

use chrono::Utc;
use futures_util::future::join_all;
use serde_json::{Value, json};
use shared::domain::{OrderId, OrderStatus};

use local::apigw::login::LocalOperator;
use operator_api::OperatorApi;
use shared::adapters::identity::{CodeRefused, HostedLogin, IssuerKeys};
use shared::domain::OrderRepository as _;
use shared::web::session::{DeskPath, PendingLogin};
use shared::web::tokens::{TokenPolicy, TokenRefused, TokenVerifier};

use crate::harness::{Reply, TestStack, http, order_body, reply};
use crate::pipeline::{AUTHORIZER, pipeline_named, post_body, reaches};

const HOUR: Duration = Duration::from_secs(3600);

async fn call(runner: &local::Runner, method: &str, path: &str, token: &str, body: Option<Value>) -> Reply {
    call_at(runner, method, path, token, body, None).await
}

async fn call_at(
    runner: &local::Runner,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
    version: Option<&str>,
) -> Reply {
    let bearer = format!("Bearer {token}");
    let if_match = version.map(|version| format!("\"{version}\""));
    let mut headers = vec![("Authorization", bearer.as_str()), ("Content-Type", "application/json")];
    headers.extend(if_match.as_deref().map(|value| ("If-Match", value)));
    let body = body.map(|body| body.to_string()).unwrap_or_default();
    http(method, &format!("{}{path}", runner.api_url()), &headers, body).await
}

/// An order the screening holds for the desk (a disposable address and a far billing country).
fn suspicious(email: &str, phone: &str) -> Value {
    let mut body = order_body();
    body["customer"]["email"] = json!(email);
    body["customer"]["phone"] = json!(phone);
    body["billing_address"] = json!({"name": "G H", "line1": "1 Main St", "city": "Lagos", "country": "NG"});
    body
}

#[tokio::test]
async fn operators_see_and_change_only_their_storefronts_orders_within_their_role() {
    let runner = pipeline_named("desk", false).await;
    let shop_a = runner.token(AUTHORIZER, "shop-a", HOUR).unwrap();
    let shop_b = runner.token(AUTHORIZER, "shop-b", HOUR).unwrap();
    let operator = |name: &str, role: &str, storefronts: &str| runner.operator_token(name, &[role], storefronts, HOUR);
    let ana = operator("ana", "agent", "shop-a").unwrap();
    let ben = operator("ben", "agent", "shop-a").unwrap();
    let sam = operator("sam", "supervisor", "shop-a").unwrap();
    let bob = operator("bob", "agent", "shop-b").unwrap();
    let nobody = operator("nobody", "staff", "shop-a").unwrap();

    // The same customer at both shops.
    let (email, phone) = ("burner@mailinator.com", "+31612345678");
    let mut held = Vec::new();
    for (token, key) in [(&shop_a, "desk-a"), (&shop_b, "desk-b")] {
        let placed = post_body(&runner, Some(token), key, &suspicious(email, phone)).await;
        assert_eq!(placed.status, 201, "{:?}", placed.json);
        let id = placed.json["id"].as_str().unwrap().to_owned();
        reaches(&runner, token, &id, "ON_HOLD").await;
        held.push(id);
    }
    let (order_a, order_b) = (held[0].clone(), held[1].clone());

    // Shop B's order, to an operator of shop A, does not exist on any route; it stays as it was.
    let retry_at = (Utc::now() + chrono::Duration::hours(2)).to_rfc3339();
    let routes: Vec<(&str, String, Option<Value>)> = vec![
        ("GET", format!("/orders/{order_b}/review"), None),
        ("POST", format!("/orders/{order_b}/review"), Some(json!({"decision": "approve"}))),
        ("POST", format!("/orders/{order_b}/claim"), None),
        (
            "POST",
            format!("/orders/{order_b}/contact-outcomes"),
            Some(json!({"outcome": "no_answer", "retry_at": retry_at})),
        ),
        ("POST", format!("/orders/{order_b}/operator-cancel"), None),
        ("POST", format!("/orders/{order_b}/operator-amend"), Some(json!({"shipping_option": "express"}))),
        ("POST", format!("/orders/{order_b}/refunds"), Some(json!({"amount": 100}))),
        ("POST", format!("/orders/{order_b}/apology"), Some(json!({"remedy": "other", "what_went_wrong": "late"}))),
    ];
    for (method, path, body) in &routes {
        for token in [&ana, &sam] {
            let answer = call_at(&runner, method, path, token, body.clone(), Some("4")).await;
            assert_eq!(
                (answer.status, answer.json["code"].as_str()),
                (404, Some("order_not_found")),
                "{method} {path}"
            );
        }
    }
    let seen_by_b = call(&runner, "GET", &format!("/orders/{order_b}/review"), &bob, None).await;
    assert_eq!((seen_by_b.status, seen_by_b.json["status"].as_str()), (200, Some("ON_HOLD")));
    assert!(seen_by_b.json["desk"].is_null(), "nobody touched it: {:?}", seen_by_b.json);

    // A token without the route's scope (no role) is refused before the function runs; a
    // storefront's token never opens an operator route.
    let forbidden = call(&runner, "GET", "/review-queue", &nobody, None).await;
    assert_eq!((forbidden.status, forbidden.json["message"].as_str()), (403, Some("Forbidden")));
    assert_eq!(call(&runner, "GET", "/review-queue", &shop_a, None).await.status, 401);

    // The queue: each desk sees its own held orders, oldest first, against the SLA.
    let queue = call(&runner, "GET", "/review-queue", &ana, None).await;
    assert_eq!(queue.status, 200, "{:?}", queue.json);
    let queued: Vec<&str> =
        queue.json["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
    assert_eq!(queued, [order_a.as_str()]);
    assert_eq!(queue.json["orders"][0]["sla_minutes"], 60);
    assert!(queue.json["orders"][0]["waiting_minutes"].is_i64());

    // Two agents race to claim the held order: one wins, the other is told who calls.
    let claim = |token: String| {
        let path = format!("/orders/{order_a}/claim");
        let runner = &runner;
        async move { call(runner, "POST", &path, &token, None).await }
    };
    let racing = join_all([claim(ana.clone()), claim(ben.clone())]).await;
    let mut statuses: Vec<u16> = racing.iter().map(|reply| reply.status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{:?}", racing.iter().map(|reply| &reply.json).collect::<Vec<_>>());
    let (winner, loser) = if racing[0].status == 200 { (&ana, &ben) } else { (&ben, &ana) };
    let loser_reply = racing.iter().find(|reply| reply.status == 409).unwrap();
    assert_eq!(loser_reply.json["code"], "claimed");
    let outcomes = format!("/orders/{order_a}/contact-outcomes");
    let unclaimed = call(&runner, "POST", &outcomes, loser, Some(json!({"outcome": "reached_confirmed"}))).await;
    assert_eq!((unclaimed.status, unclaimed.json["code"].as_str()), (409, Some("claim_required")));

    // Nobody answers: the winner says when to call again, and the claim is free.
    let no_answer = call(
        &runner,
        "POST",
        &outcomes,
        winner,
        Some(json!({"outcome": "no_answer", "retry_at": retry_at, "note": "voicemail"})),
    )
    .await;
    assert_eq!(no_answer.status, 200, "{:?}", no_answer.json);
    assert_eq!(call(&runner, "POST", &format!("/orders/{order_a}/claim"), loser, None).await.status, 200);
    assert_eq!(
        call(&runner, "POST", &outcomes, loser, Some(json!({"outcome": "reached_confirmed"}))).await.status,
        200
    );

    // Refunds above the storefront's limit (50.00 EUR) are a supervisor's.
    let refunds = format!("/orders/{order_a}/refunds");
    let over = call_at(&runner, "POST", &refunds, loser, Some(json!({"amount": 5001})), Some("4")).await;
    assert_eq!(
        (over.status, over.json["code"].as_str(), over.json["field"].as_str()),
        (403, Some("refund_above_limit"), Some("/amount"))
    );
    let by_supervisor = call_at(&runner, "POST", &refunds, &sam, Some(json!({"amount": 5001})), Some("4")).await;
    assert_ne!(by_supervisor.status, 403, "{:?}", by_supervisor.json);

    let approved = call(
        &runner,
        "POST",
        &format!("/orders/{order_a}/review"),
        loser,
        Some(json!({"decision": "approve", "note": "called her"})),
    )
    .await;
    assert_eq!(
        (approved.status, approved.json["status"].as_str()),
        (200, Some("PAYMENT_AUTHORIZED")),
        "{:?}",
        approved.json
    );

    // The order's page: every step with who did it, and the desk's claims and calls.
    let page = call(&runner, "GET", &format!("/orders/{order_a}/review"), &sam, None).await;
    let timeline = page.json["timeline"].as_array().unwrap();
    let decision =
        &timeline.iter().find(|entry| entry["reason"]["kind"] == "review_approved").unwrap()["reason"]["decision"];
    let loser_name = if loser == &ana { "ana" } else { "ben" };
    assert_eq!((decision["operator"].as_str(), decision["role"].as_str()), (Some(loser_name), Some("agent")));
    assert!(decision["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    let desk: Vec<(String, String)> = page.json["desk"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            (entry["by"]["operator"].as_str().unwrap().to_owned(), entry["work"]["kind"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(desk.len(), 4, "two claims and two calls: {desk:?}");
    assert!(desk.iter().all(|(_, kind)| kind == "claimed" || kind == "contacted"));

    // Search by e-mail, phone and status: each desk finds its own shop's order only.
    for (token, own) in [(&ana, &order_a), (&bob, &order_b)] {
        for query in [format!("email={}", email.replace('@', "%40")), format!("phone={}", phone.replace('+', "%2B"))] {
            let found = call(&runner, "GET", &format!("/orders?{query}"), token, None).await;
            assert_eq!(found.status, 200, "{:?}", found.json);
            let ids: Vec<&str> =
                found.json["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
            assert_eq!(ids, [own.as_str()], "{query}");
            assert!(found.json["orders"][0].get("customer").is_none(), "summaries only");
        }
    }
    // By status: shop B's order is still held, and only B's desk finds it so.
    for (token, held) in [(&bob, vec![order_b.as_str()]), (&ana, vec![])] {
        let found = call(&runner, "GET", "/orders?status=ON_HOLD", token, None).await;
        let ids: Vec<&str> =
            found.json["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
        assert_eq!(ids, held);
    }
    let bad = call(&runner, "GET", "/orders?status=SHIPPED&status=HELD", &ana, None).await;
    assert_eq!(
        (bad.status, bad.json["code"].as_str(), bad.json["field"].as_str()),
        (400, Some("duplicate_parameter"), Some("?status"))
    );

    // The customer's history at the operator's storefronts, and the shop's own "my orders".
    let history =
        call(&runner, "GET", &format!("/customer-history?email={}", email.replace('@', "%40")), &ana, None).await;
    assert_eq!((history.status, history.json["orders"][0]["id"].as_str()), (200, Some(order_a.as_str())));
    assert_eq!(history.json["orders"].as_array().unwrap().len(), 1, "shop B's order is not shop A's customer's");
    for (token, own) in [(&shop_a, &order_a), (&shop_b, &order_b)] {
        let mine =
            call(&runner, "GET", &format!("/customer-orders?email={}", email.replace('@', "%40")), token, None).await;
        let ids: Vec<&str> =
            mine.json["orders"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [own.as_str()]);
    }

    // Shop B's order is as it was.
    let store = shared::adapters::dynamodb::DynamoStore::from_env(
        aws_sdk_dynamodb::Client::new(&runner.sdk),
        &shared::config::Env::Map(runner.stack.function_environment("OperatorApiFunction").unwrap()),
    )
    .unwrap();
    let untouched = store.head(&OrderId::parse(&order_b).unwrap()).await.unwrap().unwrap();
    assert_eq!((untouched.status(), untouched.review_claim.as_ref()), (OrderStatus::OnHold, None));
}

/// Seeds `count` orders of `storefront`, one a minute back from now, every tenth one the same
/// customer's, through the store as intake writes them.
async fn seed(cloud: &TestStack, storefront: &str, count: usize, regular: &str) -> Vec<OrderId> {
    let template = shared::notification::Sample::order(shared::notification::Notice::Received).unwrap();
    let key = shared::domain::LookupKeys::lookup_key(&cloud.lookup_keys()).await.unwrap();
    let storefront: shared::domain::StorefrontId = storefront.parse().unwrap();
    let start = Utc::now() - chrono::Duration::minutes(count as i64);
    let orders: Vec<shared::domain::Order> = (0..count)
        .map(|index| {
            let mut order = template.clone();
            order.id = OrderId::random().unwrap();
            order.storefront = storefront.clone();
            order.created_at = start + chrono::Duration::minutes(index as i64);
            if index % 10 == 0 {
                order.customer.email = regular.parse().unwrap();
            } else {
                order.customer.email = format!("customer{index}@example.com").parse().unwrap();
            }
            order.customer_key = Some(key.customer(&storefront, &order.customer.email));
            order
        })
        .collect();
    for chunk in orders.chunks(16) {
        let writes = chunk.iter().map(|order| cloud.store.create(order, None));
        for written in join_all(writes).await {
            written.unwrap();
        }
    }
    orders.into_iter().map(|order| order.id).collect()
}

#[tokio::test]
async fn a_search_over_ten_thousand_orders_pages_through_with_index_reads_only() {
    const ORDERS: usize = 10_000;
    let _turn = crate::harness::heavy_load_turn().await;
    // A moto of its own: ten thousand orders' queries would hold up every other test's calls.
    let moto = local::cloud::MotoServer::start(0).unwrap();
    let cloud = TestStack::on(moto.endpoint()).await;
    let regular = "regular@example.com";
    let seeded_at = std::time::Instant::now();
    let mut seeded = seed(&cloud, "shop-big", ORDERS, regular).await;
    eprintln!("seeded {ORDERS} orders in {:?}", seeded_at.elapsed());
    seed(&cloud, "shop-other", 50, regular).await;
    let function = "OperatorApiFunction";
    // moto reads a whole table for an index query (seconds at 10,000 orders, on a loaded machine
    // more than the functions' 5 s per attempt); DynamoDB answers in milliseconds.
    let patient = cloud
        .sdk_as(function)
        .to_builder()
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(60))
                .operation_timeout(Duration::from_secs(120))
                .build(),
        )
        .build();
    let operators = OperatorApi::from_env(&patient, &cloud.environment(function)).unwrap();
    let agent = ("ana", "agent", "shop-big");
    let counted = |calls: &std::collections::BTreeMap<
        String,
        std::collections::BTreeMap<String, local::stack::iam::Counted>,
    >| { calls.get(&format!("{}-{function}", cloud.stack.name)).cloned().unwrap_or_default() };
    let before = counted(&local::stack::iam::calls(moto.endpoint()).await.unwrap());

    // Every order of the storefront, newest first, a hundred a page.
    let mut shown = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    let mut latencies = Vec::new();
    loop {
        let query = cursor.as_ref().map_or("limit=100".to_owned(), |cursor| format!("limit=100&cursor={cursor}"));
        let request = cloud.operator_request("GET", &format!("/orders?{query}"), &[], b"", agent);
        let asked = std::time::Instant::now();
        let page = reply(operators.handle(request).await.unwrap());
        latencies.push(asked.elapsed());
        assert_eq!(page.status, 200, "{:?}", page.json);
        pages += 1;
        shown.extend(
            page.json["orders"].as_array().unwrap().iter().map(|order| order["id"].as_str().unwrap().to_owned()),
        );
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
        assert!(pages <= ORDERS / 100 + 1, "the pages end");
    }
    seeded.reverse();
    let seeded: Vec<String> = seeded.iter().map(ToString::to_string).collect();
    assert_eq!(shown, seeded, "every order once, newest first, none of another shop's");

    // One customer's orders, by e-mail, oldest first, thirty a page.
    let mut theirs = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = "email=regular%40example.com&sort=oldest&limit=30".to_owned();
        if let Some(cursor) = &cursor {
            query.push_str(&format!("&cursor={cursor}"));
        }
        let request = cloud.operator_request("GET", &format!("/orders?{query}"), &[], b"", agent);
        let page = reply(operators.handle(request).await.unwrap());
        theirs.extend(
            page.json["orders"].as_array().unwrap().iter().map(|order| order["id"].as_str().unwrap().to_owned()),
        );
        match page.json["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    let expected: Vec<&String> = seeded.iter().rev().step_by(10).collect();
    assert_eq!(theirs.iter().collect::<Vec<_>>(), expected);

    let after = counted(&local::stack::iam::calls(moto.endpoint()).await.unwrap());
    let made: Vec<(&String, u64)> = after
        .iter()
        .map(|(operation, count)| (operation, count.calls - before.get(operation).map_or(0, |earlier| earlier.calls)))
        .filter(|(_, calls)| *calls > 0)
        .collect();
    for (operation, _) in &made {
        assert!(
            ["dynamodb:Query", "dynamodb:GetItem", "dynamodb:BatchGetItem", "secretsmanager:GetSecretValue"]
                .contains(&operation.as_str()),
            "{operation}: a search reads indexes, never scans: {made:?}"
        );
    }
    // The peer in the same run: one order's page (a strongly consistent Query of its partition).
    let mut single = Vec::new();
    for id in seeded.iter().step_by(ORDERS / 20) {
        let request = cloud.operator_request("GET", &format!("/orders/{id}/review"), &[], b"", agent);
        let asked = std::time::Instant::now();
        assert_eq!(reply(operators.handle(request).await.unwrap()).status, 200);
        single.push(asked.elapsed());
    }
    latencies.sort_unstable();
    single.sort_unstable();
    eprintln!(
        "search: {pages} pages of 100; calls {made:?}; page p50 {:?} p95 {:?}; one order's page p50 {:?}",
        latencies[latencies.len() / 2],
        latencies[latencies.len() * 95 / 100],
        single[single.len() / 2]
    );
}

/// Ana, an agent of shop A, who signs in at the hosted login with her password.
fn ana() -> LocalOperator {
    LocalOperator {
        username: "ana".to_owned(),
        password: "a long pass phrase".to_owned(),
        subject: "ana".to_owned(),
        groups: vec!["agent".to_owned()],
        storefronts: "shop-a".to_owned(),
    }
}

/// The hosted login's form, as the operator's browser posts it.
fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

#[tokio::test]
async fn an_operator_signs_in_at_the_hosted_login_with_pkce_and_the_token_opens_their_queue() {
    let runner = pipeline_named("login", false).await;
    runner.add_operator_login(ana()).unwrap();
    let api = runner.api_url();
    let client_id = runner.authorizers()[local::runner::OPERATOR_AUTHORIZER].audiences[0].clone();
    let callback = format!("{api}/desk/callback");
    let login = PendingLogin::start(DeskPath::home()).unwrap();
    let challenge = login.challenge();
    let authorization = [
        ("response_type", "code"),
        ("client_id", client_id.as_str()),
        ("redirect_uri", callback.as_str()),
        ("state", login.state.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let form_page = http("GET", &format!("{api}/oauth2/authorize?{}", form(&authorization)), &[], "").await;
    assert_eq!(form_page.status, 200);
    assert!(form_page.headers["content-type"].starts_with("text/html"));

    let urlencoded = [("Content-Type", "application/x-www-form-urlencoded")];
    let mut credentials = authorization.to_vec();
    credentials.extend([("username", "ana"), ("password", "a long pass phrase")]);
    let signed_in = http("POST", &format!("{api}/oauth2/authorize"), &urlencoded, form(&credentials)).await;
    assert_eq!(signed_in.status, 302);
    let (back_to, answer) = signed_in.headers["location"].split_once('?').unwrap();
    assert_eq!(back_to, callback);
    let answer: std::collections::HashMap<String, String> =
        form_urlencoded::parse(answer.as_bytes()).into_owned().collect();
    assert!(login.is_answered_by(&answer["state"]));

    // The desk turns the code into a token at the login's token endpoint, once.
    let hosted = HostedLogin::new(&api, &client_id, &callback).unwrap();
    let wrong_verifier =
        PendingLogin { verifier: PendingLogin::start(DeskPath::home()).unwrap().verifier, ..login.clone() };
    let refused = hosted.access_token(&answer["code"], &wrong_verifier).await;
    assert!(matches!(refused, Err(CodeRefused::Refused(ref error)) if error == "invalid_grant"), "{refused:?}");
    let signed_in = http("POST", &format!("{api}/oauth2/authorize"), &urlencoded, form(&credentials)).await;
    let code = signed_in.headers["location"].split_once("code=").unwrap().1.split('&').next().unwrap().to_owned();
    let token = hosted.access_token(&code, &login).await.unwrap();
    let token = token.as_str();
    let queue = call(&runner, "GET", "/review-queue", token, None).await;
    assert_eq!(queue.status, 200, "{:?}", queue.json);

    // As with Cognito, the token's issuer serves the keys it is signed with.
    use base64::Engine as _;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap();
    let issuer = serde_json::from_slice::<Value>(&payload).unwrap()["iss"].as_str().unwrap().to_owned();
    let keys = http("GET", &format!("{issuer}/.well-known/jwks.json"), &[], "").await;
    assert_eq!((keys.status, keys.json["keys"][0]["alg"].as_str()), (200, Some("RS256")));
    // And the desk takes it as API Gateway does, reading those keys.
    let policy = TokenPolicy { issuer: issuer.clone(), client_id: client_id.clone() };
    let desk = TokenVerifier::new(policy, IssuerKeys::for_issuer(&issuer).unwrap());
    let claims = desk.verify(token, "orderflow/orders.write").await.unwrap();
    assert_eq!((claims["sub"].as_str(), claims["cognito:groups"].as_str()), (Some("ana"), Some("[agent]")));
    assert_eq!(desk.verify(token, "orderflow/supervise").await, Err(TokenRefused::MissingScope));

    let replayed = hosted.access_token(&code, &login).await;
    assert!(matches!(replayed, Err(CodeRefused::Refused(ref error)) if error == "invalid_grant"), "{replayed:?}");
}

/// A browser's cookie jar, as far as the desk's cookies go: `Set-Cookie` stores, `Max-Age=0`
/// removes, and the `Cookie` header sends what is held.
#[derive(Default)]
struct Jar(std::collections::BTreeMap<String, String>);

impl Jar {
    fn take(&mut self, reply: &Reply) {
        for cookie in &reply.cookies {
            let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
            let (name, value) = pair.split_once('=').unwrap();
            assert!(attributes.contains("HttpOnly") && attributes.contains("Secure"), "{cookie}");
            if attributes.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    fn header(&self) -> String {
        self.0.iter().map(|(name, value)| format!("{name}={value}")).collect::<Vec<_>>().join("; ")
    }

    fn get(&self, name: &str) -> &str {
        &self.0[name]
    }

    async fn send(&mut self, method: &str, url: &str, body: &str) -> Reply {
        let cookie = self.header();
        let mut headers = vec![("Content-Type", "application/x-www-form-urlencoded")];
        if !cookie.is_empty() {
            headers.push(("Cookie", cookie.as_str()));
        }
        let reply = http(method, url, &headers, body).await;
        self.take(&reply);
        reply
    }
}

#[tokio::test]
async fn an_operator_signs_in_to_the_desk_and_approves_a_held_order_of_their_storefront() {
    let runner = pipeline_named("deskweb", false).await;
    runner.add_operator_login(ana()).unwrap();
    let mut held = Vec::new();
    for (shop, key) in [("shop-a", "deskweb-a"), ("shop-b", "deskweb-b")] {
        let token = runner.token(AUTHORIZER, shop, HOUR).unwrap();
        let placed = post_body(&runner, Some(&token), key, &suspicious("burner@mailinator.com", "+31612345678")).await;
        let id = placed.json["id"].as_str().unwrap().to_owned();
        reaches(&runner, &token, &id, "ON_HOLD").await;
        held.push(id);
    }
    let api = runner.api_url();
    let mut browser = Jar::default();

    // Without a session, the queue sends the browser to the hosted login, remembering the page.
    let first = browser.send("GET", &format!("{api}/desk/queue"), "").await;
    assert_eq!(first.status, 302);
    let authorize = first.headers["location"].clone();
    assert!(authorize.starts_with(&format!("{api}/oauth2/authorize?")), "{authorize}");
    assert!(browser.0.contains_key(shared::web::session::LOGIN_COOKIE));
    for header in ["content-security-policy", "x-frame-options", "referrer-policy", "cache-control"] {
        assert!(first.headers.contains_key(header), "{header}");
    }

    // The operator signs in; the login sends the browser back with a code.
    let (_, query) = authorize.split_once('?').unwrap();
    let signed_in = browser
        .send("POST", &format!("{api}/oauth2/authorize"), &format!("{query}&username=ana&password=a+long+pass+phrase"))
        .await;
    assert_eq!(signed_in.status, 302);
    let callback = signed_in.headers["location"].clone();

    // A callback whose state is not this browser's login is refused, and signs nobody in.
    let forged = callback.replace("state=", "state=x");
    let refused = browser.send("GET", &forged, "").await;
    assert_eq!(refused.status, 400);
    assert!(!browser.0.contains_key(shared::web::session::SESSION_COOKIE));

    let back = browser.send("GET", &callback, "").await;
    assert_eq!((back.status, back.headers["location"].as_str()), (303, "/desk/queue"));
    assert!(!browser.0.contains_key(shared::web::session::LOGIN_COOKIE), "the login is spent");

    // The queue, as a page: shop A's held order, not shop B's.
    let queue = browser.send("GET", &format!("{api}/desk/queue"), "").await;
    assert_eq!(queue.status, 200, "{}", queue.text);
    assert!(queue.headers["content-type"].starts_with("text/html"));
    assert!(queue.text.contains(&held[0]), "{}", queue.text);
    assert!(!queue.text.contains(&held[1]), "another shop's order is not on the page");

    // The page offers what the API says the operator's role allows.
    let ana_token = runner.operator_token("ana", &["agent"], "shop-a", HOUR).unwrap();
    let view = call(&runner, "GET", &format!("/orders/{}/review", held[0]), &ana_token, None).await;
    let allowed = view.json["allowed_actions"].as_array().cloned().unwrap_or_default();
    assert!(allowed.contains(&json!("claim")) && allowed.contains(&json!("review")), "{:?}", view.json);

    // The held order's page, its claim and its approval, each confirmed on the page.
    let page = |id: &str| format!("{api}/desk/orders/{id}");
    let order = browser.send("GET", &page(&held[0]), "").await;
    assert_eq!(order.status, 200, "{}", order.text);
    assert!(order.text.contains("Grace Hopper") && order.text.contains("Approve"), "{}", order.text);
    assert_eq!(browser.send("GET", &page(&held[1]), "").await.status, 404, "another shop's order does not exist");
    let csrf = browser.get(shared::web::session::CSRF_COOKIE).to_owned();
    let unsent = browser.send("POST", &format!("{}/claim", page(&held[0])), "csrf=guess").await;
    assert_eq!(unsent.status, 403);
    let claimed = browser.send("POST", &format!("{}/claim", page(&held[0])), &format!("csrf={csrf}")).await;
    assert_eq!(claimed.status, 303, "{}", claimed.text);
    let told = browser.send("GET", &format!("{api}{}", claimed.headers["location"]), "").await;
    assert!(told.text.contains("You hold this order"), "{}", told.text);
    let form = format!("csrf={csrf}&note=Called%2C+she+confirmed&decision=approve");
    let approved = browser.send("POST", &format!("{}/review", page(&held[0])), &form).await;
    assert_eq!(approved.status, 303, "{}", approved.text);
    let told = browser.send("GET", &format!("{api}{}", approved.headers["location"]), "").await;
    assert!(told.text.contains("You approved this order"), "{}", told.text);
    assert!(!told.text.contains("Approve</button>"), "a decided order offers no decision: {}", told.text);
    let shop_a = runner.token(AUTHORIZER, "shop-a", HOUR).unwrap();
    reaches(&runner, &shop_a, &held[0], "FULFILLING").await;

    // A session cookie that is not the login's token opens nothing.
    let mut stranger = Jar::default();
    stranger.0.insert(
        shared::web::session::SESSION_COOKIE.to_owned(),
        runner.operator_token("ana", &["agent"], "shop-a", HOUR).unwrap().replace('.', ".x"),
    );
    stranger.0.insert(shared::web::session::CSRF_COOKIE.to_owned(), "t".to_owned());
    assert_eq!(stranger.send("GET", &format!("{api}/desk/queue"), "").await.status, 302);

    // Signing out needs the session's CSRF token; then the queue asks for a login again.
    let forged_out = browser.send("POST", &format!("{api}/desk/logout"), "csrf=guess").await;
    assert_eq!(forged_out.status, 403);
    let out = browser.send("POST", &format!("{api}/desk/logout"), &format!("csrf={csrf}")).await;
    assert_eq!((out.status, out.headers["location"].as_str()), (303, "/desk/signed-out"));
    assert_eq!(browser.send("GET", &format!("{api}/desk/queue"), "").await.status, 302);
}
