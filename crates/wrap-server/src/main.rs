//! `wrap-server`: the wrap scheduler's HTTP service and offline subcommands.
//! Everything it does lives in the library; this only parses the command
//! line, sets up logging, binds and runs.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use wrap_server::cli::{self, Cli, Command, Outcome, ServeArgs};
use wrap_server::http::{serve_until_signal, State};

fn print(out: &Outcome) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.stdout.as_bytes());
    let _ = stdout.flush();
    if let Some(line) = &out.stderr {
        eprintln!("{line}");
    }
    ExitCode::from(out.code)
}

fn serve(args: &ServeArgs) -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
    let catalog = match cli::load_catalog(args.profiles.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("wrap-server: {}", e.message);
            return ExitCode::from(2);
        }
    };
    let state = Arc::new(State::new(catalog, args.config()));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("wrap-server: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve_until_signal(args.listen, state)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wrap-server: cannot serve on {}: {e}", args.listen);
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => match cli::usage_error(&e) {
            Some(out) => return print(&out),
            None => e.exit(),
        },
    };
    match cli.command {
        None => serve(&cli.serve),
        Some(Command::Serve(args)) => serve(&args),
        Some(Command::Schedule(args)) => print(&cli::schedule(&args)),
        Some(Command::Predict(args)) => print(&cli::predict(&args)),
        Some(Command::Frontier(args)) => print(&cli::frontier(&args)),
        Some(Command::Profile(args)) => print(&cli::profile(&args)),
        Some(Command::Import { chiron, out }) => print(&cli::import(&chiron, &out)),
    }
}
