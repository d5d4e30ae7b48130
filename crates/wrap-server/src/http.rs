//! The HTTP service: a pure [`handle`] routing by `(method, path)`, and
//! [`run`], which serves it on a listener with hyper until a shutdown
//! future resolves.
//!
//! ```
//! use hyper::body::Bytes;
//! use wrap_server::http::{handle, Config, State};
//!
//! let state = State::new(wrap_server::builtin::catalog().clone(), Config::default());
//! let req = hyper::Request::post("/")
//!     .body(Bytes::from(r#"{"workflow": "finra50", "SLO": 348}"#))?;
//! let resp = handle(req, &state);
//! assert_eq!(resp.status(), 200);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Scheduling runs on tokio's blocking pool, at most
//! [`Config::max_concurrency`] requests at a time; cheap endpoints answer
//! on the reactor. Every request logs one line (method, path, status,
//! duration) at `INFO`.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use wrap_model::Catalog;

use crate::api::{to_json, Api, Limits};
use crate::error::{ApiError, ErrorKind};

/// The default address: the seed's port, on loopback.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:20232";
/// The default body limit: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1 << 20;

/// The service's limits and timeouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// The largest request body accepted (larger: 413).
    pub max_body: usize,
    /// Scheduling and prediction requests served at once; more wait.
    pub max_concurrency: usize,
    /// Open connections at once; more wait to be accepted.
    pub max_connections: usize,
    /// Time allowed to receive a request's headers, and then its body.
    pub request_timeout: Duration,
    /// On shutdown, how long in-flight requests may take to finish.
    pub shutdown_grace: Duration,
    /// Bounds on the work a request may ask for.
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_body: DEFAULT_MAX_BODY,
            max_concurrency: std::thread::available_parallelism().map_or(2, usize::from),
            max_connections: 1024,
            request_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(30),
            limits: Limits::server(),
        }
    }
}

/// What the service shares between requests: the operations (with their
/// schedulers and caches), the configuration and the concurrency bound.
#[derive(Debug)]
pub struct State {
    api: Api,
    config: Config,
    compute: Arc<Semaphore>,
}

impl State {
    /// The state for `catalog` with `config`.
    #[must_use]
    pub fn new(catalog: Catalog, config: Config) -> Self {
        State {
            api: Api::new(catalog, config.limits),
            compute: Arc::new(Semaphore::new(config.max_concurrency.max(1))),
            config,
        }
    }

    /// The operations.
    #[must_use]
    pub fn api(&self) -> &Api {
        &self.api
    }

    /// The configuration.
    #[must_use]
    pub fn config(&self) -> &Config {
        &self.config
    }
}

/// The endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `POST /`: the seed's contract.
    Seed,
    /// `POST /v1/schedule`.
    Schedule,
    /// `POST /v1/predict`.
    Predict,
    /// `GET /v1/frontier?workflow=&max_wraps=`.
    Frontier,
    /// `GET /v1/workflows`.
    Workflows,
    /// `GET /healthz`.
    Health,
}

/// Every path with its route and method, for routing, 405 and 404 answers.
const ROUTES: [(&str, Method, Route); 6] = [
    ("/", Method::POST, Route::Seed),
    ("/v1/schedule", Method::POST, Route::Schedule),
    ("/v1/predict", Method::POST, Route::Predict),
    ("/v1/frontier", Method::GET, Route::Frontier),
    ("/v1/workflows", Method::GET, Route::Workflows),
    ("/healthz", Method::GET, Route::Health),
];

impl Route {
    /// The route of `(method, path)`: `not_found` for an unknown path,
    /// `method_not_allowed` for a known path with another method (`HEAD`
    /// is served as `GET`).
    ///
    /// # Errors
    /// As described.
    pub fn of(method: &Method, path: &str) -> Result<Route, ApiError> {
        let Some((_, want, route)) = ROUTES.iter().find(|(p, _, _)| *p == path) else {
            let paths: Vec<String> = ROUTES.iter().map(|(p, m, _)| format!("{m} {p}")).collect();
            return Err(ApiError::new(
                ErrorKind::NotFound,
                format!(
                    "no endpoint at '{}'; the endpoints are {}",
                    truncate(path, 200),
                    paths.join(", ")
                ),
            ));
        };
        if method == want || (*want == Method::GET && method == Method::HEAD) {
            Ok(*route)
        } else {
            Err(ApiError::new(
                ErrorKind::MethodNotAllowed,
                format!(
                    "{path} accepts {want}, not {}",
                    truncate(method.as_str(), 20)
                ),
            ))
        }
    }

    /// Whether the route reads a body.
    #[must_use]
    pub fn has_body(self) -> bool {
        matches!(self, Route::Seed | Route::Schedule | Route::Predict)
    }

    /// Whether the route may compute (and so runs on the blocking pool).
    #[must_use]
    pub fn computes(self) -> bool {
        !matches!(self, Route::Workflows | Route::Health)
    }

    /// The method the route's path accepts, for the `Allow` header.
    #[must_use]
    pub fn allow(path: &str) -> Option<&'static str> {
        ROUTES.iter().find(|(p, _, _)| *p == path).map(|(_, m, _)| {
            if *m == Method::GET {
                "GET, HEAD"
            } else {
                "POST"
            }
        })
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn json_response(status: u16, mut body: String) -> Response<Full<Bytes>> {
    body.push('\n');
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    resp.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// The response for an error: its status and error JSON (with `Allow` for
/// 405).
#[must_use]
pub fn error_response(e: &ApiError, path: &str) -> Response<Full<Bytes>> {
    let mut resp = json_response(e.status(), e.to_json());
    if e.kind == ErrorKind::MethodNotAllowed {
        if let Some(allow) = Route::allow(path) {
            resp.headers_mut()
                .insert(ALLOW, HeaderValue::from_static(allow));
        }
    }
    resp
}

/// Parses a body as JSON, whatever its content type (curl `-d` sends
/// `application/x-www-form-urlencoded`). serde_json's nesting limit (128)
/// turns deeply nested input into an error, not a stack overflow.
///
/// # Errors
/// `malformed_json`.
pub fn parse_body(body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorKind::MalformedJson,
            r#"request body is empty; send a JSON object such as {"workflow": "finra50", "SLO": 348}"#,
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            ErrorKind::MalformedJson,
            format!("request body is not valid JSON: {e}"),
        )
    })
}

fn decode_component(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Parses the query of `GET /v1/frontier`: `workflow` (required) and
/// `max_wraps` (optional).
fn frontier_query(query: Option<&str>) -> Result<(String, Option<usize>), ApiError> {
    let bad = |m: String| ApiError::new(ErrorKind::InvalidField, m);
    let mut workflow = None;
    let mut max_wraps = None;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (Some(k), Some(v)) = (decode_component(k), decode_component(v)) else {
            return Err(bad(
                "the query string is not valid percent-encoded UTF-8".into()
            ));
        };
        let slot = match k.as_str() {
            "workflow" => &mut workflow,
            "max_wraps" => &mut max_wraps,
            other => {
                return Err(bad(format!(
                    "unknown query parameter '{}'; the parameters are 'workflow', 'max_wraps'",
                    truncate(other, 100)
                )))
            }
        };
        if slot.replace(v).is_some() {
            return Err(bad(format!("query parameter '{k}' is given twice")));
        }
    }
    let workflow = workflow.ok_or_else(|| {
        bad(
            "missing query parameter 'workflow' (GET /v1/frontier?workflow=finra50&max_wraps=10)"
                .into(),
        )
    })?;
    let max_wraps = match max_wraps {
        None => None,
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                return Err(bad(format!(
                    "query parameter 'max_wraps' must be a positive integer, got '{}'",
                    truncate(&s, 100)
                )))
            }
        },
    };
    Ok((workflow, max_wraps))
}

fn answer(route: Route, req: &Request<Bytes>, api: &Api) -> Result<String, ApiError> {
    match route {
        Route::Health => Ok(r#"{"status":"ok"}"#.to_owned()),
        Route::Workflows => to_json(&api.workflow_list()),
        Route::Frontier => {
            let (workflow, max_wraps) = frontier_query(req.uri().query())?;
            to_json(&api.frontier(&workflow, max_wraps)?)
        }
        Route::Seed => api.seed(&parse_body(req.body())?),
        Route::Schedule => {
            let r = api.parse_schedule(&parse_body(req.body())?)?;
            to_json(&api.schedule(&r)?)
        }
        Route::Predict => {
            let r = api.parse_predict(&parse_body(req.body())?)?;
            to_json(&api.predict(&r)?)
        }
    }
}

/// Answers one request whose body has been read: routes by `(method,
/// path)` and runs the operation on the calling thread. Pure but for the
/// caches in `state`; never panics on any input.
#[must_use]
pub fn handle(req: Request<Bytes>, state: &State) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let result = Route::of(req.method(), &path).and_then(|route| answer(route, &req, &state.api));
    match result {
        Ok(body) => json_response(200, body),
        Err(e) => error_response(&e, &path),
    }
}

/// Reads the body of `req` within the body limit and the request timeout.
async fn read_body(req: Request<Incoming>, config: &Config) -> Result<Request<Bytes>, ApiError> {
    let too_large = || {
        ApiError::new(
            ErrorKind::BodyTooLarge,
            format!(
                "request body is over the limit of {} bytes (--max-body)",
                config.max_body
            ),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > config.max_body as u64) {
        return Err(too_large());
    }
    let (parts, body) = req.into_parts();
    let collected = tokio::time::timeout(
        config.request_timeout,
        Limited::new(body, config.max_body).collect(),
    )
    .await
    .map_err(|_| {
        ApiError::new(
            ErrorKind::RequestTimeout,
            format!(
                "the request body did not arrive within {} s",
                config.request_timeout.as_secs_f64()
            ),
        )
    })?;
    match collected {
        Ok(c) => Ok(Request::from_parts(parts, c.to_bytes())),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(too_large()),
        Err(e) => Err(ApiError::new(
            ErrorKind::MalformedJson,
            format!("could not read the request body: {e}"),
        )),
    }
}

/// Serves one request: routes it, reads its body, runs it (on the blocking
/// pool, within the concurrency bound, when it computes) and logs a line.
async fn serve(req: Request<Incoming>, state: Arc<State>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let route = match Route::of(req.method(), &path) {
        Ok(r) => r,
        Err(e) => return error_response(&e, &path),
    };
    let req = if route.has_body() {
        match read_body(req, &state.config).await {
            Ok(r) => r,
            Err(e) => return error_response(&e, &path),
        }
    } else {
        let (parts, _) = req.into_parts();
        Request::from_parts(parts, Bytes::new())
    };
    if !route.computes() {
        return handle(req, &state);
    }
    let Ok(permit) = Arc::clone(&state.compute).acquire_owned().await else {
        return error_response(&ApiError::internal("compute semaphore closed"), &path);
    };
    let shared = Arc::clone(&state);
    let task = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        handle(req, &shared)
    });
    match task.await {
        Ok(resp) => resp,
        Err(e) => error_response(&ApiError::internal(e), &path),
    }
}

async fn serve_logged(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let start = Instant::now();
    let method = req.method().clone();
    let path = truncate(req.uri().path(), 200).to_owned();
    let resp = serve(req, state).await;
    tracing::info!(
        "{method} {path} {} {:.3}ms",
        resp.status().as_u16(),
        start.elapsed().as_secs_f64() * 1e3
    );
    Ok(resp)
}

/// Resolves once the stop flag is set.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

async fn connection(
    stream: tokio::net::TcpStream,
    state: Arc<State>,
    mut stop: watch::Receiver<bool>,
) {
    let timeout = state.config.request_timeout;
    let service = service_fn(move |req| serve_logged(req, Arc::clone(&state)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        res = conn.as_mut() => {
            if let Err(e) = res {
                tracing::debug!("connection error: {e}");
            }
        }
        () = stopped(&mut stop) => {
            conn.as_mut().graceful_shutdown();
            if let Err(e) = conn.await {
                tracing::debug!("connection error: {e}");
            }
        }
    }
}

/// Serves `state` on `listener` until `shutdown` resolves; then stops
/// accepting, lets in-flight requests finish (at most
/// [`Config::shutdown_grace`]) and returns.
///
/// # Errors
/// None so far: accept errors (such as running out of file descriptors)
/// are logged and retried.
pub async fn run(
    listener: TcpListener,
    state: Arc<State>,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let slots = Arc::new(Semaphore::new(state.config.max_connections.max(1)));
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            s = Arc::clone(&slots).acquire_owned() => s,
            () = &mut shutdown => break,
        };
        let Ok(slot) = slot else { break };
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, _peer)) => {
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                let stop = stop_rx.clone();
                connections.spawn(async move {
                    let _slot = slot;
                    connection(stream, state, stop).await;
                });
            }
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    drop(listener);
    let open = connections.len();
    tracing::info!("shutting down: finishing {open} open connection(s)");
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(state.config.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "{} connection(s) still open after {} s; closing them",
            connections.len(),
            state.config.shutdown_grace.as_secs_f64()
        );
        connections.shutdown().await;
    }
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM (on other platforms: Ctrl-C only).
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("signal received");
}

/// Binds `addr` and serves until SIGINT or SIGTERM: what `wrap-server
/// serve` does. Logs the bound address (`listening on http://...`).
///
/// # Errors
/// The address cannot be bound.
pub async fn serve_until_signal(addr: SocketAddr, state: Arc<State>) -> std::io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(
        "listening on http://{local} ({} workflows, {} function profiles)",
        state.api.workflows().len(),
        state.api.scheduler().model().profile_set().profiles().len()
    );
    run(listener, state, shutdown_signal()).await
}
