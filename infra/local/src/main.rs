//! `orderflow-local`: the pipeline on one laptop. Starts moto server (or uses one you name),
//! provisions it from `infra/template.yaml`, seeds the demo catalog, serves the storefront API
//! on 127.0.0.1, relays the Orders stream through `stream-router` and shows each event as it
//! reaches the consumers' queues.
//!
//! Usage: orderflow-local [--port 3000] [--moto-endpoint URL] [--storefront ID] [--demo]

// This binary's job is to talk to the developer on stdout.
#![allow(clippy::print_stdout)]

use std::{collections::BTreeMap, convert::Infallible, net::SocketAddr, sync::Arc, time::Duration};

use anyhow::{Context as _, bail};
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, body::Bytes, server::conn::http1, service::service_fn};
use hyper_util::rt::TokioIo;
use intake::{Intake, STOREFRONT_CLAIM};
use lambda_runtime::{Context, LambdaEvent};
use local::{MotoServer, Stack, StreamReader, apigw, catalog, lambda_event, provision, template::Template};
use serde_json::{Map, Value};
use shared::{config::Env, publish::EventPublisher, store::DynamoStore};
use stream_router::StreamRouter;
use tokio::net::TcpListener;

struct Options {
    port: u16,
    moto_endpoint: Option<String>,
    storefront: String,
    demo: bool,
}

fn options() -> anyhow::Result<Options> {
    let mut options =
        Options { port: 3000, moto_endpoint: None, storefront: "demo-storefront".to_owned(), demo: false };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => options.port = args.next().context("--port takes a number")?.parse()?,
            "--moto-endpoint" => options.moto_endpoint = Some(args.next().context("--moto-endpoint takes a URL")?),
            "--storefront" => options.storefront = args.next().context("--storefront takes an id")?,
            "--demo" => options.demo = true,
            "--help" | "-h" => {
                println!("usage: orderflow-local [--port 3000] [--moto-endpoint URL] [--storefront ID] [--demo]");
                std::process::exit(0);
            }
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    Ok(options)
}

/// What the API server needs to turn a request into an `intake` invocation.
struct Api {
    intake: Intake,
    routes: Vec<apigw::Route>,
    claims: Map<String, Value>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter(std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into())).init();
    let options = options()?;

    let moto = match &options.moto_endpoint {
        Some(_) => None,
        None => Some(MotoServer::start(0)?),
    };
    let endpoint = options.moto_endpoint.clone().or_else(|| moto.as_ref().map(|m| m.endpoint().to_owned()));
    let endpoint = endpoint.context("no moto endpoint")?;
    println!("local cloud   moto server at {endpoint}");

    let sdk = local::sdk_config(&endpoint).await;
    let template = Template::load(&local::template::default_path())?;
    let stack_name = format!("orderflow-{}", std::process::id());
    let stack = provision(&sdk, Stack::plan(template, &stack_name, local::cloud::REGION, &BTreeMap::new())).await?;
    println!("provisioned   {} resources of infra/template.yaml as stack {stack_name}", stack.template.resources.len());

    let dynamodb = aws_sdk_dynamodb::Client::new(&sdk);
    let intake_environment = Env::Map(stack.function_environment("IntakeFunction")?);
    let store = DynamoStore::from_env(dynamodb.clone(), &intake_environment)?;
    let demo_catalog = catalog::demo_catalog()?;
    catalog::seed(&store, &demo_catalog).await?;
    println!("catalog       {} SKUs seeded from infra/local/catalog.json", demo_catalog.len());

    let api = Arc::new(Api {
        intake: Intake::from_env(dynamodb, &intake_environment)?,
        routes: apigw::routes(&stack.template),
        claims: Map::from_iter([(STOREFRONT_CLAIM.to_owned(), Value::from(options.storefront.clone()))]),
    });
    let address = SocketAddr::from(([127, 0, 0, 1], options.port));
    let listener = TcpListener::bind(address).await.with_context(|| format!("cannot listen on {address}"))?;
    println!("storefront API http://{address} (every request acts as storefront {:?};", options.storefront);
    println!("              token checks come with the local runner)");
    tokio::spawn(serve(listener, api));

    let router_environment = stack.function_environment("StreamRouterFunction")?;
    let router = StreamRouter::new(EventPublisher::new(
        aws_sdk_sns::Client::new(&sdk),
        router_environment["ORDER_EVENTS_TOPIC_ARN"].clone(),
    ));
    let reader =
        StreamReader::new(aws_sdk_dynamodbstreams::Client::new(&sdk), stack.attribute_of("OrdersTable", "StreamArn")?);
    tokio::spawn(relay_stream(reader, router));
    tokio::spawn(show_queues(aws_sdk_sqs::Client::new(&sdk), stack.clone()));

    println!();
    println!("Place an order:");
    println!("  curl -s -X POST http://{address}/orders -H 'Content-Type: application/json' \\");
    println!("       -H 'Idempotency-Key: my-first-order' -d @infra/local/demo-order.json");
    println!("Press Ctrl-C to stop.");
    println!();
    if options.demo {
        place_demo_order(address).await?;
    }
    tokio::signal::ctrl_c().await?;
    println!("stopping");
    drop(moto);
    Ok(())
}

async fn serve(listener: TcpListener, api: Arc<Api>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let api = api.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(api.clone(), request));
            if let Err(error) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%error, "connection closed");
            }
        });
    }
}

/// One HTTP request through API Gateway's route matching into `intake`, and back.
async fn handle(api: Arc<Api>, request: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|collected| collected.to_bytes()).unwrap_or_default();
    let http_request = apigw::HttpRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned())))
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let Some((_, event)) = apigw::event_for(&api.routes, &http_request, &api.claims) else {
        return Ok(plain(404, "{\"message\":\"Not Found\"}"));
    };
    let answer = match lambda_http::request::from_str(&event.to_string()) {
        Ok(request) => api.intake.handle(request).await,
        Err(error) => return Ok(plain(500, &format!("{{\"message\":\"bad event: {error}\"}}"))),
    };
    let Ok(response) = answer else { return Ok(plain(502, "{\"message\":\"Internal Server Error\"}")) };
    let (parts, body) = response.into_parts();
    let mut reply = Response::new(Full::new(Bytes::copy_from_slice(body.as_ref())));
    *reply.status_mut() = parts.status;
    *reply.headers_mut() = parts.headers;
    Ok(reply)
}

fn plain(status: u16, body: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_owned())));
    *response.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    response
}

/// Plays the stream event source mapping, simply: poll, invoke, and on a reported failure
/// read again from the failed record.
async fn relay_stream(mut reader: StreamReader, router: StreamRouter) {
    loop {
        match reader.next_records(100).await {
            Ok(records) if !records.is_empty() => match lambda_event(&records) {
                Ok(event) => match router.handle(LambdaEvent::new(event, Context::default())).await {
                    Ok(response) => {
                        if let Some(sequence) =
                            response.batch_item_failures.first().and_then(|f| f.item_identifier.clone())
                        {
                            println!("stream-router failed at record {sequence}; retrying from there");
                            if let Err(error) = reader.rewind_to(&sequence).await {
                                println!("cannot rewind the stream: {error}");
                            }
                        }
                    }
                    Err(error) => println!("stream-router failed: {error}"),
                },
                Err(error) => println!("a stream batch did not convert: {error}"),
            },
            Ok(_) => {}
            Err(error) => println!("reading the Orders stream failed: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Shows each event as it lands in a consumer's queue. The consumers arrive in later issues;
/// until then this tap takes their messages so they do not pile up.
async fn show_queues(sqs: aws_sdk_sqs::Client, stack: Stack) {
    let queues: Vec<(String, String)> = stack
        .subscribed_queues()
        .into_iter()
        .filter_map(|logical| {
            let url = stack.reference_of(&logical).ok()?;
            Some((logical, url))
        })
        .collect();
    loop {
        for (logical, url) in &queues {
            let Ok(output) = sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await else {
                continue;
            };
            for message in output.messages.unwrap_or_default() {
                let event: Value =
                    message.body.as_deref().and_then(|body| serde_json::from_str(body).ok()).unwrap_or_default();
                println!(
                    "event         {:<28} {:<36} -> {}",
                    event["type"].as_str().unwrap_or("?"),
                    event["id"].as_str().unwrap_or("?"),
                    logical.trim_end_matches("Queue").to_lowercase()
                );
                if let Some(receipt) = message.receipt_handle {
                    let _ = sqs.delete_message().queue_url(url).receipt_handle(receipt).send().await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Posts `infra/local/demo-order.json` to the API over HTTP, as a storefront would.
async fn place_demo_order(address: SocketAddr) -> anyhow::Result<()> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http();
    let request = Request::post(format!("http://{address}/orders"))
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", format!("demo-{}", std::process::id()))
        .body(Full::new(Bytes::from_static(include_bytes!("../demo-order.json"))))?;
    let response = client.request(request).await?;
    let status = response.status();
    let body: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
    println!(
        "demo order    POST /orders -> {status} {} {} total {} {}",
        body["id"].as_str().unwrap_or("?"),
        body["status"].as_str().unwrap_or("?"),
        body["totals"]["total"]["minor_units"],
        body["totals"]["total"]["currency"].as_str().unwrap_or("")
    );
    Ok(())
}
