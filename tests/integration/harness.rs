//! Starts moto server once per test binary and gives every test its own freshly provisioned
//! stack (tables, topic, queues, subscriptions under a unique name), so tests run in parallel.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::{Duration, Instant},
};

use aws_sdk_dynamodb::types::AttributeValue;
use intake::{Intake, STOREFRONT_CLAIM};
use lambda_http::{Response, http};
use local::{
    LocalStripe, MotoServer, Stack, apigw, provision,
    stack::catalog,
    stack::iam::{self, Enforcement},
    stack::template::Template,
};
use serde_json::{Map, Value};
use shared::{
    adapters::dynamodb::DynamoStore,
    adapters::secrets::{StoredSecret, lookup_key_from_env},
    api::OrderApi,
    config::Env,
    domain::LookupKey,
};

static MOTO: OnceLock<MotoServer> = OnceLock::new();
static STRIPE: OnceLock<LocalStripe> = OnceLock::new();
static STACKS: AtomicU32 = AtomicU32::new(0);

pub const STOREFRONT: &str = "storefront-a";

/// One test's slice of the local cloud.
pub struct TestStack {
    pub stack: Stack,
    pub sdk: aws_config::SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub store: DynamoStore,
    pub intake: Intake,
    routes: Vec<apigw::Route>,
    /// Each function's SDK configuration, signing as its role.
    roles: BTreeMap<String, aws_config::SdkConfig>,
}

/// A response as a storefront sees it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    /// Every `Set-Cookie`, in order (`headers` keeps only the last of a repeated header).
    pub cookies: Vec<String>,
    pub json: Value,
    /// The body as text (a page's HTML).
    pub text: String,
}

/// `TEST_LOG=1 cargo test -p orderflow-tests` (or `TEST_LOG=debug`, any `RUST_LOG` filter) shows
/// what the use cases and adapters log, one readable line each, with each test's output.
fn install_test_log() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let Ok(filter) = std::env::var("TEST_LOG") else { return };
        let filter = if filter.is_empty() || filter == "1" { "info".to_owned() } else { filter };
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .compact()
            .try_init();
    });
}

/// The moto server every test of this binary shares.
pub fn moto_endpoint() -> &'static str {
    install_test_log();
    MOTO.get_or_init(|| MotoServer::start(0).unwrap_or_else(|error| panic!("{error}"))).endpoint()
}

/// The localstripe every test of this binary shares; tests tell their payments apart by
/// order id and payment method.
pub fn stripe_endpoint() -> &'static str {
    STRIPE.get_or_init(|| LocalStripe::start(0).unwrap_or_else(|error| panic!("{error}"))).endpoint()
}

/// A payment method in localstripe for this test card number.
pub async fn card(number: &str) -> String {
    local::partners::LocalProvider { endpoint: stripe_endpoint().to_owned() }.card(number).await.unwrap()
}

/// The payment intents localstripe holds for an order.
pub async fn intents_of(order_id: &str) -> Vec<Value> {
    let headers = [("Authorization", "Bearer sk_test_orderflow_local")];
    let reply = http("GET", &format!("{}/v1/payment_intents?limit=100", stripe_endpoint()), &headers, "").await;
    let all = reply.json["data"].as_array().cloned().unwrap_or_default();
    all.into_iter().filter(|intent| intent["metadata"]["order_id"] == order_id).collect()
}

/// The fault layer in front of the shared moto holds one setting at a time: the tests that set
/// it take turns, each holding its turn until it has set it back.
pub async fn fault_layer_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// The test that fills both cores (ten thousand orders) and the test whose counts depend on the
/// pipeline keeping its usual pace (a notice the next state overtakes is skipped, not sent) take
/// turns.
pub async fn heavy_load_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// A stack name no other test of this run uses.
pub fn unique_name(prefix: &str) -> String {
    format!("{prefix}{}-{}", std::process::id(), STACKS.fetch_add(1, Ordering::Relaxed))
}

/// The folder with the pipeline's function binaries and `orderctl`, built (once per test run)
/// by the same cargo that runs the tests, so that they are never stale.
pub fn function_binaries() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let mut command = std::process::Command::new(cargo);
            command.args(["build", "--quiet", "--bins"]);
            for function in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions")).unwrap() {
                command.args(["-p", &function.unwrap().file_name().to_string_lossy()]);
            }
            command.args(["-p", "orderctl"]);
            let status = command.status().expect("cargo runs");
            assert!(status.success(), "building the functions failed");
            local::runner::default_binaries()
        })
        .clone()
}

/// Asks `check` every 100 ms until it answers, for at most `limit`.
pub async fn eventually<T, F: Future<Output = Option<T>>>(limit: Duration, mut check: impl FnMut() -> F) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(answer) = check().await {
            return answer;
        }
        assert!(Instant::now() < deadline, "gave up waiting after {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One HTTP exchange with a local server: status, lower-case headers, JSON body (Null for none
/// and for a page).
pub async fn http(method: &str, url: &str, headers: &[(&str, &str)], body: impl AsRef<[u8]>) -> Reply {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let mut request = hyper::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let request = request.body(http_body_util::Full::new(hyper::body::Bytes::copy_from_slice(body.as_ref()))).unwrap();
    let response = client.request(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = http_body_util::BodyExt::collect(body).await.unwrap().to_bytes();
    Reply::new(parts.status, &parts.headers, &bytes)
}

impl TestStack {
    pub async fn new() -> Self {
        Self::on(moto_endpoint()).await
    }

    /// The stack on the moto at `moto`: a test whose load would slow every other test's calls
    /// (moto serves one request at a time) brings its own.
    pub async fn on(moto: &str) -> Self {
        let sdk = local::sdk_config(moto).await.expect("the local cloud's SDK configuration");
        let template = Template::load(&local::stack::template::default_path()).expect("infra/template.yaml parses");
        let name = unique_name("t");
        // Moto keys SES's bounce feed by the sender's domain: one domain per stack.
        let (mut parameters, secrets) = local::runner::local_secrets(&name);
        parameters.extend([
            ("PaymentProviderEndpoint".to_owned(), stripe_endpoint().to_owned()),
            ("SenderEmailAddress".to_owned(), format!("orders@{name}.orderflow.invalid")),
        ]);
        let mut plan = Stack::plan(template, &name, local::cloud::REGION, &parameters);
        plan.secrets = secrets;
        let stack = provision(&sdk, plan).await.expect("the template provisions into moto");
        iam::enforce(moto, &stack).await.expect("the IAM layer takes the stack's roles");
        let mut roles = BTreeMap::new();
        for (function, _) in stack.template.of_type("AWS::Serverless::Function") {
            let config = iam::sdk_config_as(moto, &stack, function, Enforcement::Roles)
                .await
                .expect("the function's SDK configuration");
            roles.insert(function.clone(), config);
        }

        let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
        let environment = Env::Map(stack.function_environment("IntakeFunction").unwrap());
        let store = DynamoStore::from_env(dynamodb.clone(), &environment).unwrap();
        catalog::seed(&store, &catalog::demo_catalog().unwrap()).await.unwrap();
        let intake = Intake::from_env(&roles["IntakeFunction"], &environment).unwrap();
        let routes = apigw::routes(&stack.template);
        Self { sqs: aws_sdk_sqs::Client::new(&sdk), dynamodb, store, intake, routes, stack, sdk, roles }
    }

    /// SDK configuration that signs as `function`'s role, as the function does on AWS.
    pub fn sdk_as(&self, function: &str) -> &aws_config::SdkConfig {
        self.roles.get(function).unwrap_or_else(|| panic!("the template has no function {function}"))
    }

    pub fn dynamodb_as(&self, function: &str) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(self.sdk_as(function))
    }

    pub fn sqs_as(&self, function: &str) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(self.sdk_as(function))
    }

    /// The store as `function` reaches it, through its role.
    pub fn store_as(&self, function: &str) -> DynamoStore {
        DynamoStore::from_env(self.dynamodb_as(function), &self.environment(function)).unwrap()
    }

    /// Sends a request through the template's routes to `intake`, as API Gateway would, with
    /// the storefront's verified claims (or none).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl AsRef<[u8]>,
        storefront: Option<&str>,
    ) -> Reply {
        let claim = storefront.map(|id| (STOREFRONT_CLAIM, id));
        let (function, request) = self.request(method, path, headers, body.as_ref(), claim);
        assert_eq!(function, "IntakeFunction");
        reply(self.intake.handle(request).await.unwrap())
    }

    /// The request API Gateway hands the function of the template's route for `method` and
    /// `path`, carrying the verified `claim` (name and value), if any; and that function.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        claim: Option<(&str, &str)>,
    ) -> (String, lambda_http::Request) {
        let (function, event) = self.event(method, path, headers, body, claim);
        (function, lambda_http::request::from_str(&event.to_string()).expect("a valid HTTP API event"))
    }

    /// The same request as the payload-format 2.0 event.
    pub fn event(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        claim: Option<(&str, &str)>,
    ) -> (String, Value) {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let request = apigw::HttpRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: apigw::joined_headers(headers.iter().copied()),
            body: body.to_vec(),
        };
        let claims: Map<String, Value> =
            claim.map(|(name, value)| Map::from_iter([(name.to_owned(), Value::from(value))])).unwrap_or_default();
        let (route, event) = apigw::event_for(&self.routes, &request, &claims).expect("the template has this route");
        (route.function, event)
    }

    pub async fn post_order(&self, body: &Value, idempotency_key: Option<&str>) -> Reply {
        let mut headers = vec![("Content-Type", "application/json")];
        headers.extend(idempotency_key.map(|key| ("Idempotency-Key", key)));
        self.call("POST", "/orders", &headers, &body.to_string(), Some(STOREFRONT)).await
    }

    pub async fn get_order(&self, id: &str, storefront: &str) -> Reply {
        self.call("GET", &format!("/orders/{id}"), &[], "", Some(storefront)).await
    }

    /// The storefront API's use cases as intake runs them (its role), for tests that set the clock.
    pub fn order_api(&self) -> OrderApi<DynamoStore, DynamoStore, StoredSecret<LookupKey>> {
        let store = self.store_as("IntakeFunction");
        OrderApi::from_env(store.clone(), store, self.lookup_keys(), &self.environment("IntakeFunction")).unwrap()
    }

    /// The stack's lookup key, as intake reads it.
    pub fn lookup_keys(&self) -> StoredSecret<LookupKey> {
        let secrets = aws_sdk_secretsmanager::Client::new(self.sdk_as("IntakeFunction"));
        lookup_key_from_env(secrets, &self.environment("IntakeFunction")).unwrap()
    }

    /// The key a parcel with this tracking number is indexed by.
    pub async fn parcel(&self, tracking_number: &shared::domain::TrackingNumber) -> shared::domain::ParcelKey {
        shared::domain::LookupKeys::lookup_key(&self.lookup_keys()).await.unwrap().parcel(tracking_number)
    }

    /// The request API Gateway hands the operator API for `subject`, an operator in `role` of
    /// `storefronts`, with the claims the operators' user pool and its pre-token trigger give.
    pub fn operator_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        (subject, role, storefronts): (&str, &str, &str),
    ) -> lambda_http::Request {
        let (function, mut event) = self.event(method, path, headers, body, None);
        assert_eq!(function, "OperatorApiFunction");
        let grant = shared::domain::TokenGrant::for_user([role], Some(storefronts));
        event["requestContext"]["authorizer"]["jwt"]["claims"] = serde_json::json!({
            "sub": subject,
            shared::domain::GROUPS_CLAIM: format!("[{role}]"),
            shared::domain::STOREFRONTS_CLAIM: grant.storefronts,
            "scope": grant.scopes.join(" "),
        });
        lambda_http::request::from_str(&event.to_string()).expect("a valid HTTP API event")
    }

    /// The environment the template gives a function, resolved to this stack.
    pub fn environment(&self, function: &str) -> Env {
        Env::Map(self.stack.function_environment(function).unwrap())
    }

    pub fn table(&self, logical_id: &str) -> String {
        self.stack.reference_of(logical_id).unwrap()
    }

    /// Every item of a table.
    pub async fn items(&self, logical_id: &str) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        let pages = self.dynamodb.scan().table_name(self.table(logical_id)).into_paginator().items().send();
        pages.collect::<Result<Vec<_>, _>>().await.unwrap()
    }

    /// Receives everything waiting in a queue (and deletes it), as parsed JSON bodies.
    pub async fn drain(&self, logical_id: &str) -> Vec<Value> {
        let url = self.stack.reference_of(logical_id).unwrap();
        let mut bodies = Vec::new();
        loop {
            let output = self.sqs.receive_message().queue_url(&url).max_number_of_messages(10).send().await.unwrap();
            let messages = output.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            for message in messages {
                bodies.push(serde_json::from_str(message.body.as_deref().unwrap()).unwrap());
                self.sqs
                    .delete_message()
                    .queue_url(&url)
                    .receipt_handle(message.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
}

pub fn reply(response: Response<lambda_http::Body>) -> Reply {
    Reply::new(response.status(), response.headers(), response.body().as_ref())
}

impl Reply {
    fn new(status: http::StatusCode, headers: &http::HeaderMap, body: &[u8]) -> Self {
        let html =
            headers.get(http::header::CONTENT_TYPE).is_some_and(|kind| kind.as_bytes().starts_with(b"text/html"));
        let json = if body.is_empty() || html { Value::Null } else { serde_json::from_slice(body).unwrap() };
        let cookies =
            headers.get_all(http::header::SET_COOKIE).iter().map(|value| value.to_str().unwrap().to_owned()).collect();
        let headers = headers
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), value.to_str().unwrap().to_owned()))
            .collect();
        let text = String::from_utf8_lossy(body).into_owned();
        Self { status: status.as_u16(), headers, cookies, json, text }
    }
}

/// A valid order for the demo catalog: 2 mugs and a notebook, shipped to Germany.
pub fn order_body() -> Value {
    serde_json::json!({
        "customer": {"name": "Grace Hopper", "email": "grace@example.com", "phone": "+4915112345678", "sms_opt_in": true},
        "currency": "EUR",
        "lines": [{"sku": "MUG-CLASSIC", "quantity": 2}, {"sku": "NOTEBOOK-A5", "quantity": 1}],
        "shipping_address": {"name": "Grace Hopper", "line1": "Friedrichstr. 1", "city": "Berlin",
                             "postal_code": "10117", "country": "DE"},
        "shipping_option": "standard",
        "payment_method": "pm_card_visa"
    })
}

/// An SQS batch of these orders' events, as the topic's raw delivery puts them on a queue;
/// message ids are `m0`, `m1`, ….
pub fn sqs_event(
    orders: &[&shared::domain::Order],
) -> lambda_runtime::LambdaEvent<aws_lambda_events::event::sqs::SqsEvent> {
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = orders
        .iter()
        .enumerate()
        .map(|(index, order)| {
            let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
            message.message_id = Some(format!("m{index}"));
            message.body = Some(serde_json::to_string(&order.envelope()).unwrap());
            message
        })
        .collect();
    lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default())
}

/// A batch from `queue` with these bodies; message ids are `m0`, `m1`, ….
pub fn batch(
    stack: &TestStack,
    queue: &str,
    bodies: &[String],
) -> lambda_runtime::LambdaEvent<aws_lambda_events::event::sqs::SqsEvent> {
    let arn = stack.stack.attribute_of(queue, "Arn").unwrap();
    let mut event = aws_lambda_events::event::sqs::SqsEvent::default();
    event.records = bodies
        .iter()
        .enumerate()
        .map(|(index, body)| {
            let mut message = aws_lambda_events::event::sqs::SqsMessage::default();
            message.message_id = Some(format!("m{index}"));
            message.body = Some(body.clone());
            message.event_source_arn = Some(arn.clone());
            message
        })
        .collect();
    lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default())
}

/// One e-mail as moto recorded it, its MIME read.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What SES and SNS sent through this moto, by recipient.
#[derive(Debug, Default)]
pub struct Outbox {
    pub mail: BTreeMap<String, Vec<Mail>>,
    pub sms: BTreeMap<String, Vec<String>>,
}

pub async fn outbox(moto: &str) -> Outbox {
    let dump = http("GET", &format!("{moto}{}", local::observe::outbox::OUTBOX_PATH), &[], "").await.json;
    let mut outbox = Outbox::default();
    for message in dump.pointer("/ses/RawMessage").and_then(Value::as_array).into_iter().flatten() {
        let raw = message["raw_data"].as_str().unwrap();
        let mail = Mail {
            from: local::observe::outbox::header(raw, "From"),
            subject: local::observe::outbox::header(raw, "Subject"),
            text: local::observe::outbox::mime_part(raw, "text/plain").unwrap_or_default(),
            html: local::observe::outbox::mime_part(raw, "text/html").unwrap_or_default(),
        };
        for to in message["destinations"].as_array().unwrap() {
            outbox.mail.entry(to.as_str().unwrap().to_owned()).or_default().push(mail.clone());
        }
    }
    for sms in dump.pointer("/sns/SMS").and_then(Value::as_array).into_iter().flatten() {
        let phone = sms["phone_number"].as_str().unwrap().to_owned();
        outbox.sms.entry(phone).or_default().push(sms["message"].as_str().unwrap().to_owned());
    }
    outbox
}

/// A character of four bytes in UTF-8, the most a character takes: text of the longest length
/// the API allows, written in it, is as many bytes as the API lets in.
const WIDEST: char = '\u{10348}';

/// The longest text the API takes in a field of at most `chars` characters.
fn widest(chars: usize) -> String {
    std::iter::repeat_n(WIDEST, chars).collect()
}

/// As many products as an order may have lines, with SKUs and names as long as they may be,
/// `available` units each.
pub fn largest_catalog(available: u32) -> Vec<catalog::CatalogEntry> {
    (0..shared::api::MAX_LINES)
        .map(|index| {
            serde_json::from_value(serde_json::json!({
                "sku": format!("BIG-{index:02}-{}", "X".repeat(57)),
                "name": widest(200),
                "unit_price": {"minor_units": 100, "currency": "EUR"},
                "available": available,
            }))
            .unwrap()
        })
        .collect()
}

/// The largest order the API accepts: a line for each product of `catalog`, every text field at
/// its longest, in the widest characters.
pub fn largest_order_body(catalog: &[catalog::CatalogEntry], email_local_part: &str) -> Value {
    let domain = format!("{}.{}.{}.com", "a".repeat(63), "b".repeat(63), "c".repeat(57));
    let email = format!("{email_local_part:x<64}@{domain}");
    assert_eq!(email.len(), 254, "the longest address e-mail allows");
    let address = serde_json::json!({"name": widest(200), "line1": widest(200), "line2": widest(200),
        "city": widest(200), "region": widest(200), "postal_code": "10117", "country": "DE"});
    serde_json::json!({
        "customer": {"name": widest(200), "email": email, "phone": "+491511234567890", "sms_opt_in": true},
        "currency": "EUR",
        "lines": catalog.iter().map(|entry| serde_json::json!({"sku": entry.sku, "quantity": 1})).collect::<Vec<_>>(),
        "shipping_address": address,
        "billing_address": address,
        "shipping_option": "standard",
        "payment_method": "pm_card_visa"
    })
}
