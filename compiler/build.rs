//! Generates the Aqua parser from `src/syntax/aqua.lalrpop` into `OUT_DIR`.

fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        // Rerun only when a grammar changes, not on every source edit.
        .emit_rerun_directives(true)
        .process()
        .expect("the Aqua grammar must compile");
}
