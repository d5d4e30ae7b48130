//! The `wrap-server` binary as a user runs it: the offline subcommands with
//! their outputs and exit codes, `predict` against the published vectors,
//! and the end-to-end path of the README — profile two tiny programs,
//! write a workflow, schedule it by CLI and over HTTP with the profiles
//! inline — ending with SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{json, Value};
use wrap_model::{Plan, Workflow};

const BIN: &str = env!("CARGO_BIN_EXE_wrap-server");

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout_json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Asserts a failure: exit `code`, the error JSON of `kind` on stdout and
/// one line on stderr.
fn assert_failure(o: &Output, code: i32, kind: &str) -> Value {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let v = stdout_json(o);
    assert_eq!(v["error"]["kind"], kind, "{v}");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(stderr.trim_end().lines().count(), 1, "stderr: {stderr}");
    assert!(stderr.starts_with("wrap-server: "), "stderr: {stderr}");
    v
}

fn builtin(name: &str) -> &'static Workflow {
    &wrap_server::builtin::catalog().workflows[name]
}

#[test]
fn predict_prints_the_published_vector_latencies() {
    let text = std::fs::read_to_string(shared().join("reference/vectors/mpk-l.json")).unwrap();
    let vectors: Value = serde_json::from_str(&text).unwrap();
    let plans = vectors["plans"].as_array().unwrap();
    assert!(plans.len() >= 100);
    for (i, case) in plans.iter().enumerate() {
        let request = json!({
            "workflow": case["workflow"],
            "wraps": case["wraps"],
            "first_wrap_invokes_remote": case["first_wrap_invokes_remote"],
        });
        let o = run_stdin(&["predict", "--plan", "-"], request.to_string().as_bytes());
        assert_eq!(o.status.code(), Some(0), "plan {i}");
        let got = stdout_json(&o)["latency_ms"].as_f64().unwrap();
        let want = case["latency_ms"].as_f64().unwrap();
        assert!(
            ((got - want) / want).abs() <= 1e-9,
            "plan {i}: predicted {got}, published {want}"
        );
    }
}

#[test]
fn predict_reads_a_file_and_refuses_invalid_plans_with_exit_2() {
    let dir = tempdir("predict");
    let file = dir.join("plan.json");
    let mut plan = Plan::single_wrap(builtin("finra5"));
    std::fs::write(
        &file,
        json!({"workflow": "finra5", "wraps": plan}).to_string(),
    )
    .unwrap();
    let o = run(&["predict", "--plan", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let v = stdout_json(&o);
    assert_eq!(v["wrap_count"], 1);
    assert_eq!(v["stages"].as_array().unwrap().len(), 2);

    plan.stages[0][0].push("marketdata".into());
    std::fs::write(
        &file,
        json!({"workflow": "finra5", "wraps": plan}).to_string(),
    )
    .unwrap();
    let v = assert_failure(
        &run(&["predict", "--plan", file.to_str().unwrap()]),
        2,
        "invalid_plan",
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("more than once"));

    std::fs::write(&file, "{not json").unwrap();
    assert_failure(
        &run(&["predict", "--plan", file.to_str().unwrap()]),
        2,
        "malformed_json",
    );
    assert_failure(
        &run(&[
            "predict",
            "--plan",
            dir.join("missing.json").to_str().unwrap(),
        ]),
        2,
        "unreadable_file",
    );
}

#[test]
fn schedule_prints_the_result_or_exits_2_or_3() {
    let o = run(&["schedule", "--workflow", "finra50", "--slo", "348"]);
    assert_eq!(o.status.code(), Some(0));
    let v = stdout_json(&o);
    // The fields of json.md's schedule result, in that order on the wire.
    let text = String::from_utf8_lossy(&o.stdout);
    let at = |key: &str| text.find(&format!("\"{key}\":")).unwrap();
    let order = [
        "workflow",
        "strategy",
        "slo_ms",
        "latency_ms",
        "wrap_count",
        "wraps",
    ];
    assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{text}");
    assert_eq!(v.as_object().unwrap().len(), order.len());
    assert_eq!(v["strategy"], "default");
    assert_eq!(v["wrap_count"], 5);
    let plan: Plan = serde_json::from_value(v["wraps"].clone()).unwrap();
    plan.validate(builtin("finra50")).unwrap();

    let o = run(&[
        "schedule",
        "--workflow",
        "finra50",
        "--slo",
        "348",
        "--strategy",
        "chiron-kl",
    ]);
    assert_eq!(stdout_json(&o)["wrap_count"], 6);

    // Unreachable: exit 3, with the best plan.
    let v = assert_failure(
        &run(&["schedule", "--workflow", "finra50", "--slo", "1"]),
        3,
        "slo_unreachable",
    );
    let best: Plan = serde_json::from_value(v["error"]["best"]["wraps"].clone()).unwrap();
    best.validate(builtin("finra50")).unwrap();

    // Bad input: exit 2.
    let v = assert_failure(
        &run(&["schedule", "--workflow", "finra7", "--slo", "348"]),
        2,
        "unknown_workflow",
    );
    assert!(v["error"]["message"].as_str().unwrap().contains("finra50"));
    assert_failure(
        &run(&["schedule", "--workflow", "finra50", "--slo", "-5"]),
        2,
        "invalid_slo",
    );
    let v = assert_failure(&run(&["schedule", "--workflow", "finra50"]), 2, "usage");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("--slo"),
        "{v}"
    );
    assert_failure(
        &run(&["schedule", "--workflow", "finra50", "--slo", "soon"]),
        2,
        "usage",
    );
    assert_failure(
        &run(&[
            "schedule",
            "--workflow",
            "finra5",
            "--slo",
            "348",
            "--profiles",
            "/nonexistent",
        ]),
        2,
        "invalid_profiles",
    );
}

#[test]
fn frontier_lists_every_cap_and_never_rises() {
    let o = run(&["frontier", "--workflow", "finra50", "--max-wraps", "8"]);
    assert_eq!(o.status.code(), Some(0));
    let v = stdout_json(&o);
    assert_eq!(v["workflow"], "finra50");
    let entries = v["frontier"].as_array().unwrap();
    assert_eq!(entries.len(), 8);
    let mut last = f64::INFINITY;
    for (i, e) in entries.iter().enumerate() {
        assert_eq!(e["max_wraps"], i + 1);
        let latency = e["latency_ms"].as_f64().unwrap();
        assert!(latency <= last, "cap {}: {latency} > {last}", i + 1);
        last = latency;
    }
    // Capped by the largest stage.
    let v = stdout_json(&run(&[
        "frontier",
        "--workflow",
        "finra5",
        "--max-wraps",
        "50",
    ]));
    assert_eq!(v["frontier"].as_array().unwrap().len(), 5);
}

fn tempdir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("wrap-server-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether tests that need strace (and python3) must run rather than skip:
/// in CI, or with `WRAP_TEST_FORCE_STRACE=1` as `.ci/run` sets it.
fn must_trace() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("WRAP_TEST_FORCE_STRACE").is_some()
}

fn strace_present() -> bool {
    Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A running `wrap-server` binary, killed with SIGTERM on drop.
struct Served {
    child: std::process::Child,
    addr: String,
    log: BufReader<std::process::ChildStderr>,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = Command::new(BIN)
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut log = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let addr = loop {
            line.clear();
            assert!(log.read_line(&mut line).unwrap() > 0, "server exited");
            if let Some(rest) = line.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        Served { child, addr, log }
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        let body = body.to_string();
        write!(
            s,
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).unwrap();
        let status = raw.split(' ').nth(1).unwrap().parse().unwrap();
        let body = raw.split_once("\r\n\r\n").unwrap().1;
        (status, serde_json::from_str(body).unwrap())
    }

    /// SIGTERM; returns the exit status and the rest of the log.
    fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.wait().unwrap();
        let mut rest = String::new();
        self.log.read_to_string(&mut rest).unwrap();
        (status, rest)
    }
}

#[test]
fn end_to_end_profile_two_programs_then_schedule_by_cli_and_http() {
    if !strace_present() {
        assert!(
            !must_trace(),
            "strace is required in CI (.ci/run installs it)"
        );
        eprintln!("skipped: strace is not installed (apt-get install strace)");
        return;
    }
    let dir = tempdir("e2e");
    let profiles = dir.join("my-profiles");
    let profiles_arg = profiles.to_str().unwrap();

    // Profile two tiny programs: one that sleeps, one that computes.
    let o = run(&[
        "profile",
        "--type",
        "nap",
        "--runs",
        "3",
        "--out",
        profiles_arg,
        "--",
        "sleep",
        "0.02",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let nap = stdout_json(&o);
    let sleep_block = nap["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["duration_ms"].as_f64().unwrap() >= 19.0)
        .unwrap_or_else(|| panic!("no 20 ms sleep in {nap}"));
    assert_eq!(sleep_block["syscall"], "clock_nanosleep");
    let spin_cmd = "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done";
    let o = run(&[
        "profile",
        "--type",
        "spin",
        "--runs",
        "3",
        "--out",
        profiles_arg,
        "--",
        "sh",
        "-c",
        spin_cmd,
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let spin = stdout_json(&o);
    assert!(spin["exec_ms"].as_f64().unwrap() > 0.0);

    // An existing type is replaced only with --force.
    let o = run(&[
        "profile",
        "--type",
        "nap",
        "--runs",
        "1",
        "--out",
        profiles_arg,
        "--",
        "sleep",
        "0.01",
    ]);
    let v = assert_failure(&o, 2, "profile_directory");
    assert!(v["error"]["message"].as_str().unwrap().contains("--force"));
    // A failing command is an error too.
    assert_failure(
        &run(&[
            "profile", "--type", "bad", "--runs", "1", "--", "sh", "-c", "exit 3",
        ]),
        2,
        "profile_failed",
    );

    // A two-stage workflow in the States Language that uses them.
    let workflow = json!({"StartAt": "Fan", "States": {
        "Fan": {"Type": "Parallel", "Next": "Join", "Branches": [
            {"StartAt": "nap1", "States": {"nap1": {"Type": "Task", "Resource": "nap", "End": true}}},
            {"StartAt": "nap2", "States": {"nap2": {"Type": "Task", "Resource": "nap", "End": true}}},
            {"StartAt": "spin1", "States": {"spin1": {"Type": "Task", "Resource": "spin", "End": true}}}]},
        "Join": {"Type": "Task", "Resource": "spin", "End": true}}});
    std::fs::create_dir_all(profiles.join("workflows")).unwrap();
    std::fs::write(
        profiles.join("workflows/pipeline.json"),
        serde_json::to_string_pretty(&workflow).unwrap(),
    )
    .unwrap();
    let parsed = Workflow::from_json("pipeline", &workflow).unwrap();

    // By CLI.
    let o = run(&[
        "schedule",
        "--profiles",
        profiles_arg,
        "--workflow",
        "pipeline",
        "--slo",
        "2000",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let by_cli = stdout_json(&o);
    let plan: Plan = serde_json::from_value(by_cli["wraps"].clone()).unwrap();
    plan.validate(&parsed).unwrap();
    assert_eq!(by_cli["wrap_count"], 1, "a loose SLO fits on one CPU");

    // Over HTTP, with the profiles inline, against the built-in server.
    let served = Served::start(&[]);
    let (status, by_http) = served.post(
        "/v1/schedule",
        &json!({"workflow": workflow, "SLO": 2000, "profiles": {"nap": nap, "spin": spin}}),
    );
    assert_eq!(status, 200, "{by_http}");
    assert_eq!(by_http["wraps"], by_cli["wraps"]);
    assert_eq!(by_http["latency_ms"], by_cli["latency_ms"]);
    // The built-in workflows are still served beside inline ones.
    let (status, named) = served.post("/", &json!({"workflow": "finra50", "SLO": 348}));
    assert_eq!(status, 200, "{named}");
    let (status, log) = served.terminate();
    assert!(status.success(), "{status}: {log}");
    assert!(log.contains("POST /v1/schedule 200"), "{log}");
    assert!(log.contains("stopped"), "{log}");

    let served = Served::start(&["--profiles", profiles_arg]);
    let (status, v) = served.post("/", &json!({"workflow": "pipeline", "SLO": 2000}));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["wraps"], by_cli["wraps"]);
    served.terminate();
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn profile_of_a_python_sleep_finds_the_20_ms_sleep_and_names_the_type() {
    let python = Command::new("python3").arg("-V").output();
    if !strace_present() || !python.is_ok_and(|o| o.status.success()) {
        assert!(!must_trace(), "strace and python3 are required in CI");
        eprintln!("skipped: needs strace and python3");
        return;
    }
    // The command, verbatim but for fewer runs: no --type needed.
    let o = run(&[
        "profile",
        "--runs",
        "2",
        "--",
        "python3",
        "-c",
        "import time; time.sleep(0.02)",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let p = stdout_json(&o);
    let sleeps: Vec<&Value> = p["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["syscall"] == "clock_nanosleep")
        .collect();
    assert_eq!(sleeps.len(), 1, "{sleeps:?}");
    let d = sleeps[0]["duration_ms"].as_f64().unwrap();
    // At least the 20 ms asked for; a loaded machine may wake it late.
    assert!((19.5..250.0).contains(&d), "sleep of {d} ms");
    assert_eq!(p["provenance"]["command"][0], "python3");

    // With --out and no --type, the type is the command's name.
    let dir = tempdir("python-type");
    let o = run(&[
        "profile",
        "--runs",
        "1",
        "--out",
        dir.to_str().unwrap(),
        "--",
        "sleep",
        "0.01",
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(dir.join("functions/sleep.json").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_refuses_a_profile_directory_it_cannot_load() {
    let o = Command::new(BIN)
        .args([
            "--profiles",
            "/nonexistent-profiles",
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("/nonexistent-profiles"));
}
