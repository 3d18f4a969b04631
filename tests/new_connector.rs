//! `cargo xtask new-connector`, as a user runs it: a crate for our incident.io spec and for three
//! specs of our own writing (basic auth; OAuth 2 with a refresh token; every supported read
//! construct at once, `conformance/spec/reads.yaml`) under
//! `target/new-connector`, each then built and tested with its own `cargo test` (its smoke
//! test lists and gets every entity against the emulator). The incident.io crate must be
//! exactly what the command makes of our spec: the same `build.rs`, `src/lib.rs`, spec files
//! and dependencies.
//!
//! Slow the first time (the crates share one target directory, `target/generated`,
//! so later runs are incremental).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(dir: &Path, args: &[&str], target: Option<&Path>) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(args).current_dir(dir).env_remove("RUSTFLAGS");
    if let Some(t) = target {
        // The generated crates' builds are test artifacts: no debug info and no incremental
        // data, which would only fill the disk (CI's machine has little to spare).
        cmd.env("CARGO_TARGET_DIR", t)
            .env("CARGO_INCREMENTAL", "0")
            .env("CARGO_PROFILE_DEV_DEBUG", "0");
    }
    let out = cmd.output().expect("cargo runs");
    (
        out.status.success(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn new_connector(spec: &str, corrections: Option<&str>, out: &Path) -> String {
    new_connector_with(spec, corrections, out, &[])
}

fn new_connector_with(spec: &str, corrections: Option<&str>, out: &Path, extra: &[&str]) -> String {
    let (ok, log) = try_new_connector(spec, corrections, out, extra);
    assert!(ok, "new-connector {spec}:\n{log}");
    log
}

fn try_new_connector(
    spec: &str,
    corrections: Option<&str>,
    out: &Path,
    extra: &[&str],
) -> (bool, String) {
    let mut args = vec![
        "run",
        "--offline",
        "--quiet",
        "-p",
        "xtask",
        "--",
        "new-connector",
        "--force",
        "--spec",
        spec,
        "--out",
    ];
    let out_text = out.display().to_string();
    args.push(&out_text);
    if let Some(c) = corrections {
        args.extend(["--corrections", c]);
    }
    args.extend(extra);
    run(&root(), &args, None)
}

/// The `[dependencies]` and `[build-dependencies]` sections, with the path of each workspace
/// crate reduced to its last component.
fn dependency_sections(manifest: &str) -> String {
    let mut out = String::new();
    let mut keep = false;
    for line in manifest.lines() {
        if line.starts_with('[') {
            keep = line == "[dependencies]" || line == "[build-dependencies]";
        }
        if keep && !line.trim().is_empty() {
            let line = match line.find("path = \"") {
                Some(i) => {
                    let rest = &line[i + 8..];
                    let end = rest.find('"').unwrap_or(rest.len());
                    let last = rest[..end].rsplit('/').next().unwrap_or_default();
                    format!("{}path = \"{last}\"{}", &line[..i], &rest[end + 1..])
                }
                None => line.to_string(),
            };
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn new_connector_makes_working_crates() {
    let base = root().join("target/new-connector");
    // One target directory for every test that builds a generated crate (spec_compat and the
    // generator's schema check use it too), so their shared dependencies build once.
    let target = root().join("target/generated");

    // 1. Our spec: the output is this crate, minus its docs, examples and tests.
    let ours = base.join("incident-io");
    let log = new_connector(
        "spec/incident-io.yaml",
        Some("spec/incident-io.corrections.yaml"),
        &ours,
    );
    assert!(log.contains("IncidentIoConnector"), "{log}");
    for file in [
        "build.rs",
        "src/lib.rs",
        "spec/incident-io.yaml",
        "spec/incident-io.corrections.yaml",
    ] {
        assert_eq!(
            std::fs::read_to_string(ours.join(file)).unwrap(),
            std::fs::read_to_string(root().join(file)).unwrap(),
            "{file} differs from what new-connector writes"
        );
    }
    assert_eq!(
        dependency_sections(&std::fs::read_to_string(ours.join("Cargo.toml")).unwrap()),
        dependency_sections(&std::fs::read_to_string(root().join("Cargo.toml")).unwrap()),
        "dependencies differ from what new-connector writes"
    );

    // 2. Two specs of our own writing: basic auth, and OAuth 2 with a refresh token.
    let basic = base.join("marrowbyte");
    new_connector("codegen/tests/specs/read-only-basic.yaml", None, &basic);
    let oauth = base.join("fjordcal");
    new_connector("codegen/tests/specs/read-only-oauth2.yaml", None, &oauth);
    // A spec that uses every supported read construct at once (the conformance spec):
    // extractors, pagination forms, headers, arrays, overrides, singletons.
    let reads = base.join("tidewater");
    new_connector("conformance/spec/reads.yaml", None, &reads);
    // Writes beside reads (the write conformance spec): its smoke test creates a record
    // through `execute`, reads it back, changes it and deletes it, against the emulator.
    let writes = base.join("quillmark");
    new_connector("conformance/spec/writes.yaml", None, &writes);
    let smoke = std::fs::read_to_string(writes.join("tests/smoke.rs")).unwrap();
    for call in [
        "execute_with(\"boards\", \"create\"",
        "execute_with(\"boards\", \"update\"",
        "execute_with(\"boards\", \"delete\"",
        "a deleted boards record is gone",
    ] {
        assert!(smoke.contains(call), "{call} in\n{smoke}");
    }
    // The family fixture with every read construct: refused as a whole, then generated with
    // the operations the generator does not support yet left out (as corrections) and
    // listed.
    let all_reads = "codegen/tests/specs/family/all-reads.yaml";
    let meridian = base.join("meridian");
    let (ok, log) = try_new_connector(all_reads, None, &meridian, &[]);
    assert!(!ok, "{log}");
    assert!(
        log.contains("unsupported construct") && log.contains("--skip-unsupported"),
        "{log}"
    );
    // Left out: a POST search whose cursor has no parameter to go back in (its OAuth scheme
    // with `x-airbyte-token-extract` generates now).
    let log = new_connector_with(all_reads, None, &meridian, &["--skip-unsupported"]);
    assert!(
        log.contains("left out 1 operation(s) or auth scheme(s)"),
        "{log}"
    );
    let readme = std::fs::read_to_string(meridian.join("README.md")).unwrap();
    assert!(readme.contains("## Left out"), "{readme}");
    assert!(
        readme.contains("`$.paths['/users.search'].post`"),
        "{readme}"
    );
    assert!(!readme.contains("meridianOAuth`:"), "{readme}");
    let corrections =
        std::fs::read_to_string(meridian.join("spec/meridian.corrections.yaml")).unwrap();
    assert!(corrections.contains("remove: true"), "{corrections}");
    assert_eq!(
        std::fs::read_to_string(meridian.join("spec/meridian.yaml")).unwrap(),
        std::fs::read_to_string(root().join(all_reads)).unwrap(),
        "the crate keeps the upstream spec as given"
    );
    let readme = std::fs::read_to_string(basic.join("README.md")).unwrap();
    assert!(
        readme.contains("# marrowbyte-connector") && readme.contains("| `customers` | list, get |"),
        "{readme}"
    );
    let manifest = std::fs::read_to_string(oauth.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("name = \"fjordcal-connector\""),
        "{manifest}"
    );

    // 3. Each crate's own `cargo test` passes: it compiles, and its smoke test lists and gets
    //    every entity against the emulator with the spec's auth scheme.
    for dir in [&ours, &basic, &oauth, &reads, &writes, &meridian] {
        let (ok, log) = run(dir, &["test", "--offline"], Some(&target));
        assert!(ok, "cargo test in {}:\n{log}", dir.display());
        assert!(
            log.contains("every_entity_lists_and_gets_against_the_emulator ... ok"),
            "{log}"
        );
    }
    // The OAuth 2 crate can send its refreshes elsewhere (a test server, a proxy).
    let generated = std::fs::read_dir(target.join("debug/build"))
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("fjordcal-connector-")
        })
        .map(|e| e.path().join("out/generated.rs"))
        .find(|p| p.exists())
        .expect("the fjordcal crate was generated");
    let code = std::fs::read_to_string(generated).unwrap();
    assert!(
        code.contains("pub fn token_url(self, url: &str)"),
        "token_url"
    );
    assert!(code.contains("pub struct FjordcalAuthConfig"));
}
