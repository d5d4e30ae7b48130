//! `wrap-server`: the wrap scheduler's HTTP service and offline subcommands.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The wrap scheduler: packs serverless workflow functions onto CPUs.
#[derive(Parser)]
#[command(name = "wrap-server", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Imports the published Chiron data as our own profile directory.
    Import {
        /// The published `chiron/` folder (holding `mpk-l/`, `mpk-s/`, ...).
        #[arg(long, default_value = "../shared/reference/chiron")]
        chiron: PathBuf,
        /// Where to write the profile directory.
        #[arg(long, default_value = "profiles/mpk-l")]
        out: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Import { chiron, out }) => {
            match wrap_model::import::import_builtin_mpk_l(&chiron).and_then(|c| {
                c.write_dir(&out)?;
                Ok(c)
            }) {
                Ok(c) => {
                    eprintln!(
                        "wrote {} profiles and {} workflows to {}",
                        c.profiles.profiles().len(),
                        c.workflows.len(),
                        out.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("wrap-server import: {e}");
                    ExitCode::from(2)
                }
            }
        }
        None => {
            eprintln!("wrap-server: the HTTP service is not built yet; see the README");
            ExitCode::from(2)
        }
    }
}
