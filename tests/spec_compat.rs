//! Builds copies of this crate with other specs, the way a maintainer or user would:
//! the upstream reference spec (unchanged) must compile, and a broken spec must stop the build
//! with one clear message (file, JSON pointer, fix) and no panic backtrace.
//!
//! Slow (it runs `cargo check` on a copy, ~1-2 minutes cold); it shares one target directory
//! under `target/spec-compat` so later runs are incremental.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name == "target" {
            continue;
        }
        let dest = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A copy of the crate (with its workspace members) whose spec is `spec_text`.
fn crate_copy(name: &str, spec_text: &str) -> PathBuf {
    let dir = root().join("target/spec-compat").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for file in ["Cargo.toml", "Cargo.lock", "build.rs", "README.md"] {
        std::fs::copy(root().join(file), dir.join(file)).unwrap();
    }
    for sub in ["src", "codegen", "xtask", "examples", ".cargo"] {
        copy_dir(&root().join(sub), &dir.join(sub));
    }
    std::fs::create_dir_all(dir.join("spec")).unwrap();
    std::fs::write(dir.join("spec/incident-io.yaml"), spec_text).unwrap();
    dir
}

fn cargo_check(dir: &Path) -> (bool, String) {
    let out = Command::new(env!("CARGO"))
        .args([
            "check",
            "--offline",
            "--quiet",
            "--lib",
            "-p",
            "incident-io-connector",
        ])
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join("target/spec-compat/target"))
        .env_remove("RUSTFLAGS")
        .output()
        .expect("cargo runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn other_specs_build_or_fail_clearly() {
    // 1. The upstream reference spec, unchanged, compiles into a working crate.
    let reference =
        std::fs::read_to_string(root().join("../shared/reference/incident-io.connector.yaml"))
            .expect("../shared/reference is beside the checkout");
    let dir = crate_copy("reference", &reference);
    let (ok, stderr) = cargo_check(&dir);
    assert!(
        ok,
        "the crate must compile with the upstream reference spec:\n{stderr}"
    );

    // 2. A broken spec stops the build with one clear line and no panic.
    let ours = std::fs::read_to_string(root().join("spec/incident-io.yaml")).unwrap();
    let broken = ours.replacen(
        "$ref: \"#/components/schemas/Incident\"",
        "$ref: \"#/components/schemas/Incidnet\"",
        1,
    );
    assert_ne!(broken, ours, "the fixture edit must apply");
    let dir = crate_copy("broken", &broken);
    let (ok, stderr) = cargo_check(&dir);
    assert!(!ok, "a dangling $ref must fail the build");
    assert!(
        stderr.contains("error: invalid connector spec: spec/incident-io.yaml: at /paths/")
            && stderr.contains("`$ref: #/components/schemas/Incidnet` points to nothing"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("panicked"),
        "no panic backtrace:\n{stderr}"
    );
}
