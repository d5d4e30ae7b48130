//! Profiles an strace log offline and prints the profile, as the CLI will:
//! `cargo run -p wrap-profiler --example offline -- LOG START_MS END_MS [SOLO_MS] [--chiron]`.
//! The profile goes to stdout, the parse statistics to stderr.

use std::path::Path;
use std::process::ExitCode;

use wrap_profiler::{chiron_csv, profile_log, BlockingSet};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let chiron = args.iter().any(|a| a == "--chiron");
    args.retain(|a| a != "--chiron");
    let num = |i: usize| args.get(i).and_then(|s| s.parse::<f64>().ok());
    let (Some(log), Some(start), Some(end)) = (args.first(), num(1), num(2)) else {
        eprintln!("usage: offline LOG START_MS END_MS [SOLO_MS] [--chiron]");
        return ExitCode::from(2);
    };
    match profile_log(Path::new(log), start, end, num(3), &BlockingSet::default()) {
        Ok((profile, trace)) => {
            if chiron {
                print!("{}", chiron_csv(&profile, trace.root_pid.unwrap_or(0)));
            } else {
                println!("{}", serde_json::to_string(&profile).unwrap_or_default());
            }
            eprintln!("{}", trace.stats);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
