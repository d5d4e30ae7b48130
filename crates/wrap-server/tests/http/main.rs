//! The HTTP service over real TCP on an ephemeral loopback port: the seed
//! request as curl sends it, every error class, 200 concurrent requests,
//! memo reuse, timeouts and graceful shutdown with a request in flight.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{json, Value};
use wrap_model::{Plan, Workflow};
use wrap_server::http::{run, Config, State};

/// A server on `127.0.0.1:0`, run on its own runtime in a thread, stopped
/// by [`Server::stop`] (or on drop).
struct Server {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Server {
    fn start(config: Config) -> Server {
        let state = Arc::new(State::new(wrap_server::builtin::catalog().clone(), config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let shared = Arc::clone(&state);
        let thread = std::thread::spawn(move || {
            runtime.block_on(run(listener, shared, async {
                let _ = rx.await;
            }))
        });
        Server {
            addr,
            state,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    fn default() -> Server {
        Server::start(Config::default())
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        s
    }

    /// One request on a fresh connection (`Connection: close`).
    fn send(&self, method: &str, path: &str, content_type: &str, body: &[u8]) -> Answer {
        let mut s = self.connect();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\nConnection: close\r\n"
        );
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        read_answer(&mut s)
    }

    /// A POST as `curl -d` sends it (form-urlencoded content type).
    fn curl_d(&self, path: &str, body: &str) -> Answer {
        self.send(
            "POST",
            path,
            "application/x-www-form-urlencoded",
            body.as_bytes(),
        )
    }

    fn post_json(&self, path: &str, body: &Value) -> Answer {
        self.send(
            "POST",
            path,
            "application/json",
            body.to_string().as_bytes(),
        )
    }

    fn get(&self, path: &str) -> Answer {
        self.send("GET", path, "", b"")
    }

    fn simulations(&self) -> u64 {
        self.state.api().scheduler().model().simulations()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A response: status, headers (lower-case names) and body.
#[derive(Debug, Clone, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Asserts an error answer of `status` and `kind` whose message
    /// contains every one of `words`.
    fn assert_error(&self, status: u16, kind: &str, words: &[&str]) {
        assert_eq!(self.status, status, "{}", self.body);
        let v = self.json();
        assert_eq!(v["error"]["kind"], kind, "{}", self.body);
        let message = v["error"]["message"].as_str().unwrap();
        for w in words {
            assert!(message.contains(w), "message {message:?} lacks {w:?}");
        }
    }
}

fn read_answer(s: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    parse_answer(&raw)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let text = String::from_utf8(raw.to_vec()).unwrap();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {text:?}"));
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn workflow(name: &str) -> &'static Workflow {
    &wrap_server::builtin::catalog().workflows[name]
}

fn plan_of(v: &Value) -> Plan {
    serde_json::from_value(v.clone()).unwrap()
}

#[test]
fn the_seed_curl_works_verbatim_and_answers_only_workflow_and_wraps() {
    let server = Server::default();
    // The seed document's example: curl -d sends a form content type.
    let a = server.curl_d("/", r#"{"workflow": "finra50", "SLO": 348}"#);
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.header("content-type"), Some("application/json"));
    let v = a.json();
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["workflow", "wraps"]);
    assert_eq!(v["workflow"], "finra50");
    let plan = plan_of(&v["wraps"]);
    plan.validate(workflow("finra50")).unwrap();
    // The default strategy: fewer wraps than the published 6.
    assert_eq!(plan.wrap_count(), 5);
    // Its predicted latency meets the SLO.
    let p = server.post_json(
        "/v1/predict",
        &json!({"workflow": "finra50", "wraps": v["wraps"]}),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(p.json()["latency_ms"].as_f64().unwrap() <= 348.0);
    // The same request again gives the same bytes.
    let again = server.curl_d("/", r#"{"workflow": "finra50", "SLO": 348}"#);
    assert_eq!(again.body, a.body);
}

#[test]
fn v1_endpoints_answer_the_shapes_of_json_md() {
    let server = Server::default();
    let h = server.get("/healthz");
    assert_eq!((h.status, h.json()), (200, json!({"status": "ok"})));

    let w = server.get("/v1/workflows");
    assert_eq!(w.status, 200);
    let list = w.json();
    let finra50 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "finra50")
        .unwrap();
    assert_eq!(finra50["stages"], json!([50, 1]));
    assert_eq!(list.as_array().unwrap().len(), 8);

    let s = server.post_json(
        "/v1/schedule",
        &json!({"workflow": "finra50", "SLO": 348, "strategy": "chiron-kl"}),
    );
    assert_eq!(s.status, 200, "{}", s.body);
    let s = s.json();
    assert_eq!(s["strategy"], "chiron-kl");
    assert_eq!(s["slo_ms"], 348.0);
    assert_eq!(s["wrap_count"], 6);
    assert!(s["latency_ms"].as_f64().unwrap() <= 348.0);
    plan_of(&s["wraps"]).validate(workflow("finra50")).unwrap();

    let p = server.post_json(
        "/v1/predict",
        &json!({"workflow": "finra50", "wraps": s["wraps"], "first_wrap_invokes_remote": true}),
    );
    assert_eq!(p.status, 200, "{}", p.body);
    let p = p.json();
    // The predicted latency is the schedule's, and the sum of its stages.
    let latency = p["latency_ms"].as_f64().unwrap();
    assert!((latency - s["latency_ms"].as_f64().unwrap()).abs() <= 1e-9 * latency);
    let stages: f64 = p["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["latency_ms"].as_f64().unwrap())
        .sum();
    assert!((stages - latency).abs() <= 1e-9 * latency);
    assert_eq!(p["wrap_count"], 6);

    let f = server.get("/v1/frontier?workflow=finra50&max_wraps=6");
    assert_eq!(f.status, 200, "{}", f.body);
    let f = f.json();
    let entries = f["frontier"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["max_wraps"], i + 1);
        assert!(e["wrap_count"].as_u64().unwrap() as usize <= i + 1);
        plan_of(&e["wraps"]).validate(workflow("finra50")).unwrap();
    }
}

/// A States Language workflow of `n` parallel `lastpx` instances and one
/// `margin-balance`, with `extra` spliced into the first state.
fn inline_workflow(n: usize) -> Value {
    let branches: Vec<Value> = (0..n)
        .map(|i| {
            let name = format!("px{i}");
            json!({"StartAt": name, "States": {name.clone(): {"Type": "Task", "Resource": "lastpx", "End": true}}})
        })
        .collect();
    json!({
        "StartAt": "Fan",
        "States": {
            "Fan": {"Type": "Parallel", "Next": "Join", "Branches": branches},
            "Join": {"Type": "Task", "Resource": "margin-balance", "End": true}
        }
    })
}

#[test]
fn every_error_class_gets_its_status_and_names_what_is_wrong() {
    let server = Server::default();
    let seed = |body: &str| server.curl_d("/", body);

    // 400: malformed JSON, empty bodies, non-objects, deep nesting.
    seed(r#"{"workflow": "finra50", "SLO": 348"#).assert_error(400, "malformed_json", &["JSON"]);
    seed("").assert_error(400, "malformed_json", &["empty"]);
    seed("  \n").assert_error(400, "malformed_json", &["empty"]);
    seed("[1, 2]").assert_error(400, "malformed_json", &["object"]);
    seed(r#"{"workflow": "finra50", "SLO": NaN}"#).assert_error(400, "malformed_json", &[]);
    let deep = "[".repeat(100_000);
    seed(&deep).assert_error(400, "malformed_json", &[]);
    let deep_object = format!(
        r#"{{"workflow": "finra50", "SLO": 348, "x": {}{}}}"#,
        "[".repeat(5000),
        "]".repeat(5000)
    );
    seed(&deep_object).assert_error(400, "malformed_json", &[]);

    // 400: wrong field types and missing fields, naming the field.
    seed(r#"{"workflow": 50, "SLO": 348}"#).assert_error(400, "invalid_field", &["'workflow'"]);
    seed(r#"{"workflow": "finra50", "SLO": "fast"}"#).assert_error(
        400,
        "invalid_field",
        &["'SLO'", "a string"],
    );
    seed(r#"{"workflow": "finra50", "SLO": null}"#).assert_error(400, "invalid_field", &["'SLO'"]);
    seed(r#"{"workflow": "finra50"}"#).assert_error(400, "invalid_field", &["'SLO'"]);
    server
        .post_json("/v1/schedule", &json!({"workflow": "finra50", "slo": 348}))
        .assert_error(400, "invalid_field", &["'slo'"]);
    server
        .post_json(
            "/v1/schedule",
            &json!({"workflow": "finra50", "SLO": 348, "strategy": "greedy"}),
        )
        .assert_error(400, "invalid_field", &["'strategy'"]);
    server
        .post_json(
            "/v1/schedule",
            &json!({"workflow": "finra50", "SLO": 348, "max_wraps": 0}),
        )
        .assert_error(400, "invalid_field", &["'max_wraps'"]);
    server
        .post_json(
            "/v1/predict",
            &json!({"workflow": "finra50", "wraps": "all in one"}),
        )
        .assert_error(400, "invalid_field", &["'wraps'"]);
    server
        .get("/v1/frontier?workflow=finra50&max_wraps=many")
        .assert_error(400, "invalid_field", &["'max_wraps'"]);
    server
        .get("/v1/frontier")
        .assert_error(400, "invalid_field", &["'workflow'"]);

    // 404: unknown workflow (listing the known ones), unknown path.
    seed(r#"{"workflow": "finra7", "SLO": 348}"#).assert_error(
        404,
        "unknown_workflow",
        &["'finra7'", "finra50", "finra200", "SLApp-V"],
    );
    server.get("/v1/frontier?workflow=nope").assert_error(
        404,
        "unknown_workflow",
        &["'nope'", "finra50"],
    );
    server.get("/v2/schedule").assert_error(
        404,
        "not_found",
        &["/v2/schedule", "POST /v1/schedule"],
    );

    // 405 with Allow.
    let a = server.get("/");
    a.assert_error(405, "method_not_allowed", &["POST"]);
    assert_eq!(a.header("allow"), Some("POST"));
    let a = server.send("DELETE", "/v1/workflows", "", b"");
    a.assert_error(405, "method_not_allowed", &["GET"]);
    assert_eq!(a.header("allow"), Some("GET, HEAD"));

    // 422: SLOs out of range.
    for slo in ["0", "-1", "3600000.5", "1e300"] {
        seed(&format!(r#"{{"workflow": "finra50", "SLO": {slo}}}"#)).assert_error(
            422,
            "invalid_slo",
            &["'SLO'"],
        );
    }
    // The bounds themselves: an hour is allowed.
    assert_eq!(
        seed(r#"{"workflow": "finra5", "SLO": 3600000}"#).status,
        200
    );

    // 422: an invalid plan, naming the instance.
    let mut plan = Plan::single_wrap(workflow("finra5"));
    let dropped = plan.stages[0][0].pop().unwrap();
    server
        .post_json("/v1/predict", &json!({"workflow": "finra5", "wraps": plan}))
        .assert_error(
            422,
            "invalid_plan",
            &["'wraps'", &format!("'{dropped}'"), "missing"],
        );

    // 422: an unsupported workflow, naming the state.
    let mut choice = inline_workflow(2);
    choice["States"]["Join"] = json!({"Type": "Choice", "Choices": [], "Default": "Fan"});
    server
        .post_json("/v1/schedule", &json!({"workflow": choice, "SLO": 500}))
        .assert_error(422, "invalid_workflow", &["'workflow'", "Join", "Choice"]);

    // 422: a function type no profile describes.
    let mut unknown = inline_workflow(2);
    unknown["States"]["Join"]["Resource"] = json!("no-such-function");
    server
        .post_json("/v1/schedule", &json!({"workflow": unknown, "SLO": 500}))
        .assert_error(422, "unknown_function", &["no-such-function"]);

    // 422: an unreachable SLO, with the best plan found.
    let a = server.post_json("/v1/schedule", &json!({"workflow": "finra50", "SLO": 1}));
    a.assert_error(422, "slo_unreachable", &["finra50", "1 ms"]);
    let best = &a.json()["error"]["best"];
    assert!(best["latency_ms"].as_f64().unwrap() > 1.0);
    let best_plan = plan_of(&best["wraps"]);
    best_plan.validate(workflow("finra50")).unwrap();
    assert_eq!(best["wrap_count"], best_plan.wrap_count());
    // The seed endpoint answers the same error.
    seed(r#"{"workflow": "finra50", "SLO": 1}"#).assert_error(422, "slo_unreachable", &[]);

    // 422: over the documented work limits.
    let limit = server.state.config().limits.max_instances;
    server
        .post_json(
            "/v1/schedule",
            &json!({"workflow": inline_workflow(limit + 1), "SLO": 500}),
        )
        .assert_error(422, "limit_exceeded", &["'workflow'", &limit.to_string()]);
    server
        .post_json(
            "/v1/schedule",
            &json!({"workflow": "finra200", "SLO": 500, "max_wraps": 150}),
        )
        .assert_error(422, "limit_exceeded", &["'max_wraps'"]);

    // 413: a declared body over the limit is refused before it is read.
    let mut s = server.connect();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        wrap_server::http::DEFAULT_MAX_BODY + 1
    )
    .unwrap();
    read_answer(&mut s).assert_error(413, "body_too_large", &["1048576"]);

    // Nothing above hurt the server.
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn a_chunked_body_over_a_configured_limit_is_413() {
    let server = Server::start(Config {
        max_body: 64,
        ..Config::default()
    });
    let body = format!(
        r#"{{"workflow": "finra50", "SLO": 348, "pad": "{}"}}"#,
        "x".repeat(100)
    );
    let mut s = server.connect();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    )
    .unwrap();
    read_answer(&mut s).assert_error(413, "body_too_large", &["64 bytes"]);
    // Under the limit, the same server answers.
    assert_eq!(
        server
            .curl_d("/", r#"{"workflow":"finra5","SLO":348}"#)
            .status,
        200
    );
}

#[test]
fn a_lower_wrap_limit_also_caps_the_defaults() {
    let server = Server::start(Config {
        limits: wrap_server::api::Limits {
            wrap_limit: 2,
            ..wrap_server::api::Limits::server()
        },
        ..Config::default()
    });
    // The frontier's default length (20) is cut to the limit.
    let f = server.get("/v1/frontier?workflow=finra50");
    assert_eq!(f.status, 200, "{}", f.body);
    assert_eq!(f.json()["frontier"].as_array().unwrap().len(), 2);
    // A schedule that needs more wraps than the limit is unreachable, and
    // says how far it searched.
    server
        .curl_d("/", r#"{"workflow": "finra50", "SLO": 348}"#)
        .assert_error(422, "slo_unreachable", &["up to 2 wraps"]);
    server
        .get("/v1/frontier?workflow=finra50&max_wraps=3")
        .assert_error(422, "limit_exceeded", &["'max_wraps'"]);
}

#[test]
fn a_search_past_the_work_budget_is_refused_quickly_not_run_on() {
    let server = Server::start(Config {
        limits: wrap_server::api::Limits {
            work_budget: 5_000_000,
            ..wrap_server::api::Limits::server()
        },
        ..Config::default()
    });
    // 60 instances of every built-in function type, nothing reachable: both
    // strategies would search far; the budget stops them.
    let types: Vec<String> = wrap_server::builtin::catalog()
        .profiles
        .profiles()
        .keys()
        .cloned()
        .collect();
    let branches: Vec<Value> = (0..60)
        .map(|i| {
            let name = format!("f{i}");
            json!({"StartAt": name, "States": {name.clone(): {"Type": "Task", "Resource": types[i % types.len()], "End": true}}})
        })
        .collect();
    let wf = json!({"StartAt": "Fan", "States": {"Fan": {"Type": "Parallel", "End": true, "Branches": branches}}});
    for strategy in ["default", "chiron-kl"] {
        server
            .post_json(
                "/v1/schedule",
                &json!({"workflow": wf, "SLO": 1, "strategy": strategy}),
            )
            .assert_error(422, "limit_exceeded", &["--work-budget", "'max_wraps'"]);
    }
    // Small searches fit in the same budget.
    let a = server.curl_d("/", r#"{"workflow": "finra5", "SLO": 348}"#);
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn inline_workflows_and_profiles_are_scheduled() {
    let server = Server::default();
    let nap = json!({"exec_ms": 30.0, "trace_latency_ms": 30.0,
        "blocks": [{"start_ms": 2.0, "duration_ms": 25.0, "syscall": "clock_nanosleep"}]});
    let spin = json!({"exec_ms": 20.0, "trace_latency_ms": 20.0, "blocks": []});
    let wf = json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Parallel", "Next": "Join", "Branches": [
            {"StartAt": "nap1", "States": {"nap1": {"Type": "Task", "Resource": "nap", "End": true}}},
            {"StartAt": "nap2", "States": {"nap2": {"Type": "Task", "Resource": "nap", "End": true}}},
            {"StartAt": "spin1", "States": {"spin1": {"Type": "Task", "Resource": "spin", "End": true}}}]},
        "Join": {"Type": "Task", "Resource": "spin", "End": true}}});
    let a = server.post_json(
        "/v1/schedule",
        &json!({"workflow": wf, "SLO": 500, "profiles": {"nap": nap, "spin": spin}}),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    // A loose SLO: everything fits on one CPU.
    assert_eq!(v["wrap_count"], 1);
    let parsed = Workflow::from_json("inline", &wf).unwrap();
    plan_of(&v["wraps"]).validate(&parsed).unwrap();

    // A bad inline profile is refused, naming the type.
    let bad = json!({"exec_ms": -1.0, "trace_latency_ms": 30.0, "blocks": []});
    let a = server.post_json(
        "/v1/schedule",
        &json!({"workflow": wf, "SLO": 500, "profiles": {"nap": bad, "spin": spin}}),
    );
    assert!(matches!(a.status, 400 | 422), "{}", a.body);
    assert!(a.json()["error"]["message"]
        .as_str()
        .unwrap()
        .contains("nap"));
}

#[test]
fn repeated_requests_reuse_the_memo_instead_of_simulating_again() {
    let server = Server::default();
    let body = json!({"workflow": "finra50", "SLO": 348, "strategy": "chiron-kl"});
    let before = server.simulations();
    let first = server.post_json("/v1/schedule", &body);
    let after_first = server.simulations();
    let second = server.post_json("/v1/schedule", &body);
    let after_second = server.simulations();
    assert_eq!(first.status, 200);
    assert_eq!(first.body, second.body);
    assert!(after_first > before, "the first answer simulates");
    assert_eq!(after_second, after_first, "the second answer is all memo");

    // The default strategy answers a repeat from its frontier cache.
    let seed = r#"{"workflow": "finra100", "SLO": 383}"#;
    let a = server.curl_d("/", seed);
    let n = server.simulations();
    let b = server.curl_d("/", seed);
    assert_eq!(a.body, b.body);
    assert_eq!(server.simulations(), n);
}

#[test]
fn two_hundred_concurrent_requests_are_all_answered_correctly() {
    let server = Arc::new(Server::default());
    let requests: Vec<(&str, Value)> = vec![
        ("/", json!({"workflow": "finra50", "SLO": 348})),
        ("/v1/schedule", json!({"workflow": "finra100", "SLO": 383})),
        (
            "/v1/schedule",
            json!({"workflow": "finra50", "SLO": 348, "strategy": "chiron-kl"}),
        ),
        ("/v1/schedule", json!({"workflow": "finra50", "SLO": 1})),
        ("/", json!({"workflow": "nope", "SLO": 348})),
    ];
    // What each request answers alone.
    let expected: Vec<Answer> = requests
        .iter()
        .map(|(path, body)| server.post_json(path, body))
        .collect();
    let threads: Vec<_> = (0..200)
        .map(|i| {
            let server = Arc::clone(&server);
            let (path, body) = requests[i % requests.len()].clone();
            std::thread::spawn(move || (i, server.post_json(path, &body)))
        })
        .collect();
    for t in threads {
        let (i, got) = t.join().unwrap();
        let want = &expected[i % requests.len()];
        assert_eq!(got.status, want.status, "request {i}: {}", got.body);
        assert_eq!(got.body, want.body, "request {i}");
    }
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn keep_alive_connections_serve_several_requests() {
    let server = Server::default();
    let mut s = server.connect();
    let body = r#"{"workflow":"finra5","SLO":348}"#;
    for _ in 0..3 {
        write!(
            s,
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
    }
    write!(
        s,
        "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert_eq!(raw.matches("HTTP/1.1 200 OK").count(), 4, "{raw}");
    assert!(raw.ends_with("{\"status\":\"ok\"}\n"));
}

#[test]
fn a_body_that_never_arrives_times_out_with_408() {
    let server = Server::start(Config {
        request_timeout: Duration::from_millis(300),
        ..Config::default()
    });
    let mut s = server.connect();
    s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"workflow\"")
        .unwrap();
    read_answer(&mut s).assert_error(408, "request_timeout", &[]);
    assert_eq!(server.get("/healthz").status, 200);
}

#[test]
fn shutdown_lets_a_request_in_flight_finish_and_refuses_new_ones() {
    let mut server = Server::default();
    let body = br#"{"workflow": "finra50", "SLO": 348}"#;
    let mut s = server.connect();
    // Headers and half the body: the request is in flight.
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(&body[..10]).unwrap();
    s.flush().unwrap();
    // Make sure the server has the connection: a second connection's full
    // round trip happens after the first was accepted (one listener, in order).
    assert_eq!(server.get("/healthz").status, 200);
    std::thread::sleep(Duration::from_millis(100));
    let stop = server.stop.take().unwrap();
    stop.send(()).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    // The rest of the body arrives after the shutdown began.
    s.write_all(&body[10..]).unwrap();
    let a = read_answer(&mut s);
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.json()["wraps"].is_array());
    // The server returns, and no longer accepts.
    server.thread.take().unwrap().join().unwrap().unwrap();
    assert!(TcpStream::connect(server.addr).is_err());
}
