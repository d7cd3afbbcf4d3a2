//! The `aqua` command.

mod check;
mod compile;
mod diagnostics;
mod run;
mod service;

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The VM makes many small, short-lived allocations per hop; with mimalloc, hops that
/// allocate much run a sixth to a third faster than with glibc's malloc (see the book's
/// AIR performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Compile, check, run and inspect cloudless functions.
#[derive(Debug, Parser)]
#[command(name = "aqua", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run an Aqua function (or an AIR script) on a simulated network and print its result.
    Run(Box<run::RunArgs>),
    /// Check Aqua files: report every syntax, name and type error.
    Check(check::CheckArgs),
    /// Compile Aqua files to AIR: one script per exported function.
    Compile(compile::CompileArgs),
    /// Inspect AIR scripts and particle data.
    #[command(subcommand)]
    Air(AirCommand),
    /// Compute functions: WebAssembly components as services.
    #[command(subcommand)]
    Service(service::ServiceCommand),
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
        Err(Failure::Reported) => ExitCode::FAILURE,
        Err(Failure::Message(message)) => {
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

/// Why a command failed.
enum Failure {
    /// A message still to print.
    Message(String),
    /// The command already said what went wrong.
    Reported,
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Message(message)
    }
}

fn run(cli: Cli) -> Result<String, Failure> {
    match cli.command {
        Command::Run(args) => {
            let out = run::run(*args)?;
            #[allow(clippy::print_stderr, reason = "the run's trace and errors go to stderr")]
            {
                eprint!("{}", out.stderr);
            }
            if out.success { Ok(out.stdout) } else { Err(Failure::Reported) }
        }
        Command::Check(args) => finish(check::check(args)?),
        Command::Compile(args) => finish(compile::compile(args)?),
        Command::Air(AirCommand::Beautify { file }) => {
            let script = parse_air_file(&file)?;
            Ok(air_vm::syntax::beautify(&script))
        }
        Command::Air(AirCommand::Fmt { file }) => {
            let script = parse_air_file(&file)?;
            Ok(air_vm::syntax::to_air(&script))
        }
        Command::Service(command) => Ok(service::run(command)?),
        Command::Air(AirCommand::Trace { data_file }) => {
            let bytes = std::fs::read(&data_file).map_err(|e| format!("cannot read {}: {e}", data_file.display()))?;
            let data = air_vm::data::Data::from_bytes(&bytes).map_err(|e| format!("{}: {e}", data_file.display()))?;
            let mut text = serde_json::to_string_pretty(&data.to_json()).map_err(|e| e.to_string())?;
            text.push('\n');
            Ok(text)
        }
    }
}

/// Prints a compiler command's diagnostics and, on failure, its output (JSON
/// diagnostics), since the command's result is then only its exit code.
fn finish(out: check::CheckOutput) -> Result<String, Failure> {
    #[allow(clippy::print_stderr, reason = "diagnostics go to stderr")]
    {
        eprint!("{}", out.stderr);
    }
    if out.success {
        Ok(out.stdout)
    } else {
        print(&out.stdout);
        Err(Failure::Reported)
    }
}

fn parse_air_file(path: &Path) -> Result<air_vm::syntax::ast::Script, String> {
    let source = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    air_vm::syntax::parse(&source).map_err(|e| diagnostics::render_air_errors(&e, &path.display().to_string(), &source))
}
