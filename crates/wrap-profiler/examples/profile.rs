//! Profiles a command live and prints its profile, as the CLI will:
//! `cargo run -p wrap-profiler --example profile -- [--runs N] [--chiron] CMD [ARGS...]`.
//! The profile goes to stdout, the parse statistics to stderr.

use std::process::ExitCode;

use wrap_profiler::{chiron_csv, profile_command, LiveOptions};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = LiveOptions::default();
    let mut chiron = false;
    loop {
        match args.first().map(String::as_str) {
            Some("--runs") if args.len() > 1 => {
                opts.runs = args[1].parse().unwrap_or(5);
                args.drain(..2);
            }
            Some("--chiron") => {
                chiron = true;
                args.remove(0);
            }
            Some("--") => {
                args.remove(0);
                break;
            }
            _ => break,
        }
    }
    match profile_command(&args, &opts) {
        Ok(live) => {
            if chiron {
                print!(
                    "{}",
                    chiron_csv(&live.profile, live.trace.root_pid.unwrap_or(0))
                );
            } else {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&live.profile).unwrap_or_default()
                );
            }
            eprintln!("{}", live.trace.stats);
            eprintln!(
                "traced latencies {:?} ms, median run {}, scale {}, seccomp-bpf {}",
                live.traced_latencies_ms, live.median_run, live.scale, live.seccomp_bpf
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
