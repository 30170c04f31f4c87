//! Runs a function's real compiled binary behind a local Lambda Runtime API, as Lambda runs it in
//! sandboxes: each sandbox one warm process with its own runtime API, serving one invocation at
//! a time, reused across invocations and restarted when it dies. A function scales out as Lambda
//! does: an invocation that finds no idle sandbox starts another, up to the function's
//! concurrency (`ReservedConcurrentExecutions`, else [`DEFAULT_CONCURRENCY`]), so concurrent
//! requests really run concurrently. Invocations are bounded by the template's timeout. The
//! binary cannot tell this from Lambda: it polls `/2018-06-01/runtime/invocation/next` at
//! `AWS_LAMBDA_RUNTIME_API` and posts its answer to `/response` or `/error` (or `/init/error`
//! when it cannot start).

use std::{
    collections::{BTreeMap, HashMap},
    convert::Infallible,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::Stdio,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use http_body_util::{BodyExt, Full};
use hyper::{Method, Request, Response, StatusCode, body::Bytes};
use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, AsyncRead, BufReader},
    net::TcpListener,
    sync::{Notify, mpsc, oneshot},
    task::JoinHandle,
};

use crate::{
    observe::journal::Journal,
    stack::iam::{self, Enforcement},
    stack::provision::{ACCOUNT_ID, Stack},
    stack::template::{TemplateError, scalar_text},
};

/// Lambda's own limit on a function's init phase.
const INIT_LIMIT: Duration = Duration::from_secs(10);
/// The sandboxes a function without reserved concurrency may run at once, locally (on AWS, the
/// account's unreserved concurrency): enough for races to happen, few enough for a laptop.
pub const DEFAULT_CONCURRENCY: usize = 10;
const RUNTIME_PREFIX: &str = "/2018-06-01/runtime/";

/// What the template says about one function, resolved for one stack.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub logical_id: String,
    /// The binary's name (`Metadata.BuildProperties.Binary`, else `Handler`): what logs show.
    pub name: String,
    pub binary: PathBuf,
    pub arn: String,
    pub timeout: Duration,
    pub memory_mb: u64,
    /// How many invocations may run at once: its sandboxes at most.
    pub concurrency: usize,
    /// The fraction of invocations whose process is killed at a random point before it answers
    /// (`--crash`), and the seed of those choices.
    pub crash_rate: f64,
    pub crash_seed: u64,
    /// The template's variables (Globals, then the function's own), resolved.
    pub environment: BTreeMap<String, String>,
    /// What the function signs its calls with: its role's key, as Lambda gives it the role's
    /// credentials.
    pub access_key: String,
    /// Where the environment the function's processes get and its first event are written, to
    /// run it outside the runner (the cold-start bench).
    pub capture: Option<PathBuf>,
}

impl FunctionSpec {
    /// `binaries` is the folder cargo built the functions into (`target/debug`, `target/release`).
    pub fn from_stack(
        stack: &Stack,
        logical_id: &str,
        binaries: &Path,
        enforcement: Enforcement,
    ) -> Result<Self, TemplateError> {
        let resource = stack.template.resource(logical_id)?;
        let property = |name: &str| {
            resource.properties.get(name).or_else(|| stack.template.globals.pointer(&format!("/Function/{name}")))
        };
        let name = resource
            .metadata
            .pointer("/BuildProperties/Binary")
            .or_else(|| resource.properties.get("Handler"))
            .and_then(Value::as_str)
            .ok_or_else(|| TemplateError::Unresolvable(format!("{logical_id}: neither a Binary nor a Handler")))?
            .to_owned();
        let number = |name: &str, default: u64| {
            property(name).map(scalar_text).and_then(|text| text.parse().ok()).unwrap_or(default)
        };
        Ok(Self {
            logical_id: logical_id.to_owned(),
            binary: binaries.join(&name),
            arn: format!("arn:aws:lambda:{}:{ACCOUNT_ID}:function:{}-{logical_id}", stack.region, stack.name),
            timeout: Duration::from_secs(number("Timeout", 3)),
            memory_mb: number("MemorySize", 128),
            concurrency: usize::try_from(number("ReservedConcurrentExecutions", DEFAULT_CONCURRENCY as u64))
                .unwrap_or(DEFAULT_CONCURRENCY)
                .max(1),
            crash_rate: 0.0,
            crash_seed: 0,
            environment: stack.function_environment(logical_id)?,
            access_key: iam::access_key(stack, logical_id, enforcement),
            capture: None,
            name,
        })
    }

    /// The variables Lambda itself sets, for a process reaching the runtime API at `runtime_api`
    /// and the local cloud at `endpoint`.
    fn process_environment(
        &self,
        runtime_api: SocketAddr,
        endpoint: &str,
        region: &str,
        sandbox: usize,
    ) -> Vec<(String, String)> {
        let function_name = self.arn.rsplit(':').next().unwrap_or(&self.name).to_owned();
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_string()),
            ("AWS_LAMBDA_FUNCTION_NAME", function_name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", self.memory_mb.to_string()),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{function_name}")),
            ("AWS_LAMBDA_LOG_STREAM_NAME", format!("local/{}/{sandbox}", std::process::id())),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
            ("AWS_REGION", region.to_owned()),
            ("AWS_DEFAULT_REGION", region.to_owned()),
            ("AWS_ENDPOINT_URL", endpoint.to_owned()),
            ("AWS_ACCESS_KEY_ID", self.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", "local".to_owned()),
            ("AWS_SESSION_TOKEN", "local-session".to_owned()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".to_owned()),
            ("_HANDLER", self.name.clone()),
        ];
        self.environment
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .chain(lambda.into_iter().map(|(key, value)| (key.to_owned(), value)))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvokeError {
    #[error("{error_type}: {message}")]
    Function { error_type: String, message: String },
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    #[error("the process exited during the invocation ({0})")]
    Crashed(String),
    #[error("the function could not initialise: {0}")]
    Init(String),
    #[error("the function host has stopped")]
    Stopped,
}

type Answer = Result<Value, InvokeError>;

#[derive(Debug)]
struct Invocation {
    id: String,
    payload: Bytes,
    reply: oneshot::Sender<Answer>,
}

/// Start-up and memory figures of one function's processes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FunctionStats {
    pub processes_started: u64,
    /// Per process: the time from spawning it to its first `next` poll (the cold start).
    pub ready_after: Vec<Duration>,
    /// The largest peak resident set (VmHWM) seen in any of its processes.
    pub peak_rss_kib: Option<u64>,
    /// Processes killed mid-invocation by `--crash`.
    pub crashes_injected: u64,
}

#[derive(Debug, Default)]
struct Process {
    generation: u64,
    pid: Option<u32>,
    spawned_at: Option<Instant>,
    polled: bool,
    served: bool,
    init_error: Option<String>,
}

/// One sandbox: a process (restarted when it ends) and the invocation it is serving.
#[derive(Debug, Default)]
struct Sandbox {
    process: Mutex<Process>,
    in_flight: Mutex<HashMap<String, (u64, oneshot::Sender<Answer>)>>,
    kill: Notify,
}

/// What every sandbox of one function shares: the queue of invocations and the figures.
#[derive(Debug)]
struct HostState {
    spec: FunctionSpec,
    endpoint: String,
    region: String,
    journal: Journal,
    pending: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    sandboxes: Mutex<Vec<Arc<Sandbox>>>,
    /// Sandboxes waiting for an invocation, and sandboxes whose first process has not polled yet.
    idle: AtomicUsize,
    starting: AtomicUsize,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    stats: Mutex<FunctionStats>,
    next_id: AtomicU64,
    crashes: Mutex<fastrand::Rng>,
    /// `--crash`'s rate now (`f64` bits): it may be switched off while the runner runs.
    crash_rate: AtomicU64,
}

fn locked<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Sandbox {
    fn generation(&self) -> u64 {
        locked(&self.process).generation
    }

    fn complete(&self, host: &HostState, id: &str, answer: Answer) -> bool {
        let Some((_, reply)) = locked(&self.in_flight).remove(id) else { return false };
        host.sample_memory(self);
        locked(&self.process).served = true;
        let _ = reply.send(answer);
        true
    }

    /// Fails what the ended process held, and, if it never got as far as serving, what waits
    /// for it: Lambda fails an invocation whose init fails instead of queueing it forever.
    async fn process_ended(&self, host: &HostState, status: &str) {
        let generation = self.generation();
        let lost: Vec<_> = {
            let mut in_flight = locked(&self.in_flight);
            let ids: Vec<String> =
                in_flight.iter().filter(|(_, (owner, _))| *owner == generation).map(|(id, _)| id.clone()).collect();
            ids.into_iter().filter_map(|id| in_flight.remove(&id)).collect()
        };
        for (_, reply) in lost {
            let _ = reply.send(Err(InvokeError::Crashed(status.to_owned())));
        }
        let (served, init_error) = {
            let process = locked(&self.process);
            (process.served, process.init_error.clone())
        };
        if !served {
            let reason = init_error.unwrap_or_else(|| format!("the process exited before serving ({status})"));
            let mut pending = host.pending.lock().await;
            while let Ok(invocation) = pending.try_recv() {
                let _ = invocation.reply.send(Err(InvokeError::Init(reason.clone())));
            }
        }
    }
}

impl HostState {
    /// Writes `{folder}/{name}.env.json`, what the runner gives a process of this function but
    /// the address of its runtime API, and with the first event, `{folder}/{name}.event.json`.
    fn capture(&self, folder: &Path, payload: Option<&[u8]>) {
        let (path, contents) = match payload {
            Some(payload) => (folder.join(format!("{}.event.json", self.spec.name)), payload.to_vec()),
            None => {
                let unbound = SocketAddr::from(([127, 0, 0, 1], 0));
                let environment: BTreeMap<String, String> = self
                    .spec
                    .process_environment(unbound, &self.endpoint, &self.region, 0)
                    .into_iter()
                    .filter(|(name, _)| name != "AWS_LAMBDA_RUNTIME_API")
                    .collect();
                (
                    folder.join(format!("{}.env.json", self.spec.name)),
                    serde_json::to_vec(&environment).unwrap_or_default(),
                )
            }
        };
        if let Err(error) = std::fs::create_dir_all(folder).and_then(|()| std::fs::write(&path, contents)) {
            self.journal.note(format!("{}: cannot write {}: {error}", self.spec.name, path.display()));
        }
    }

    fn sample_memory(&self, sandbox: &Sandbox) {
        let Some(pid) = locked(&sandbox.process).pid else { return };
        if let Some(peak) = peak_rss_kib(pid) {
            let mut stats = locked(&self.stats);
            stats.peak_rss_kib = stats.peak_rss_kib.max(Some(peak));
        }
    }

    /// When to kill the process serving the next invocation, if `--crash` picks it: a random
    /// point within the invocation's first second (or its timeout, if shorter).
    fn crash_point(&self) -> Option<Duration> {
        let rate = f64::from_bits(self.crash_rate.load(Ordering::Relaxed));
        let mut random = locked(&self.crashes);
        if rate <= 0.0 || random.f64() >= rate {
            return None;
        }
        let latest = self.spec.timeout.min(Duration::from_secs(1)).as_millis();
        Some(Duration::from_millis(random.u64(0..u64::try_from(latest).unwrap_or(1_000).max(1))))
    }

    /// Starts another sandbox if more invocations are `queued` than sandboxes are idle or on
    /// their way, and the function may scale out; the first call starts the first.
    async fn scale_out(self: &Arc<Self>, queued: usize) -> std::io::Result<()> {
        let sandbox = {
            let mut sandboxes = locked(&self.sandboxes);
            let spare = self.idle.load(Ordering::SeqCst) + self.starting.load(Ordering::SeqCst);
            if !(sandboxes.is_empty() || queued > spare && sandboxes.len() < self.spec.concurrency) {
                return Ok(());
            }
            self.starting.fetch_add(1, Ordering::SeqCst);
            sandboxes.push(Arc::new(Sandbox::default()));
            (sandboxes.len() - 1, sandboxes[sandboxes.len() - 1].clone())
        };
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let environment =
            self.spec.process_environment(listener.local_addr()?, &self.endpoint, &self.region, sandbox.0);
        let api = Arc::new(SandboxApi { host: self.clone(), sandbox: sandbox.1.clone() });
        let mut tasks = locked(&self.tasks);
        tasks.push(tokio::spawn(crate::serve::serve_http(listener, api, runtime_api)));
        tasks.push(tokio::spawn(supervise(self.clone(), sandbox.1, environment)));
        Ok(())
    }
}

/// Counts a sandbox as idle while it lives, however its wait for work ends (a poll whose
/// process died is dropped mid-wait).
struct Idle<'a>(&'a AtomicUsize);

impl<'a> Idle<'a> {
    fn count(idle: &'a AtomicUsize) -> Self {
        idle.fetch_add(1, Ordering::SeqCst);
        Self(idle)
    }
}

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A sandbox's runtime API: its own process's requests, for the function's queue.
#[derive(Debug)]
struct SandboxApi {
    host: Arc<HostState>,
    sandbox: Arc<Sandbox>,
}

/// One function's sandboxes and their runtime APIs. Dropping it stops them all.
#[derive(Debug)]
pub struct FunctionHost {
    state: Arc<HostState>,
    sender: mpsc::Sender<Invocation>,
}

impl Drop for FunctionHost {
    fn drop(&mut self) {
        for task in locked(&self.state.tasks).drain(..) {
            task.abort();
        }
    }
}

impl FunctionHost {
    /// Starts the function's first sandbox (its process against a runtime API on a free
    /// loopback port), reaching the local cloud at `endpoint`.
    pub async fn start(spec: FunctionSpec, endpoint: &str, region: &str, journal: Journal) -> std::io::Result<Self> {
        if !spec.binary.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} is not built: {} is missing (cargo build --bins)", spec.logical_id, spec.binary.display()),
            ));
        }
        let (sender, receiver) = mpsc::channel(1024);
        let state = Arc::new(HostState {
            endpoint: endpoint.to_owned(),
            region: region.to_owned(),
            journal,
            pending: tokio::sync::Mutex::new(receiver),
            sandboxes: Mutex::default(),
            idle: AtomicUsize::new(0),
            starting: AtomicUsize::new(0),
            tasks: Mutex::default(),
            crash_rate: AtomicU64::new(spec.crash_rate.to_bits()),
            crashes: Mutex::new(fastrand::Rng::with_seed(
                spec.crash_seed
                    ^ spec.name.bytes().fold(0u64, |hash, byte| hash.wrapping_mul(31).wrapping_add(u64::from(byte))),
            )),
            spec,
            stats: Mutex::default(),
            next_id: AtomicU64::new(1),
        });
        if let Some(folder) = &state.spec.capture {
            state.capture(folder, None);
        }
        state.scale_out(0).await?;
        Ok(Self { state, sender })
    }

    pub fn spec(&self) -> &FunctionSpec {
        &self.state.spec
    }

    /// Changes the fraction of invocations `--crash` kills from now on.
    pub fn set_crash_rate(&self, rate: f64) {
        self.state.crash_rate.store(rate.to_bits(), Ordering::Relaxed);
    }

    pub fn stats(&self) -> FunctionStats {
        for sandbox in locked(&self.state.sandboxes).iter() {
            self.state.sample_memory(sandbox);
        }
        locked(&self.state.stats).clone()
    }

    /// Waits until a process of the function polls for work.
    pub async fn ready(&self, limit: Duration) -> Result<(), InvokeError> {
        let deadline = Instant::now() + limit;
        while locked(&self.state.stats).ready_after.is_empty() {
            if Instant::now() >= deadline {
                return Err(InvokeError::Init(format!("no poll for work within {limit:?}")));
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    }

    /// Invokes the function with `payload` and waits for its answer. Invocations start in the
    /// order they were asked for, each in an idle sandbox, or a new one while the function may
    /// scale out; beyond its concurrency they wait for a sandbox to be free.
    pub async fn invoke(&self, payload: &Value) -> Result<Value, InvokeError> {
        let sequence = self.state.next_id.fetch_add(1, Ordering::Relaxed);
        let id = format!("{:08x}-{:04x}-4000-8000-{:012x}", std::process::id(), sequence >> 48, sequence);
        let (reply, answer) = oneshot::channel();
        let payload = Bytes::from(serde_json::to_vec(payload).map_err(|error| InvokeError::Init(error.to_string()))?);
        if let Some(folder) = self.state.spec.capture.as_ref().filter(|_| sequence == 1) {
            self.state.capture(folder, Some(&payload));
        }
        self.sender.send(Invocation { id, payload, reply }).await.map_err(|_| InvokeError::Stopped)?;
        let queued = self.sender.max_capacity() - self.sender.capacity();
        if let Err(error) = self.state.scale_out(queued).await {
            self.state.journal.note(format!("{}: cannot start another sandbox: {error}", self.state.spec.name));
        }
        answer.await.unwrap_or_else(|_| Err(InvokeError::Crashed("the invocation was lost".to_owned())))
    }
}

fn reply(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

async fn runtime_api(
    api: Arc<SandboxApi>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let SandboxApi { host, sandbox } = &*api;
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let body = request.into_body().collect().await.map(|body| body.to_bytes()).unwrap_or_default();
    let Some(route) = path.strip_prefix(RUNTIME_PREFIX) else {
        return Ok(reply(StatusCode::NOT_FOUND, "unknown runtime API path"));
    };
    Ok(match (method, route) {
        (Method::GET, "invocation/next") => next_invocation(host, sandbox).await,
        (Method::POST, "init/error") => {
            locked(&sandbox.process).init_error = Some(error_text(&body));
            reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}")
        }
        (Method::POST, route) => {
            let answer = match route.strip_prefix("invocation/").and_then(|rest| rest.rsplit_once('/')) {
                Some((id, "response")) => Some((id, Ok(response_value(&body)))),
                Some((id, "error")) => Some((id, Err(function_error(&body)))),
                _ => None,
            };
            match answer.map(|(id, answer)| sandbox.complete(host, id, answer)) {
                Some(true) => reply(StatusCode::ACCEPTED, "{\"status\":\"OK\"}"),
                Some(false) => reply(StatusCode::BAD_REQUEST, "{\"errorType\":\"InvalidRequestID\"}"),
                None => reply(StatusCode::NOT_FOUND, "unknown runtime API path"),
            }
        }
        _ => reply(StatusCode::NOT_FOUND, "unknown runtime API path"),
    })
}

/// Waits for the next invocation and hands it to the sandbox's process, starting its timeout.
async fn next_invocation(host: &Arc<HostState>, sandbox: &Arc<Sandbox>) -> Response<Full<Bytes>> {
    let generation = {
        let mut process = locked(&sandbox.process);
        if !process.polled {
            process.polled = true;
            if let Some(spawned) = process.spawned_at {
                locked(&host.stats).ready_after.push(spawned.elapsed());
            }
            if process.generation == 1 {
                host.starting.fetch_sub(1, Ordering::SeqCst);
            }
        }
        process.generation
    };
    let waiting = Idle::count(&host.idle);
    let invocation = host.pending.lock().await.recv().await;
    drop(waiting);
    let Some(Invocation { id, payload, reply: answer }) = invocation else {
        // The host is stopping: as Lambda freezes an idle sandbox, the poll is never answered
        // (an answer without an invocation's headers makes lambda_runtime panic).
        return std::future::pending().await;
    };
    let timeout = host.spec.timeout;
    let deadline = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default() + timeout;
    locked(&sandbox.in_flight).insert(id.clone(), (generation, answer));
    if let Some(point) = host.crash_point() {
        let (host, sandbox, id) = (host.clone(), sandbox.clone(), id.clone());
        tokio::spawn(async move {
            tokio::time::sleep(point).await;
            let serving = locked(&sandbox.in_flight).get(&id).is_some_and(|(owner, _)| *owner == generation);
            if serving && sandbox.generation() == generation {
                locked(&host.stats).crashes_injected += 1;
                sandbox.kill.notify_one();
            }
        });
    }
    let watchdog = sandbox.clone();
    let watched = id.clone();
    tokio::spawn(async move {
        tokio::time::sleep(timeout).await;
        let timed_out = locked(&watchdog.in_flight).remove(&watched);
        if let Some((owner, reply)) = timed_out {
            let _ = reply.send(Err(InvokeError::Timeout(timeout)));
            // Lambda ends a timed-out sandbox; its next invocation gets a fresh process.
            if owner == watchdog.generation() {
                watchdog.kill.notify_one();
            }
        }
    });
    let mut response = Response::new(Full::new(payload));
    let headers = response.headers_mut();
    for (name, value) in [
        ("lambda-runtime-aws-request-id", id.clone()),
        ("lambda-runtime-deadline-ms", deadline.as_millis().to_string()),
        ("lambda-runtime-invoked-function-arn", host.spec.arn.clone()),
        (
            "lambda-runtime-trace-id",
            format!(
                "Root=1-{:08x}-{:0>24};Parent={:0>16};Sampled=0",
                deadline.as_secs(),
                id.replace('-', "").get(..24).unwrap_or_default(),
                generation
            ),
        ),
        ("content-type", "application/json".to_owned()),
    ] {
        if let Ok(value) = hyper::header::HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    response
}

fn response_value(body: &[u8]) -> Value {
    if body.is_empty() {
        return Value::Null;
    }
    serde_json::from_slice(body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
}

fn error_text(body: &[u8]) -> String {
    function_error(body).to_string()
}

fn function_error(body: &[u8]) -> InvokeError {
    let value = response_value(body);
    let text = |key: &str| value.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
    InvokeError::Function { error_type: text("errorType"), message: text("errorMessage") }
}

/// Keeps the sandbox's process running: starts it, forwards its logs, and starts a new one when
/// it exits or is killed for overrunning its timeout.
async fn supervise(host: Arc<HostState>, sandbox: Arc<Sandbox>, environment: Vec<(String, String)>) {
    let (name, journal) = (host.spec.name.clone(), host.journal.clone());
    let mut failures_in_a_row = 0u32;
    loop {
        let mut command = tokio::process::Command::new(&host.spec.binary);
        command
            .env_clear()
            .envs(environment.iter().map(|(key, value)| (key, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(error) => {
                journal.note(format!("{name}: cannot start {}: {error}", host.spec.binary.display()));
                tokio::time::sleep(INIT_LIMIT).await;
                continue;
            }
        };
        {
            let mut process = locked(&sandbox.process);
            *process = Process {
                generation: process.generation + 1,
                pid: child.id(),
                spawned_at: Some(spawned_at),
                ..Process::default()
            };
        }
        locked(&host.stats).processes_started += 1;
        let forwarders = [
            child.stdout.take().map(|out| tokio::spawn(forward_lines(out, name.clone(), journal.clone()))),
            child.stderr.take().map(|err| tokio::spawn(forward_lines(err, name.clone(), journal.clone()))),
        ];
        let status = tokio::select! {
            status = child.wait() => status,
            () = sandbox.kill.notified() => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        host.sample_memory(&sandbox);
        for forwarder in forwarders.into_iter().flatten() {
            let _ = forwarder.await;
        }
        let status = status.map(|status| status.to_string()).unwrap_or_else(|error| error.to_string());
        sandbox.process_ended(&host, &status).await;
        let served = locked(&sandbox.process).served;
        failures_in_a_row = if served { 0 } else { failures_in_a_row + 1 };
        journal.note(format!("{name} process ended ({status}); starting a new one"));
        tokio::time::sleep(Duration::from_millis(50 << failures_in_a_row.min(6))).await;
    }
}

async fn forward_lines(stream: impl AsyncRead + Unpin, function: String, journal: Journal) {
    let mut lines = BufReader::new(stream).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        journal.function_log(&function, &line);
    }
}

/// The peak resident set of a live process, from `/proc` (Linux only).
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
