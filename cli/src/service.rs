//! `aqua service`: the Aqua interface of a component, a new component crate, and
//! building components.

use std::path::{Path, PathBuf};

#[derive(Debug, clap::Subcommand)]
pub enum ServiceCommand {
    /// Print the Aqua `service` declaration of a component's exported functions.
    Interface {
        /// The component (the facade of a blueprint).
        file: PathBuf,
        /// The service's name in Aqua (default: the file's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Create a Rust crate that builds a component (wit-bindgen, wasm32-wasip2).
    New {
        /// The service's name: lower case letters, digits and dashes.
        name: String,
        /// Where to create it (default: the current directory).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Build the components of a Rust crate or workspace, and list them.
    Build {
        /// The crate's directory.
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
}

pub fn run(command: ServiceCommand) -> Result<String, String> {
    match command {
        ServiceCommand::Interface { file, name } => {
            let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let name = name.unwrap_or_else(|| file.file_stem().map(|s| s.to_string_lossy().replace('_', "-")).unwrap_or_default());
            marine_host::interface::aqua_service(&name, &bytes).map_err(|e| format!("{}: {e}", file.display()))
        }
        ServiceCommand::New { name, dir } => new(&name, &dir),
        ServiceCommand::Build { dir } => build(&dir),
    }
}

fn new(name: &str, dir: &Path) -> Result<String, String> {
    let valid = name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--");
    if !valid {
        return Err(format!("`{name}` cannot name a service: use lower case letters, digits and single dashes, starting with a letter"));
    }
    let root = dir.join(name);
    if root.exists() {
        return Err(format!("{} already exists", root.display()));
    }
    let crate_name = name.replace('-', "_");
    let files: [(&str, String); 6] = [
        ("Cargo.toml", format!(include_str!("service_template/Cargo.toml.in"), name = name)),
        (".cargo/config.toml", include_str!("service_template/config.toml.in").to_owned()),
        ("wit/world.wit", format!(include_str!("service_template/world.wit.in"), name = name)),
        ("wit/deps/aqua-host/host.wit", include_str!("../../marine-host/wit/host.wit").to_owned()),
        ("src/lib.rs", format!(include_str!("service_template/lib.rs.in"), name = name)),
        (".gitignore", "/target\n".to_owned()),
    ];
    for (path, text) in &files {
        let path = root.join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(format!(
        "created {}\nbuild it with `aqua service build {}`; the component is target/wasm32-wasip2/release/{crate_name}.wasm\n",
        root.display(),
        root.display()
    ))
}

fn build(dir: &Path) -> Result<String, String> {
    let mut text = String::new();
    for file in marine_host::build::build_components(dir, None)? {
        let bytes = std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        text.push_str(&format!("{}\n  module id {}\n", file.display(), marine_host::module_id(&bytes)));
    }
    Ok(text)
}
