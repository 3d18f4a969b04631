//! Generates the write-conformance client from `../spec/writes.yaml`, exactly as a generated
//! crate's `build.rs` does.

fn main() {
    println!("cargo:rerun-if-changed=../spec/writes.yaml");
    println!("cargo:rerun-if-changed=build.rs");
    let spec = std::path::Path::new("../spec/writes.yaml");
    let generated =
        connector_sdk_codegen::load(spec).and_then(|s| connector_sdk_codegen::generate(&s));
    let generated = match generated {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("generated.rs"), generated.code).expect("write generated.rs");
    std::fs::write(out.join("spec.json"), generated.spec_json).expect("write spec.json");
}
