//! Maintainer tasks: `cargo xtask <command>`.
//!
//! - `generate [SPEC]`: print the code the generator makes for a spec (default
//!   `spec/incident-io.yaml`); useful to read what build.rs produces.
//! - `regen`: not implemented yet (tracked by the regen issue): it will import a new upstream
//!   spec, refresh the checked-in snapshot, REFERENCE.md and the README table.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("generate") => {
            let spec = args
                .get(1)
                .map(PathBuf::from)
                .unwrap_or_else(|| root().join("spec/incident-io.yaml"));
            match incident_io_connector_codegen::load(&spec)
                .and_then(|s| incident_io_connector_codegen::generate(&s))
            {
                Ok(g) => {
                    print!("{}", g.code);
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Some("regen") => {
            eprintln!(
                "cargo xtask regen is not implemented yet: it is planned (snapshot of the generated \
                 code, REFERENCE.md, README table, change summary). Today build.rs regenerates the \
                 SDK on every build from spec/incident-io.yaml; `cargo xtask generate` prints it."
            );
            ExitCode::from(2)
        }
        _ => {
            eprintln!("usage: cargo xtask <generate [SPEC] | regen>");
            ExitCode::from(2)
        }
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}
