//! Generates the AIR parser from `src/syntax/air.lalrpop` into `OUT_DIR`.

fn main() {
    lalrpop::Configuration::new()
        .use_cargo_dir_conventions()
        // Rerun only when a grammar changes, not on every source edit.
        .emit_rerun_directives(true)
        .process()
        .expect("the AIR grammar must compile");
}
