//! Maintainer tasks: `cargo xtask <command>`.
//!
//! - `regen [--spec PATH] [--check] [--allow-stale]`: regenerates everything derived from the
//!   spec that is checked in: the snapshot of the generated code (`snapshot/generated.rs`), the
//!   effective spec (`snapshot/effective-spec.yaml`: base plus corrections), `REFERENCE.md`, and
//!   the entity table in `README.md` (between markers). With `--spec`, the file replaces the
//!   base (`spec/incident-io.yaml`, Airbyte's form), our corrections
//!   (`spec/incident-io.corrections.yaml`) are re-applied, and the API change between the old
//!   and new *effective* specs is printed with semver advice. Corrections the new base now
//!   states itself are listed as redundant; corrections whose target is gone are stale and
//!   fail the command unless `--allow-stale`. With `--check`, writes nothing and fails with a
//!   diff if anything checked in is stale, or if any correction no longer applies (CI).
//! - `corrections`: lists every correction and whether it applies, is redundant or stale.
//! - `corrections derive EDITED [--append]`: the overlay actions that turn the current
//!   effective spec into `EDITED` (start from a copy of `snapshot/effective-spec.yaml`), with
//!   `TODO` descriptions to fill in; printed, or appended to the corrections file.
//! - `new-connector --spec PATH --out DIR [--corrections PATH] [--force]`: writes a new crate
//!   for any connector spec, named after the connector (`github` gives `github-connector`
//!   with `GithubConnector`, `GithubAuthConfig`, ...): `Cargo.toml` (depending on this
//!   workspace's runtime by path), `build.rs`, `src/lib.rs`, the spec, a README and a smoke
//!   test against the emulator. `cargo check` and `cargo test` pass in it.
//! - `generate [SPEC]`: prints the generated code for a spec (default: ours, corrected).
//! - `bench [--runs N] [--quick] ...`: runs the benchmarks and writes `BENCHMARKS.md` (see
//!   `bench.rs`).
//!
//! All the work is done by `connector-sdk-codegen`, the same crate build.rs uses.

mod bench;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use connector_sdk_codegen as codegen;
use connector_sdk_codegen::overlay::{Corrections, Outcome};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("generate") => generate(args.get(1).map(PathBuf::from)),
        Some("regen") => regen(&args[1..]),
        Some("corrections") => corrections(&args[1..]),
        Some("new-connector") => new_connector(&args[1..]),
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
    "usage: cargo xtask regen [--spec PATH] [--check] [--allow-stale] | cargo xtask corrections [derive EDITED [--append]] | cargo xtask new-connector --spec PATH --out DIR [--corrections PATH] [--skip-unsupported] [--force] | cargo xtask generate [SPEC] | cargo xtask bench [--runs N] [--quick]".to_string()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_path_buf()
}

const SPEC: &str = "spec/incident-io.yaml";
const CORRECTIONS: &str = "spec/incident-io.corrections.yaml";
const SNAPSHOT: &str = "snapshot/generated.rs";
const EFFECTIVE: &str = "snapshot/effective-spec.yaml";
const REFERENCE: &str = "REFERENCE.md";
const README: &str = "README.md";

/// Our corrections, if the file exists.
fn load_corrections(root: &Path) -> Result<Option<Corrections>, String> {
    let path = root.join(CORRECTIONS);
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {CORRECTIONS}: {e}"))?;
    Corrections::parse(CORRECTIONS, &text)
        .map(Some)
        .map_err(|e| e.to_string())
}

fn generate(spec: Option<PathBuf>) -> Result<(), String> {
    let root = root();
    let spec = match spec {
        Some(p) => codegen::load(&p).map_err(|e| e.to_string())?,
        None => {
            let text = std::fs::read_to_string(root.join(SPEC))
                .map_err(|e| format!("cannot read {SPEC}: {e}"))?;
            let corrections = load_corrections(&root)?;
            codegen::parse_corrected(SPEC, &text, corrections.as_ref())
                .map_err(|e| e.to_string())?
                .0
        }
    };
    let g = codegen::generate(&spec).map_err(|e| e.to_string())?;
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
        ("build.rs", codegen::scaffold::build_rs(&spec.connector_name)),
        ("src/lib.rs", codegen::scaffold::lib_rs()),
        (SNAPSHOT, generated.code),
        (
            EFFECTIVE,
            format!(
                "# @generated by `cargo xtask regen`: {SPEC} with {CORRECTIONS} applied. Do not edit;\n# to add a correction, edit a copy and run `cargo xtask corrections derive <copy>`.\n{}",
                codegen::to_yaml(spec)
            ),
        ),
        (REFERENCE, codegen::markdown::reference(spec) + "\n"),
        (README, readme),
    ])
}

/// Prints what happened to each correction; returns the stale ones.
fn report(outcomes: &[Outcome], verbose: bool) -> Vec<&Outcome> {
    let mut stale = Vec::new();
    for o in outcomes {
        let first_line = o.description.lines().next().unwrap_or_default();
        if o.stale {
            println!("  stale      {CORRECTIONS}{}: {first_line}", o.pointer);
            for t in &o.targets {
                println!("             target {t}");
            }
            stale.push(o);
        } else if o.redundant {
            println!(
                "  redundant  {CORRECTIONS}{}: {first_line}\n             the base now says this itself; consider dropping it",
                o.pointer
            );
        } else if verbose {
            println!("  applied    {CORRECTIONS}{}: {first_line}", o.pointer);
        }
    }
    stale
}

fn regen(args: &[String]) -> Result<(), String> {
    let mut spec_arg: Option<PathBuf> = None;
    let mut check = false;
    let mut allow_stale = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--check" => check = true,
            "--allow-stale" => allow_stale = true,
            "--spec" => {
                spec_arg = Some(PathBuf::from(
                    it.next().ok_or_else(|| "--spec needs a path".to_string())?,
                ))
            }
            other => return Err(format!("unknown argument `{other}`; {}", usage())),
        }
    }
    if check && spec_arg.is_some() {
        return Err(
            "--check compares the checked-in files with spec/; do not combine it with --spec"
                .into(),
        );
    }
    let root = root();
    let spec_path = root.join(SPEC);
    let corrections = load_corrections(&root)?;
    let old_text = std::fs::read_to_string(&spec_path).ok();

    // The base to generate from: the imported one, or ours.
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
    let (new_spec, outcomes) = codegen::parse_corrected(&label, &new_text, corrections.as_ref())
        .map_err(|e| e.to_string())?;
    if let Some(c) = &corrections {
        println!("corrections: {} in {CORRECTIONS}", c.len());
    }
    let stale = report(&outcomes, false);
    if !stale.is_empty() && (check || !allow_stale) {
        return Err(format!(
            "{} correction(s) no longer apply: what they correct is gone from the base. Update or drop them in {CORRECTIONS}{}",
            stale.len(),
            if check { "" } else { ", or pass --allow-stale to import anyway" }
        ));
    }
    // Validate fully (the same checks and generation build.rs runs) before touching anything.
    codegen::generate(&new_spec).map_err(|e| e.to_string())?;

    let readme = std::fs::read_to_string(root.join(README))
        .map_err(|e| format!("cannot read {README}: {e}"))?;
    let outputs = derived(&new_spec, &readme)?;

    if check {
        let mut stale_files = Vec::new();
        for (rel, want) in &outputs {
            let have = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
            if &have != want {
                print_diff(rel, &have, want);
                stale_files.push(*rel);
            }
        }
        if stale_files.is_empty() {
            println!(
                "regen --check: {SPEC} with {CORRECTIONS} is up to date ({})",
                outputs
                    .iter()
                    .map(|(r, _)| *r)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return Ok(());
        }
        return Err(format!(
            "stale generated files: {}; run `cargo xtask regen` and commit the result",
            stale_files.join(", ")
        ));
    }

    if spec_arg.is_some() {
        write(&spec_path, &new_text)?;
        println!("imported {label} into {SPEC} (the base; corrections stay in {CORRECTIONS})");
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
    // The change a user of the crate sees: old effective spec → new effective spec.
    match old_text
        .as_deref()
        .map(|t| codegen::parse_corrected(SPEC, t, corrections.as_ref()))
    {
        Some(Ok((old_spec, _))) => print!("{}", codegen::diff::compare(&old_spec, &new_spec)),
        Some(Err(e)) => println!("(the previous spec did not load, so no change summary: {e})"),
        None => println!("(no previous spec, so no change summary)"),
    }
    Ok(())
}

/// `path` relative to the directory `from` (both absolute), with `/` separators.
fn relative(from: &Path, path: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = path.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

fn new_connector(args: &[String]) -> Result<(), String> {
    let (mut spec_path, mut out, mut corrections_path, mut force) = (None, None, None, false);
    let mut skip_unsupported = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--spec" => spec_path = it.next().map(PathBuf::from),
            "--out" => out = it.next().map(PathBuf::from),
            "--corrections" => corrections_path = it.next().map(PathBuf::from),
            "--force" => force = true,
            "--skip-unsupported" => skip_unsupported = true,
            other => return Err(format!("unknown argument `{other}`; {}", usage())),
        }
    }
    let (Some(spec_path), Some(out)) = (spec_path, out) else {
        return Err(format!("new-connector needs --spec and --out; {}", usage()));
    };
    let text = std::fs::read_to_string(&spec_path)
        .map_err(|e| format!("cannot read {}: {e}", spec_path.display()))?;
    let corrections_text = corrections_path
        .as_deref()
        .map(|p| {
            std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        })
        .transpose()?;
    let label = spec_path.display().to_string();
    // With --skip-unsupported, each operation the generator refuses as an unsupported
    // construct becomes a correction that removes it, until the spec generates.
    let mut removals: Vec<codegen::overlay::ActionOf> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let (spec, outcomes, corrections_text) = loop {
        let combined = if removals.is_empty() {
            corrections_text.clone()
        } else {
            Some(codegen::overlay::with_actions(
                corrections_text.as_deref(),
                &removals,
            )?)
        };
        let corrections = combined
            .as_deref()
            .map(|t| Corrections::parse(&corrections_label(&corrections_path), t))
            .transpose()
            .map_err(|e| e.to_string())?;
        let attempt = codegen::parse_corrected(&label, &text, corrections.as_ref())
            .and_then(|(spec, outcomes)| codegen::generate(&spec).map(|_| (spec, outcomes)));
        match attempt {
            Ok((spec, outcomes)) => break (spec, outcomes, combined),
            // Leaving out an entity's only operations leaves its context-store entry
            // pointing at nothing: it goes too.
            Err(e)
                if skip_unsupported
                    && !removals.is_empty()
                    && e.pointer
                        .starts_with("/info/x-airbyte-context-store/entities/")
                    && e.message.contains("is not an entity of any operation") =>
            {
                let entity = e.message.split('`').nth(1).unwrap_or_default().to_string();
                let target = format!(
                    "$.info['x-airbyte-context-store'].entities[?(@.entity == '{}')]",
                    entity.replace('\'', "\\'")
                );
                if entity.is_empty() || removals.iter().any(|a| a.target == target) {
                    return Err(e.to_string());
                }
                removals.push(codegen::overlay::ActionOf {
                    target,
                    description: Some(format!(
                        "Left out by `new-connector --skip-unsupported`: the context-store entry of `{entity}`, whose operations were left out"
                    )),
                    remove: Some(true),
                    ..Default::default()
                });
            }
            Err(e) if skip_unsupported && e.message.starts_with("unsupported construct") => {
                let action = codegen::overlay::remove_operation(&e.pointer, &e.message)
                    .ok_or_else(|| format!("{e}\n(--skip-unsupported leaves out operations and auth schemes only; this is inside neither)"))?;
                if removals.iter().any(|a| a.target == action.target) {
                    return Err(format!(
                        "{e}\n(still refused after leaving the operation out)"
                    ));
                }
                skipped.push(format!("`{}`: {}", action.target, e.message));
                removals.push(action);
            }
            Err(e) if !skip_unsupported && e.message.starts_with("unsupported construct") => {
                return Err(format!("{e}\n(`--skip-unsupported` leaves such operations out and lists them in the crate's README)"));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    let stale = report(&outcomes, false);
    if !stale.is_empty() {
        return Err(format!(
            "{} correction(s) do not apply to {label}",
            stale.len()
        ));
    }

    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let out = out
        .canonicalize()
        .map_err(|e| format!("cannot resolve {}: {e}", out.display()))?;
    if out.join("Cargo.toml").exists() && !force {
        return Err(format!(
            "{} already holds a crate; pass --force to overwrite its files",
            out.display()
        ));
    }
    let root = root()
        .canonicalize()
        .map_err(|e| format!("cannot resolve the workspace: {e}"))?;
    let paths = codegen::scaffold::Paths {
        runtime: relative(&out, &root.join("runtime")),
        codegen: relative(&out, &root.join("codegen")),
        emulator: relative(&out, &root.join("emulator")),
    };
    let name = &spec.connector_name;
    let mut files: Vec<(String, String)> = vec![
        (
            "Cargo.toml".into(),
            codegen::scaffold::cargo_toml(&spec, &paths),
        ),
        ("build.rs".into(), codegen::scaffold::build_rs(name)),
        ("src/lib.rs".into(), codegen::scaffold::lib_rs()),
        (format!("spec/{name}.yaml"), text.clone()),
        (
            "README.md".into(),
            codegen::scaffold::readme(&spec, &skipped),
        ),
        (
            "tests/smoke.rs".into(),
            codegen::scaffold::smoke_test(&spec),
        ),
    ];
    if let Some(c) = corrections_text {
        files.push((format!("spec/{name}.corrections.yaml"), c));
    }
    // The workspace's lock file, so the crate builds with the same versions (and offline).
    if let Ok(lock) = std::fs::read_to_string(root.join("Cargo.lock")) {
        files.push(("Cargo.lock".into(), lock));
    }
    for (rel, contents) in &files {
        write(&out.join(rel), contents)?;
    }
    let ops = spec.operations().count();
    if !skipped.is_empty() {
        println!(
            "left out {} operation(s) or auth scheme(s) the generator does not support yet (listed in README.md; removed by spec/{name}.corrections.yaml):",
            skipped.len()
        );
        for s in &skipped {
            println!("  - {s}");
        }
    }
    println!(
        "wrote {} for {} ({} entities, {ops} operations) in {}\n  types: {p}Connector, {p}ConnectorBuilder, {p}AuthConfig, entities::*, models::*\n  next: cd {} && cargo test",
        codegen::scaffold::crate_name(&spec),
        spec.display_name,
        spec.entities.len(),
        out.display(),
        out.display(),
        p = spec.type_prefix,
    );
    Ok(())
}

fn corrections(args: &[String]) -> Result<(), String> {
    let root = root();
    let base =
        std::fs::read_to_string(root.join(SPEC)).map_err(|e| format!("cannot read {SPEC}: {e}"))?;
    let corrections = load_corrections(&root)?;
    let (effective, outcomes) =
        codegen::parse_corrected(SPEC, &base, corrections.as_ref()).map_err(|e| e.to_string())?;
    match args.first().map(String::as_str) {
        None => {
            println!(
                "{} correction(s) in {CORRECTIONS} over {SPEC}:",
                corrections.as_ref().map_or(0, Corrections::len)
            );
            let stale = report(&outcomes, true);
            if stale.is_empty() {
                Ok(())
            } else {
                Err(format!("{} stale correction(s)", stale.len()))
            }
        }
        Some("derive") => {
            let edited_path = args
                .get(1)
                .ok_or_else(|| format!("corrections derive needs the edited spec; {}", usage()))?;
            let append = args.iter().any(|a| a == "--append");
            let text = std::fs::read_to_string(edited_path)
                .map_err(|e| format!("cannot read {edited_path}: {e}"))?;
            let edited =
                codegen::load::parse_yaml(&text).map_err(|e| format!("{edited_path}: {e}"))?;
            let actions = codegen::overlay::derive(&effective.doc, &edited);
            if actions.is_empty() {
                println!("no difference: {edited_path} is the effective spec");
                return Ok(());
            }
            // Check the derived actions really produce the edited spec (key order aside).
            let mut check = codegen::overlay::actions_yaml(&actions);
            check = format!(
                "overlay: 1.0.0\ninfo: {{title: check, version: '1'}}\nactions:\n{}",
                check.replace("TODO", "check")
            );
            let probe = Corrections::parse("derived", &check).map_err(|e| e.to_string())?;
            let (result, _) = probe.apply(&effective.doc).map_err(|e| e.to_string())?;
            let (result, edited_json) = (
                serde_json::to_value(&result).unwrap_or_default(),
                serde_json::to_value(&edited).unwrap_or_default(),
            );
            let difference = first_difference("", &result, &edited_json);
            let yaml = codegen::overlay::actions_yaml(&actions);
            if append {
                let path = root.join(CORRECTIONS);
                let mut current = std::fs::read_to_string(&path).unwrap_or_else(|_| {
                    "overlay: 1.0.0\ninfo:\n  title: Corrections to the upstream connector spec\n  version: 1.0.0\nactions:\n".to_string()
                });
                if !current.ends_with('\n') {
                    current.push('\n');
                }
                current.push_str(&yaml);
                write(&path, &current)?;
                println!(
                    "appended {} action(s) to {CORRECTIONS}; replace each TODO description with what the real API does and where that is known from, then run `cargo xtask regen`",
                    actions.len()
                );
            } else {
                print!("{yaml}");
            }
            if let Some(at) = difference {
                return Err(format!("the derived actions do not reproduce the edited spec exactly, first at {at} (a change an overlay cannot express, such as removing a key from a parameter); review them"));
            }
            Ok(())
        }
        Some(other) => Err(format!(
            "unknown corrections command `{other}`; {}",
            usage()
        )),
    }
}

/// The JSON pointer of the first place where `a` and `b` differ (key order aside).
fn first_difference(at: &str, a: &serde_json::Value, b: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let here = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match y.get(k) {
                    Some(w) => {
                        if let Some(d) = first_difference(&here, v, w) {
                            return Some(d);
                        }
                    }
                    None => return Some(format!("{here} (only in the result)")),
                }
            }
            y.keys()
                .find(|k| !x.contains_key(*k))
                .map(|k| format!("{at}/{k} (only in the edited spec)"))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            // Parameters are matched by name (an appended one comes last; order is not a
            // difference an overlay can or needs to express).
            let key = |v: &Value| v.get("name").and_then(Value::as_str).map(str::to_string);
            let mut pairs: Vec<(usize, &Value, &Value)> = Vec::new();
            for (i, v) in x.iter().enumerate() {
                let w = match key(v) {
                    Some(name) => y.iter().find(|w| key(w).as_deref() == Some(name.as_str())),
                    None => y.get(i),
                };
                match w {
                    Some(w) => pairs.push((i, v, w)),
                    None => return Some(format!("{at}/{i}")),
                }
            }
            pairs
                .into_iter()
                .find_map(|(i, v, w)| first_difference(&format!("{at}/{i}"), v, w))
        }
        _ if a == b => None,
        _ => Some(at.to_string()),
    }
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

/// The name the crate's corrections go by in messages.
fn corrections_label(path: &Option<PathBuf>) -> String {
    path.as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "corrections (--skip-unsupported)".to_string())
}
