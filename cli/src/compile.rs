//! `aqua compile`: Aqua files to one AIR script per exported function.

use std::path::{Path, PathBuf};

use aqua_compiler::compile::compile_files;
use aqua_compiler::lower::LowerOptions;
use clap::Args;

use crate::check::{CheckOutput, Format, FsLoader, import_roots, parse_constants, report, root_files};

#[derive(Debug, Args)]
pub struct CompileArgs {
    /// The Aqua files to compile; a directory stands for every `.aqua` file under it.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
    /// Where to write `<file stem>.<function>.air` and `<file stem>.json`.
    #[arg(short = 'o', long = "output", value_name = "OUTDIR", required = true)]
    pub output: PathBuf,
    /// A directory to look for imports in (after the importing file's own directory).
    #[arg(short = 'I', long = "import", value_name = "DIR")]
    pub import_roots: Vec<PathBuf>,
    /// A value for a constant declared with `?=`: NAME=VALUE, the value a JSON literal.
    #[arg(long = "const", value_name = "NAME=VALUE")]
    pub constants: Vec<String>,
    /// Do not fetch the client's relay (`-relay-`); `HOST_PEER_ID` is the init peer.
    #[arg(long)]
    pub no_relay: bool,
    /// Do not wrap the function in the `errorHandlingSrv` error handler.
    #[arg(long)]
    pub no_xor: bool,
    /// How diagnostics are printed.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub fn compile(args: CompileArgs) -> Result<CheckOutput, String> {
    let check = parse_constants(&args.constants)?;
    let roots = root_files(&args.files)?;
    let import_roots = import_roots(&args.import_roots)?;
    if args.output.is_file() {
        return Err(format!("{}: the output must be a directory", args.output.display()));
    }
    let lower = LowerOptions { no_relay: args.no_relay, no_xor: args.no_xor };
    let compiled = compile_files(&roots, &import_roots, &mut FsLoader, &check, lower);
    let (mut stdout, stderr) = report(&compiled.diagnostics, &compiled.sources, args.format)?;
    if compiled.diagnostics.has_errors() {
        return Ok(CheckOutput { stdout, stderr, success: false });
    }
    std::fs::create_dir_all(&args.output).map_err(|e| format!("cannot create {}: {e}", args.output.display()))?;
    let mut written = 0;
    for module in &compiled.modules {
        let stem = Path::new(&module.path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        for (name, air) in &module.functions {
            write(&args.output.join(format!("{stem}.{name}.air")), air)?;
            written += 1;
        }
        let mut json = serde_json::to_string_pretty(&module.signatures).map_err(|e| e.to_string())?;
        json.push('\n');
        write(&args.output.join(format!("{stem}.json")), &json)?;
    }
    if args.format == Format::Text {
        stdout = format!("compiled {} file(s): {written} function(s) written to {}\n", roots.len(), args.output.display());
    }
    Ok(CheckOutput { stdout, stderr, success: true })
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
