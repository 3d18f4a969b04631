//! Generates the SDK from the connector spec (see the `connector-sdk-codegen` crate).
//!
//! The spec has two layers: `spec/incident-io.yaml`, the connector spec in the form Airbyte
//! publishes it (replaced wholesale by `cargo xtask regen --spec`), and
//! `spec/incident-io.corrections.yaml`, our corrections to it as an OpenAPI Overlay (what we
//! know about the real API; they survive every regen). The effective spec, base plus
//! corrections, is what the code is generated from.
//!
//! Writes `$OUT_DIR/generated.rs` (included by `src/lib.rs`) and `$OUT_DIR/spec.json` (the
//! effective spec). A broken spec or correction stops the build with one line naming the
//! file, the JSON pointer and the fix.

use std::path::Path;

const BASE: &str = "spec/incident-io.yaml";
const CORRECTIONS: &str = "spec/incident-io.corrections.yaml";

fn main() {
    println!("cargo:rerun-if-changed=spec");
    println!("cargo:rerun-if-changed=build.rs");

    let corrections = Path::new(CORRECTIONS);
    let generated = connector_sdk_codegen::load_corrected(
        Path::new(BASE),
        corrections.exists().then_some(corrections),
    )
    .and_then(|(spec, outcomes)| {
        // A stale correction changes nothing; `cargo xtask regen --check` (CI) fails on it.
        for o in outcomes.iter().filter(|o| o.stale) {
            println!(
                "cargo:warning=stale correction at {CORRECTIONS}{}: its target is gone from the base spec ({})",
                o.pointer,
                o.description.lines().next().unwrap_or_default()
            );
        }
        connector_sdk_codegen::generate(&spec)
    });
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
