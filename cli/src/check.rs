//! `aqua check`: parse and check Aqua files, print their diagnostics.

use std::path::PathBuf;

use aqua_compiler::check::CheckOptions;
use aqua_compiler::diagnostic::{Diagnostics, SourceMap, render, to_json};
use aqua_compiler::modules::Loader;
use clap::{Args, ValueEnum};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The Aqua files to check; a directory stands for every `.aqua` file under it.
    #[arg(required = true, value_name = "FILE|DIR")]
    pub files: Vec<PathBuf>,
    /// A directory to look for imports in (after the importing file's own directory).
    #[arg(short = 'I', long = "import", value_name = "DIR")]
    pub import_roots: Vec<PathBuf>,
    /// A value for a constant declared with `?=`: NAME=VALUE, the value a JSON literal.
    #[arg(long = "const", value_name = "NAME=VALUE")]
    pub constants: Vec<String>,
    /// How diagnostics are printed.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Source excerpts for people.
    Text,
    /// A JSON array for tools.
    Json,
}

/// What the command prints and whether it succeeded.
#[derive(Debug)]
pub struct CheckOutput {
    pub stdout: String,
    pub stderr: String,
    pub success: bool,
}

/// Reads files from the file system for the compiler.
#[derive(Debug, Default)]
pub struct FsLoader;

impl Loader for FsLoader {
    fn read(&mut self, path: &str) -> Option<String> {
        let p = std::path::Path::new(path);
        if !p.is_file() {
            return None;
        }
        std::fs::read_to_string(p).ok()
    }
}

/// Parses `NAME=VALUE` flags; a value that is not JSON is taken as a string.
pub fn parse_constants(flags: &[String]) -> Result<CheckOptions, String> {
    let mut options = CheckOptions::default();
    for flag in flags {
        let Some((name, value)) = flag.split_once('=') else {
            return Err(format!("invalid constant `{flag}`: write NAME=VALUE"));
        };
        let value = serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        options.constants.insert(name.trim().to_string(), value);
    }
    Ok(options)
}

/// Every `.aqua` file under `dir`, in a stable order.
fn aqua_files_under(dir: &std::path::Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.map(|e| e.map(|e| e.path())).collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            aqua_files_under(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "aqua") {
            out.push(path.display().to_string());
        }
    }
    Ok(())
}

/// The files to compile: each file given, and every `.aqua` file under each directory.
pub fn root_files(files: &[PathBuf]) -> Result<Vec<String>, String> {
    let mut roots: Vec<String> = Vec::new();
    for path in files {
        if path.is_dir() {
            aqua_files_under(path, &mut roots).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        } else {
            roots.push(path.display().to_string());
        }
    }
    if roots.is_empty() {
        return Err("no .aqua files given".into());
    }
    Ok(roots)
}

/// The `-I` directories, each of which must exist.
pub fn import_roots(dirs: &[PathBuf]) -> Result<Vec<String>, String> {
    for root in dirs {
        if !root.is_dir() {
            return Err(format!("{}: no such directory (given with -I)", root.display()));
        }
    }
    Ok(dirs.iter().map(|p| p.display().to_string()).collect())
}

/// Diagnostics as the user asked for them: (stdout, stderr).
pub fn report(diagnostics: &Diagnostics, sources: &SourceMap, format: Format) -> Result<(String, String), String> {
    Ok(match format {
        Format::Json => {
            let mut stdout = serde_json::to_string_pretty(&to_json(diagnostics.as_slice(), sources)).map_err(|e| e.to_string())?;
            stdout.push('\n');
            (stdout, String::new())
        }
        Format::Text => {
            // Colours only for a person at a terminal, and never with NO_COLOR set.
            let color = std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none();
            let mut stderr = render(diagnostics.as_slice(), sources, color);
            let (errors, warnings) = (diagnostics.error_count(), diagnostics.warning_count());
            if errors + warnings > 0 {
                stderr.push_str(&format!("{errors} error(s), {warnings} warning(s)\n"));
            }
            (String::new(), stderr)
        }
    })
}

pub fn check(args: CheckArgs) -> Result<CheckOutput, String> {
    let options = parse_constants(&args.constants)?;
    let roots = root_files(&args.files)?;
    let import_roots = import_roots(&args.import_roots)?;
    let result = aqua_compiler::check_files(&roots, &import_roots, &mut FsLoader, &options);
    let success = !result.diagnostics.has_errors();
    let (mut stdout, stderr) = report(&result.diagnostics, &result.sources, args.format)?;
    if success && args.format == Format::Text {
        stdout = format!("checked {} file(s): no errors\n", roots.len());
    }
    Ok(CheckOutput { stdout, stderr, success })
}
