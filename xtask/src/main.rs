//! Maintainer tasks: `cargo xtask <command>`.
//!
//! - `regen [--spec PATH] [--check]`: regenerates everything derived from the spec that is
//!   checked in: the snapshot of the generated code (`snapshot/generated.rs`, reviewable in
//!   diffs), `REFERENCE.md`, and the entity table in `README.md` (between markers). With
//!   `--spec`, first imports a connector spec in the upstream format into
//!   `spec/incident-io.yaml` (validated exactly as build.rs does) and prints what changed in the
//!   API with semver advice. With `--check`, writes nothing and fails with a diff if anything
//!   checked in is stale (CI runs this).
//! - `generate [SPEC]`: prints the generated code for a spec (default: ours).
//! - `bench [--runs N] [--quick] ...`: runs the benchmarks and writes `BENCHMARKS.md` (see
//!   `bench.rs`).
//!
//! All the work is done by `incident-io-connector-codegen`, the same crate build.rs uses.

mod bench;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use incident_io_connector_codegen as codegen;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("generate") => generate(args.get(1).map(PathBuf::from)),
        Some("regen") => regen(&args[1..]),
        Some("bench") => bench::bench(&root(), &args[1..]),
        _ => Err(usage()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn usage() -> String {
    "usage: cargo xtask regen [--spec PATH] [--check] | cargo xtask generate [SPEC] | cargo xtask bench [--runs N] [--quick]".to_string()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

const SPEC: &str = "spec/incident-io.yaml";
const SNAPSHOT: &str = "snapshot/generated.rs";
const REFERENCE: &str = "REFERENCE.md";
const README: &str = "README.md";

fn generate(spec: Option<PathBuf>) -> Result<(), String> {
    let spec = spec.unwrap_or_else(|| root().join(SPEC));
    let g = codegen::load(&spec)
        .and_then(|s| codegen::generate(&s))
        .map_err(|e| e.to_string())?;
    print!("{}", g.code);
    Ok(())
}

/// Everything derived from `spec` that is checked in: (path relative to the root, contents).
pub fn derived(spec: &codegen::Spec, readme: &str) -> Result<Vec<(&'static str, String)>, String> {
    let generated = codegen::generate(spec).map_err(|e| e.to_string())?;
    let table = codegen::markdown::entity_table(spec);
    let readme = codegen::markdown::replace_table(readme, &table).ok_or_else(|| {
        format!(
            "{README} has no entity table markers ({} ... {}); add them where the table goes",
            codegen::markdown::TABLE_START,
            codegen::markdown::TABLE_END
        )
    })?;
    Ok(vec![
        (SNAPSHOT, generated.code),
        (REFERENCE, codegen::markdown::reference(spec) + "\n"),
        (README, readme),
    ])
}

fn regen(args: &[String]) -> Result<(), String> {
    let mut spec_arg: Option<PathBuf> = None;
    let mut check = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--check" => check = true,
            "--spec" => {
                spec_arg = Some(PathBuf::from(
                    it.next().ok_or_else(|| "--spec needs a path".to_string())?,
                ))
            }
            other => return Err(format!("unknown argument `{other}`; {}", usage())),
        }
    }
    let root = root();
    let spec_path = root.join(SPEC);
    let old_text = std::fs::read_to_string(&spec_path).ok();

    // The spec to generate from: the imported one, or ours.
    let (new_text, label) = match &spec_arg {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?,
            p.display().to_string(),
        ),
        None => (
            old_text
                .clone()
                .ok_or_else(|| format!("cannot read {SPEC}"))?,
            SPEC.to_string(),
        ),
    };
    let new_spec = codegen::parse(&label, &new_text).map_err(|e| e.to_string())?;
    // Validate fully (the same checks and generation build.rs runs) before touching anything.
    codegen::generate(&new_spec).map_err(|e| e.to_string())?;

    let readme = std::fs::read_to_string(root.join(README))
        .map_err(|e| format!("cannot read {README}: {e}"))?;
    let outputs = derived(&new_spec, &readme)?;

    if check {
        if spec_arg.is_some() {
            return Err(
                "--check compares the checked-in files with spec/; do not combine it with --spec"
                    .into(),
            );
        }
        let mut stale = Vec::new();
        for (rel, want) in &outputs {
            let have = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
            if &have != want {
                print_diff(rel, &have, want);
                stale.push(*rel);
            }
        }
        if stale.is_empty() {
            println!(
                "regen --check: {} is up to date ({}, {}, {})",
                SPEC, SNAPSHOT, REFERENCE, README
            );
            return Ok(());
        }
        return Err(format!(
            "stale generated files: {}; run `cargo xtask regen` and commit the result",
            stale.join(", ")
        ));
    }

    if spec_arg.is_some() {
        write(&spec_path, &new_text)?;
        println!("imported {label} into {SPEC}");
    }
    for (rel, contents) in &outputs {
        let path = root.join(rel);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(contents.as_str()) {
            write(&path, contents)?;
            println!("wrote {rel}");
        } else {
            println!("unchanged {rel}");
        }
    }
    match old_text.as_deref().map(|t| codegen::parse(SPEC, t)) {
        Some(Ok(old_spec)) => print!("{}", codegen::diff::compare(&old_spec, &new_spec)),
        Some(Err(e)) => println!("(the previous spec did not load, so no change summary: {e})"),
        None => println!("(no previous spec, so no change summary)"),
    }
    Ok(())
}

fn write(path: &Path, contents: &str) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn print_diff(name: &str, have: &str, want: &str) {
    let diff = similar::TextDiff::from_lines(have, want);
    println!(
        "{}",
        diff.unified_diff().context_radius(3).header(
            &format!("{name} (checked in)"),
            &format!("{name} (regenerated)")
        )
    );
}
