//! The whole pipeline on one machine: the local cloud (moto server, localstripe), provisioned
//! from the template; every function's real binary behind a local runtime API; the template's
//! HTTP APIs with their JWT authorizers; and the template's event source mappings played as
//! Lambda plays them.

use std::{
    collections::{BTreeMap, HashMap},
    net::SocketAddr,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::Context as _;
use aws_config::SdkConfig;
use serde_json::Value;
use shared::{adapters::dynamodb::DynamoStore, config::Env};
use tokio::{net::TcpListener, task::JoinHandle};

use crate::{
    apigw,
    apigw::api::{self, LocalApi},
    apigw::auth::{self, JwtAuthorizer, LocalIssuer},
    apigw::login::{LocalLogin, LocalOperator},
    cloud::faults::{self, Faults},
    cloud::{self, LocalStripe, MotoServer},
    lambda::runtime::{FunctionHost, FunctionSpec, FunctionStats, InvokeError},
    lambda::sources::{self, Chaos, Invoker, Source},
    lambda::sqs_mapping,
    lambda::stream_mapping::{RetryPolicy, StreamPlayer},
    observe::journal::{Echo, Journal},
    observe::outbox,
    stack::catalog,
    stack::iam::{self, Enforcement},
    stack::provision::{Stack, provision},
    stack::template::Template,
};

/// The template parameter the runner points at localstripe, when the template declares it.
pub const PAYMENT_ENDPOINT_PARAMETER: &str = "PaymentProviderEndpoint";
/// The template's authorizer of the operators' routes.
pub const OPERATOR_AUTHORIZER: &str = "OperatorJwt";
/// Where the operators' hosted login returns to: locally, the desk on the runner's port.
const DESK_CALLBACK_PARAMETER: &str = "OperatorDeskCallbackUrl";
/// Where the operators' hosted login is: locally, on the runner's port.
const LOGIN_URL_PARAMETER: &str = "OperatorLoginUrl";
/// The signing secrets of the local carriers, by carrier path segment.
pub const LOCAL_CARRIER_SECRETS: [(&str, &str); 2] =
    [("easypost", "whsec_local_easypost"), ("aftership", "whsec_local_aftership")];
/// The signing secret of the local payment provider's webhook endpoint.
pub const LOCAL_PAYMENT_WEBHOOK_SECRET: &str = "whsec_local_orderflow_payments";
/// The provider events localstripe is told to send, as a Stripe endpoint's `enabled_events`.
pub const PAYMENT_WEBHOOK_EVENTS: [&str; 6] = [
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "payment_intent.canceled",
    "charge.expired",
    "charge.refund.updated",
];

#[derive(Debug, Clone)]
pub struct RunnerOptions {
    pub template: PathBuf,
    pub stack_name: String,
    /// Parameter overrides, as `sam deploy --parameter-overrides` takes them.
    pub parameters: BTreeMap<String, String>,
    /// Where cargo built the functions' binaries.
    pub binaries: PathBuf,
    /// Use this moto server instead of starting one.
    pub moto_endpoint: Option<String>,
    /// Use this Stripe-compatible server instead of starting localstripe.
    pub stripe_endpoint: Option<String>,
    /// Start localstripe when no `stripe_endpoint` is given.
    pub start_localstripe: bool,
    /// 0: any free port.
    pub api_port: u16,
    pub seed_demo_catalog: bool,
    pub outbox: Option<PathBuf>,
    /// Take and show the events that reach queues no function consumes yet.
    pub tap_unconsumed_queues: bool,
    pub chaos: Chaos,
    pub retry: RetryPolicy,
    /// Secrets Manager stand-ins, by secret id: provisioning stores them in moto.
    pub secrets: BTreeMap<String, Value>,
    /// What the journal prints to stdout as it happens.
    pub echo: Echo,
    /// Where the functions' own log lines are written, besides the journal.
    pub function_log: Option<PathBuf>,
    /// Hold each function to its role (the default); off only with `--no-iam`, for debugging.
    pub iam: Enforcement,
    /// Calls that fail and invocations that crash (`--faults`, `--crash`); none by default.
    pub faults: Faults,
    /// Where each function's environment and first event are written (the cold-start bench).
    pub capture: Option<PathBuf>,
}

/// What [`Runner::calls`] counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallCount {
    pub aws: BTreeMap<String, BTreeMap<String, iam::Counted>>,
    pub payment_provider: BTreeMap<String, u64>,
}

impl RunnerOptions {
    pub fn new(stack_name: impl Into<String>) -> Self {
        let stack_name = stack_name.into();
        let (parameters, secrets) = local_secrets(&stack_name);
        Self {
            template: crate::stack::template::default_path(),
            stack_name,
            parameters,
            binaries: default_binaries(),
            moto_endpoint: None,
            stripe_endpoint: None,
            start_localstripe: true,
            api_port: 0,
            seed_demo_catalog: true,
            outbox: None,
            tap_unconsumed_queues: false,
            chaos: Chaos::default(),
            retry: RetryPolicy::default(),
            echo: Echo::Off,
            function_log: None,
            secrets,
            iam: Enforcement::Roles,
            faults: Faults::default(),
            capture: None,
        }
    }
}

/// The local cloud's Secrets Manager stand-ins for a stack: the template parameters naming its
/// secrets, each set to a name of the stack's own (stacks share one moto in tests, and a test
/// may rotate its secret), and what each secret holds: the payment provider's key (localstripe
/// takes any test key), the local carriers' signing secrets and the payment webhook's.
pub fn local_secrets(stack_name: &str) -> (BTreeMap<String, String>, BTreeMap<String, Value>) {
    let carriers: serde_json::Map<String, serde_json::Value> =
        LOCAL_CARRIER_SECRETS.iter().map(|(carrier, secret)| ((*carrier).to_owned(), (*secret).into())).collect();
    let secrets = [
        ("PaymentProviderSecretId", "payment-provider", serde_json::json!({"api_key": "sk_test_orderflow_local"})),
        ("CarrierWebhookSecretId", "carrier-webhooks", serde_json::Value::Object(carriers)),
        (
            "PaymentWebhookSecretId",
            "payment-webhook",
            serde_json::json!({"signing_secrets": [LOCAL_PAYMENT_WEBHOOK_SECRET]}),
        ),
        ("LookupKeySecretId", "lookup-key", serde_json::json!({"lookup_key": random_key()})),
    ];
    let parameters =
        secrets.iter().map(|(parameter, name, _)| ((*parameter).to_owned(), format!("{stack_name}/{name}")));
    let values = secrets.iter().map(|(_, name, value)| (format!("{stack_name}/{name}"), value.clone()));
    (parameters.collect(), values.collect())
}

/// A fresh lookup key for each stack: 64 random letters and digits, as an operator would make
/// one for a deployed stack.
fn random_key() -> String {
    std::iter::repeat_with(fastrand::alphanumeric).take(64).collect()
}

/// The folder this executable was built into: cargo puts the functions' binaries there too.
pub fn default_binaries() -> PathBuf {
    let executable = std::env::current_exe().unwrap_or_default();
    let folder = executable.parent().map(PathBuf::from).unwrap_or_default();
    // Test executables live one level down, in `deps/`.
    if folder.ends_with("deps") { folder.parent().map(PathBuf::from).unwrap_or(folder) } else { folder }
}

/// A running local pipeline. Dropping it stops everything it started.
#[derive(Debug)]
pub struct Runner {
    pub stack: Stack,
    pub sdk: SdkConfig,
    pub journal: Journal,
    /// From the start of `start` to every function polling for work.
    pub ready_after: Duration,
    api_address: SocketAddr,
    moto_endpoint: String,
    stripe_endpoint: Option<String>,
    issuer: Arc<LocalIssuer>,
    /// The operators' hosted login, when the template has an operators' authorizer.
    login: Option<Arc<LocalLogin>>,
    authorizers: BTreeMap<String, JwtAuthorizer>,
    default_authorizer: Option<String>,
    hosts: HashMap<String, Arc<FunctionHost>>,
    /// The queues a function consumes, by URL.
    consumed_queues: Vec<String>,
    tasks: Vec<JoinHandle<()>>,
    _moto: Option<MotoServer>,
    _stripe: Option<LocalStripe>,
}

impl Drop for Runner {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Runner {
    pub async fn start(options: RunnerOptions) -> anyhow::Result<Self> {
        let started = Instant::now();
        let journal = Journal::new(options.echo, options.function_log.as_deref())?;
        let moto = match &options.moto_endpoint {
            Some(_) => None,
            None => Some(tokio::task::spawn_blocking(|| MotoServer::start(0)).await??),
        };
        let stripe = match &options.stripe_endpoint {
            None if options.start_localstripe => Some(tokio::task::spawn_blocking(|| LocalStripe::start(0)).await??),
            _ => None,
        };
        let moto_endpoint = options.moto_endpoint.clone().or_else(|| moto.as_ref().map(|m| m.endpoint().to_owned()));
        let moto_endpoint = moto_endpoint.context("no moto endpoint")?;
        let stripe_endpoint =
            options.stripe_endpoint.clone().or_else(|| stripe.as_ref().map(|s| s.endpoint().to_owned()));
        let issuer = tokio::task::spawn_blocking(LocalIssuer::new);

        let sdk = cloud::sdk_config(&moto_endpoint).await?;
        let template = Template::load(&options.template)?;
        // Bound before the stack is planned: the operators' login returns to this port's desk.
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], options.api_port)))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", options.api_port))?;
        let api_address = listener.local_addr()?;
        let mut parameters = BTreeMap::new();
        if template.parameters.contains_key(DESK_CALLBACK_PARAMETER) {
            parameters.insert(DESK_CALLBACK_PARAMETER.to_owned(), format!("http://{api_address}/desk/callback"));
        }
        if template.parameters.contains_key(LOGIN_URL_PARAMETER) {
            parameters.insert(LOGIN_URL_PARAMETER.to_owned(), format!("http://{api_address}"));
        }
        if let Some(endpoint) =
            stripe_endpoint.as_ref().filter(|_| template.parameters.contains_key(PAYMENT_ENDPOINT_PARAMETER))
        {
            parameters.insert(PAYMENT_ENDPOINT_PARAMETER.to_owned(), endpoint.clone());
        }
        parameters.extend(options.parameters.clone());
        let mut plan = Stack::plan(template, &options.stack_name, cloud::REGION, &parameters);
        plan.secrets = options.secrets.clone();
        plan.played_user_pool = Some(format!("http://{api_address}"));
        let stack = provision(&sdk, plan).await.context("provisioning the template")?;
        journal.note(format!("provisioned {} resources as stack {}", stack.template.resources.len(), stack.name));
        if options.iam == Enforcement::Roles {
            iam::enforce(&moto_endpoint, &stack).await?;
            journal.note("each function runs as its own IAM role: what AWS would refuse is refused".to_owned());
        }
        if options.seed_demo_catalog {
            seed_catalog(&sdk, &stack, &journal).await?;
        }
        let owned_stripe = stripe.as_ref().map(|stripe| stripe.endpoint().to_owned());
        if options.faults.rate > 0.0 {
            // The functions' keys are what the fault layer recognises them by.
            anyhow::ensure!(options.iam == Enforcement::Roles, "--faults needs each function signing as its role");
            let timeout = stack
                .template
                .parameters
                .get("PaymentProviderTimeoutMs")
                .and_then(|parameter| parameter.get("Default"))
                .and_then(Value::as_u64)
                .map_or(Duration::from_secs(3), Duration::from_millis);
            faults::inject(&moto_endpoint, owned_stripe.as_deref(), &stack.name, options.faults, timeout).await?;
            journal.note(format!(
                "faults: {:.0} % of the functions' calls fail as AWS and the payment provider fail (seed {})",
                options.faults.rate * 100.0,
                options.faults.seed
            ));
        }
        if options.faults.crash > 0.0 {
            journal.note(format!("crashes: {:.0} % of invocations are killed part-way", options.faults.crash * 100.0));
        }

        let mut hosts = HashMap::new();
        for (logical, _) in stack.template.of_type("AWS::Serverless::Function") {
            let mut spec = FunctionSpec::from_stack(&stack, logical, &options.binaries, options.iam)?;
            (spec.crash_rate, spec.crash_seed) = (options.faults.crash, options.faults.seed);
            spec.capture.clone_from(&options.capture);
            let host = FunctionHost::start(spec, &moto_endpoint, cloud::REGION, journal.clone()).await?;
            hosts.insert(logical.clone(), Arc::new(host));
        }

        let mut tasks = Vec::new();
        let mut extra_pollers = Vec::new();
        let mut consumed_queues = Vec::new();
        for source in sources::event_sources(&stack)? {
            let Some(host) = hosts.get(&source.function) else { continue };
            // Lambda polls a function's sources with the function's own role.
            let sdk = iam::sdk_config_as(&moto_endpoint, &stack, &source.function, options.iam).await?;
            let trigger = source.trigger();
            let invoker = Invoker::new(host.clone(), journal.clone(), trigger.clone(), options.chaos);
            tasks.push(match source.source {
                Source::Queue(queue) => {
                    consumed_queues.push(queue.queue_url.clone());
                    // Each poller keeps one batch in flight, as Lambda's do.
                    for poller in 1..queue.pollers {
                        // The same trigger in the journal, its own shuffles under chaos.
                        let chaos = Chaos { seed: options.chaos.seed.wrapping_add(poller as u64), ..options.chaos };
                        let invoker = Invoker::new(host.clone(), journal.clone(), trigger.clone(), chaos);
                        let sqs = aws_sdk_sqs::Client::new(&sdk);
                        extra_pollers.push(tokio::spawn(sqs_mapping::play_queue(queue.clone(), sqs, invoker, poller)));
                    }
                    tokio::spawn(sqs_mapping::play_queue(queue, aws_sdk_sqs::Client::new(&sdk), invoker, 0))
                }
                Source::Stream(stream) => {
                    let on_failure_url = stream.on_failure.as_deref().and_then(|arn| stack.queue_url_by_arn(arn));
                    let player = StreamPlayer {
                        on_failure_url,
                        source: stream,
                        streams: aws_sdk_dynamodbstreams::Client::new(&sdk),
                        sqs: aws_sdk_sqs::Client::new(&sdk),
                        invoker,
                        retry: options.retry,
                    };
                    tokio::spawn(player.play())
                }
                Source::Schedule(schedule) => {
                    let rule = format!(
                        "arn:aws:events:{}:{}:rule/{}-{}-{}",
                        stack.region,
                        crate::stack::provision::ACCOUNT_ID,
                        stack.name,
                        source.function,
                        source.event
                    );
                    tokio::spawn(sources::play_schedule(schedule, invoker, rule))
                }
            });
        }
        tasks.extend(extra_pollers);
        if options.tap_unconsumed_queues {
            let unconsumed: Vec<(String, String)> = stack
                .subscribed_queues()
                .into_iter()
                .filter_map(|logical| Some((stack.reference_of(&logical).ok()?, logical)))
                .filter(|(url, _)| !consumed_queues.contains(url))
                .collect();
            tasks.push(tokio::spawn(tap(aws_sdk_sqs::Client::new(&sdk), unconsumed, journal.clone())));
        }
        if options.iam == Enforcement::Roles {
            tasks.push(tokio::spawn(iam::journal_denials(moto_endpoint.clone(), journal.clone())));
        }
        if let Some(folder) = &options.outbox {
            tasks.push(tokio::spawn(outbox::keep(moto_endpoint.clone(), folder.clone(), journal.clone())));
        }

        let issuer = Arc::new(issuer.await??);
        let apis = auth::api_auth(&stack)?;
        let default_authorizer = apis.values().find_map(|api| api.default_authorizer.clone());
        let authorizers: BTreeMap<String, JwtAuthorizer> = apis.into_values().flat_map(|api| api.authorizers).collect();
        let login = authorizers.get(OPERATOR_AUTHORIZER).map(|authorizer| {
            Arc::new(LocalLogin::new(authorizer.clone(), stack.client_redirects(&authorizer.audiences)))
        });
        let api = LocalApi {
            routes: apigw::routes(&stack.template),
            authorizers: authorizers.clone(),
            issuer: issuer.clone(),
            login: login.clone(),
            hosts: hosts.clone(),
            journal: journal.clone(),
        };
        tasks.push(tokio::spawn(api::serve(listener, Arc::new(api))));
        if let Some(stripe) =
            stripe.as_ref().filter(|_| stack.template.parameters.contains_key("PaymentWebhookSecretId"))
        {
            // As an operator adds the endpoint in Stripe's dashboard: our route, our secret.
            let endpoint = serde_json::json!({
                "url": format!("http://{api_address}/webhooks/payments/stripe"),
                "secret": LOCAL_PAYMENT_WEBHOOK_SECRET,
                "events": PAYMENT_WEBHOOK_EVENTS,
            });
            cloud::layer_request(
                "POST",
                &format!("{}/_config/webhooks/orderflow", stripe.endpoint()),
                endpoint.to_string(),
            )
            .await
            .map_err(|error| anyhow::anyhow!("localstripe did not take the webhook endpoint: {error}"))?;
            journal.note("the payment provider sends its events, signed, to POST /webhooks/payments/stripe".to_owned());
        }

        for host in hosts.values() {
            host.ready(Duration::from_secs(30)).await.with_context(|| format!("{} did not start", host.spec().name))?;
        }
        Ok(Self {
            stack,
            sdk,
            ready_after: started.elapsed(),
            journal,
            api_address,
            moto_endpoint,
            stripe_endpoint,
            issuer,
            login,
            authorizers,
            default_authorizer,
            hosts,
            consumed_queues,
            tasks,
            _moto: moto,
            _stripe: stripe,
        })
    }

    pub fn api_url(&self) -> String {
        format!("http://{}", self.api_address)
    }

    /// What `orderctl` reads to reach this stack: the endpoint, the region, the API, and the
    /// physical id (`Ref`) of every resource the local cloud names.
    pub fn resources(&self) -> serde_json::Value {
        let resources: serde_json::Map<String, serde_json::Value> = self
            .stack
            .template
            .resources
            .keys()
            .filter_map(|logical| {
                Some((logical.clone(), serde_json::Value::from(self.stack.reference_of(logical).ok()?)))
            })
            .collect();
        serde_json::json!({
            "endpoint": self.moto_endpoint(),
            "region": self.stack.region,
            "api_url": self.api_url(),
            "payment_provider_url": self.stripe_endpoint,
            "resources": resources,
        })
    }

    /// The calls the IAM layer refused this stack's functions, oldest first.
    pub async fn denials(&self) -> anyhow::Result<Vec<iam::Denial>> {
        let all = iam::denials(&self.moto_endpoint).await?;
        Ok(all.into_iter().filter(|denial| denial.by(&self.stack)).collect())
    }

    pub fn moto_endpoint(&self) -> &str {
        &self.moto_endpoint
    }

    pub fn stripe_endpoint(&self) -> Option<&str> {
        self.stripe_endpoint.as_deref()
    }

    pub fn authorizers(&self) -> &BTreeMap<String, JwtAuthorizer> {
        &self.authorizers
    }

    /// The authorizer an HTTP API's routes use unless they name another.
    pub fn default_authorizer(&self) -> Option<&str> {
        self.default_authorizer.as_deref()
    }

    pub fn issuer(&self) -> &LocalIssuer {
        &self.issuer
    }

    /// A token the named authorizer accepts, for `subject`, valid for `lifetime`.
    pub fn token(&self, authorizer: &str, subject: &str, lifetime: Duration) -> anyhow::Result<String> {
        let authorizer = self.authorizers.get(authorizer).with_context(|| format!("no authorizer {authorizer:?}"))?;
        Ok(self.issuer.token_for(authorizer, subject, lifetime)?)
    }

    /// An operator's access token for the operators' authorizer, with the claims the operators'
    /// user pool gives a user in `groups` with `custom:storefronts` = `storefronts`: Cognito's
    /// own (`sub`, `client_id`, `token_use`, `cognito:groups`) and what the pre-token trigger
    /// adds (`scope`, `storefronts`), computed by the same code as the trigger.
    pub fn operator_token(
        &self,
        subject: &str,
        groups: &[&str],
        storefronts: &str,
        lifetime: Duration,
    ) -> anyhow::Result<String> {
        let authorizer = self.authorizers.get(OPERATOR_AUTHORIZER).context("no operators' authorizer")?;
        Ok(self.issuer.operator_token(authorizer, subject, groups, storefronts, lifetime)?)
    }

    /// Lets `operator` sign in at the operators' hosted login (`/oauth2/authorize`).
    pub fn add_operator_login(&self, operator: LocalOperator) -> anyhow::Result<()> {
        self.login.as_ref().context("no operators' authorizer, so no operators' login")?.add_operator(operator);
        Ok(())
    }

    /// Invokes a function directly, as `aws lambda invoke` would.
    pub async fn invoke(&self, function: &str, payload: &Value) -> Result<Value, InvokeError> {
        let host = self.hosts.get(function).ok_or(InvokeError::Stopped)?;
        let invoker = Invoker::new(host.clone(), self.journal.clone(), "direct".to_owned(), Chaos::default());
        invoker.invoke_once(payload.clone(), 1).await
    }

    /// Switches every fault and crash off, as when the cause has passed and an operator redrives
    /// what was dead-lettered meanwhile.
    pub async fn stop_faults(&self) -> Result<(), faults::FaultLayerError> {
        for host in self.hosts.values() {
            host.set_crash_rate(0.0);
        }
        let stripe = self._stripe.as_ref().map(LocalStripe::endpoint);
        faults::inject(&self.moto_endpoint, stripe, &self.stack.name, Faults::default(), Duration::ZERO).await
    }

    /// What the fault layers have injected so far (`--faults`).
    pub async fn faults_injected(&self) -> Result<faults::Injected, faults::FaultLayerError> {
        faults::injected(&self.moto_endpoint, self._stripe.as_ref().map(LocalStripe::endpoint)).await
    }

    /// The calls this stack's functions have made so far: AWS operations by function (logical
    /// id), counted by the IAM layer, and the payment provider's operations, counted by the
    /// localstripe this runner started (none when it was given one).
    pub async fn calls(&self) -> anyhow::Result<CallCount> {
        let prefix = format!("{}-", self.stack.name);
        let aws = iam::calls(&self.moto_endpoint)
            .await?
            .into_iter()
            .filter_map(|(key, calls)| Some((key.strip_prefix(&prefix)?.to_owned(), calls)))
            .collect();
        let payment_provider = match self._stripe.as_ref() {
            Some(stripe) => serde_json::from_slice(
                &cloud::layer_request("GET", &format!("{}/orderflow/calls", stripe.endpoint()), String::new())
                    .await
                    .map_err(anyhow::Error::msg)?,
            )?,
            None => BTreeMap::new(),
        };
        Ok(CallCount { aws, payment_provider })
    }

    /// Per function (logical id): its processes' start-up times and peak memory.
    pub fn function_stats(&self) -> BTreeMap<String, (String, FunctionStats)> {
        self.hosts.iter().map(|(logical, host)| (logical.clone(), (host.spec().name.clone(), host.stats()))).collect()
    }

    /// Waits until nothing has happened for `quiet`, or `limit` has passed; true if it went quiet.
    pub async fn settle(&self, quiet: Duration, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.journal.is_quiet(quiet) && !self.messages_waiting().await {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// Whether a consumed queue holds a message: sent with a delay (put back to wait), visible,
    /// or taken by a poller whose invocation has not begun (or failed, and is due again): the
    /// pipeline is not done while one is.
    async fn messages_waiting(&self) -> bool {
        use aws_sdk_sqs::types::QueueAttributeName::{
            ApproximateNumberOfMessages, ApproximateNumberOfMessagesDelayed, ApproximateNumberOfMessagesNotVisible,
        };
        let sqs = aws_sdk_sqs::Client::new(&self.sdk);
        for url in &self.consumed_queues {
            let Ok(output) = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(ApproximateNumberOfMessagesDelayed)
                .attribute_names(ApproximateNumberOfMessages)
                .attribute_names(ApproximateNumberOfMessagesNotVisible)
                .send()
                .await
            else {
                // Unreadable now: the journal's quiet is all there is to go by.
                continue;
            };
            let waiting = output.attributes().into_iter().flatten().filter_map(|(_, count)| count.parse::<u64>().ok());
            if waiting.sum::<u64>() > 0 {
                return true;
            }
        }
        false
    }
}

async fn seed_catalog(sdk: &SdkConfig, stack: &Stack, journal: &Journal) -> anyhow::Result<()> {
    let environment = stack.global_environment()?;
    if !environment.contains_key("INVENTORY_TABLE") {
        return Ok(());
    }
    let store = DynamoStore::from_env(aws_sdk_dynamodb::Client::new(sdk), &Env::Map(environment))?;
    let entries = catalog::demo_catalog()?;
    catalog::seed(&store, &entries).await?;
    journal.note(format!("seeded {} SKUs from infra/local/catalog.json", entries.len()));
    Ok(())
}

/// Shows the events that reach queues no function consumes yet, and takes them so that they do
/// not pile up.
async fn tap(sqs: aws_sdk_sqs::Client, queues: Vec<(String, String)>, journal: Journal) {
    loop {
        for (url, logical) in &queues {
            let Ok(output) = sqs.receive_message().queue_url(url).max_number_of_messages(10).send().await else {
                continue;
            };
            for message in output.messages.unwrap_or_default() {
                let event: Value =
                    message.body.as_deref().and_then(|body| serde_json::from_str(body).ok()).unwrap_or_default();
                journal.note(format!(
                    "event {} {} reached {logical} (no consumer yet)",
                    event["type"].as_str().unwrap_or("?"),
                    event["id"].as_str().unwrap_or("?"),
                ));
                if let Some(receipt) = message.receipt_handle {
                    let _ = sqs.delete_message().queue_url(url).receipt_handle(receipt).send().await;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
