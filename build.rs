//! Generates the SDK from `spec/incident-io.yaml` (see `codegen/` for the generator).
//!
//! Writes `$OUT_DIR/generated.rs` (included by `src/generated.rs`) and `$OUT_DIR/spec.json`.
//! A broken spec stops the build with one line naming the file, the JSON pointer and the fix.

use std::path::Path;

fn main() {
    let spec_path = Path::new("spec/incident-io.yaml");
    println!("cargo:rerun-if-changed=spec");
    println!("cargo:rerun-if-changed=build.rs");

    let generated = incident_io_connector_codegen::load(spec_path)
        .and_then(|spec| incident_io_connector_codegen::generate(&spec));
    let generated = match generated {
        Ok(g) => g,
        Err(e) => {
            // One clear line, no panic backtrace.
            eprintln!("error: invalid connector spec: {e}");
            println!("cargo:warning=invalid connector spec: {e}");
            std::process::exit(1);
        }
    };
    let out_dir = std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let out = Path::new(&out_dir);
    write(&out.join("generated.rs"), &generated.code);
    write(&out.join("spec.json"), &generated.spec_json);
}

fn write(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() == Some(text) {
        return; // unchanged: keep the mtime so nothing downstream rebuilds
    }
    if let Err(e) = std::fs::write(path, text) {
        eprintln!("error: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
}
