//! The `aqua` command.

mod diagnostics;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Compile, check, run and inspect cloudless functions.
#[derive(Debug, Parser)]
#[command(name = "aqua", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect AIR scripts and particle data.
    #[command(subcommand)]
    Air(AirCommand),
}

#[derive(Debug, Subcommand)]
enum AirCommand {
    /// Show an AIR script as readable, indented text.
    Beautify {
        /// The AIR file.
        file: PathBuf,
    },
    /// Check an AIR script: parse and validate it, print its canonical form.
    Fmt {
        /// The AIR file.
        file: PathBuf,
    },
    /// Print particle data (a trace) as JSON.
    Trace {
        /// A file of particle data, as the VM writes it.
        data_file: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(out) => {
            print(&out);
            ExitCode::SUCCESS
        }
        Err(message) => {
            // Source diagnostics arrive rendered ("error: ..." with an excerpt); others get the prefix here.
            let message = if message.starts_with("error") { message } else { format!("error: {message}\n") };
            #[allow(clippy::print_stderr, reason = "the command's error channel")]
            {
                eprint!("{message}");
            }
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout, reason = "the command's output channel")]
fn print(out: &str) {
    print!("{out}");
}

fn run(cli: Cli) -> Result<String, String> {
    match cli.command {
        Command::Air(AirCommand::Beautify { file }) => {
            let script = parse_air_file(&file)?;
            Ok(air_vm::syntax::beautify(&script))
        }
        Command::Air(AirCommand::Fmt { file }) => {
            let script = parse_air_file(&file)?;
            Ok(air_vm::syntax::to_air(&script))
        }
        Command::Air(AirCommand::Trace { data_file }) => {
            let bytes = std::fs::read(&data_file).map_err(|e| format!("cannot read {}: {e}", data_file.display()))?;
            let data = air_vm::data::Data::from_bytes(&bytes).map_err(|e| format!("{}: {e}", data_file.display()))?;
            let mut text = serde_json::to_string_pretty(&data.to_json()).map_err(|e| e.to_string())?;
            text.push('\n');
            Ok(text)
        }
    }
}

fn parse_air_file(path: &Path) -> Result<air_vm::syntax::ast::Script, String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    air_vm::syntax::parse(&source).map_err(|e| diagnostics::render_air_errors(&e, &path.display().to_string(), &source))
}
