//! Build cost: a clean `cargo build` of the crate (default features, dev profile) in a copy of
//! the workspace with its own target directory, then the rebuild after a one-line edit of the
//! copy's spec, and per-crate compile times from `cargo build --timings`. The copy keeps the
//! real checkout (and its target/) untouched.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::Value;

use crate::report::thousands;

/// The crate's dependency choices, quoted under the measured numbers.
pub const DEPENDENCY_NOTES: &str = "\
Dependency features are chosen on purpose (see `Cargo.toml`):

- **TLS**: reqwest with `default-features = false` and `rustls-no-provider`, plus rustls with \
only the `ring` provider. reqwest's default (rustls with aws-lc-rs) adds a C/CMake build of \
aws-lc, about 20 s more on a clean build of this 2-core machine (measured when the crate was \
set up; see DESIGN.md); ring, C and assembly included, is in the table above. No \
native-tls/OpenSSL.
- **HTTP**: reqwest features `http2`, `json`, `query`, `gzip` only (no blocking client, \
cookies, multipart, brotli/zstd, SOCKS or HTTP/3).
- **tokio**: the crate asks only for `time` and `sync`; the runtime (`rt`, `net`) comes with \
hyper-util, which reqwest needs anyway. The multi-threaded runtime, `macros` and `net` for a \
server are enabled only by the `emulator` feature.
- **chrono** without default features (`serde`, `std`, `clock`: no `oldtime`, no wasm \
bindings); **governor** without default features (no `dashmap`, `quanta`, `jitter`).
- **axum** (emulator), **clap/indicatif/rmcp/schemars** (CLI and MCP server) are optional \
features and cost nothing in a default build.
- **The generator** (progenitor, typify, openapiv3, syn, prettyplease, the YAML parser) is a \
build-dependency: it runs once per spec change and never links into the SDK; `build-override` \
compiles it at `opt-level = 1` so generation is fast in debug builds too.
";

/// A compile unit's cost, summed per crate.
#[derive(Debug, Clone)]
pub struct CrateCost {
    pub name: String,
    pub version: String,
    pub secs: f64,
    /// `runtime`, `generator` (build-dependency only) or `both`.
    pub role: &'static str,
}

#[derive(Debug, Clone, Default)]
pub struct BuildCost {
    pub clean_secs: Option<f64>,
    pub spec_edit_secs: Option<f64>,
    pub noop_secs: Option<f64>,
    pub units: usize,
    pub crates: Vec<CrateCost>,
    pub errors: Vec<String>,
    pub cargo: String,
    pub load_before: String,
    pub load_after: String,
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn cargo_cmd(ws: &Path, target: &Path) -> Command {
    let mut c = Command::new(cargo());
    c.current_dir(ws)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    c
}

/// Runs `cargo build -p incident-io-connector [extra]` in the copy; returns seconds.
fn timed_build(ws: &Path, target: &Path, extra: &[&str]) -> Result<f64, String> {
    let start = Instant::now();
    let out = cargo_cmd(ws, target)
        .args(["build", "-p", "incident-io-connector"])
        .args(extra)
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let secs = start.elapsed().as_secs_f64();
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(8).collect();
        return Err(format!(
            "cargo build failed: {}",
            tail.into_iter().rev().collect::<Vec<_>>().join(" ⏎ ")
        ));
    }
    Ok(secs)
}

pub fn measure(root: &Path, work: &Path) -> BuildCost {
    let mut cost = BuildCost {
        cargo: Command::new(cargo())
            .arg("-V")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default(),
        ..BuildCost::default()
    };
    let base = work.join("build-cost");
    let ws = base.join("workspace");
    let target = base.join("target");
    let _ = std::fs::remove_dir_all(&base);
    if let Err(e) = copy_tree(root, &ws) {
        cost.errors.push(format!("cannot copy the workspace: {e}"));
        return cost;
    }
    // Fetch first (a no-op when the registry cache has everything), so the timing is the
    // build alone.
    let _ = cargo_cmd(&ws, &target).args(["fetch", "--quiet"]).output();

    eprintln!("  clean build ...");
    match timed_build(&ws, &target, &["--timings"]) {
        Ok(s) => cost.clean_secs = Some(s),
        Err(e) => {
            cost.errors.push(e);
            return cost;
        }
    }
    match read_timings(&target.join("cargo-timings/cargo-timing.html")) {
        Ok(units) => {
            cost.units = units.len();
            let runtime = tree_names(&ws, &target, "incident-io-connector");
            let generator = tree_names(&ws, &target, "incident-io-connector-codegen");
            let mut by_crate: Vec<CrateCost> = Vec::new();
            for (name, version, secs) in units {
                match by_crate
                    .iter_mut()
                    .find(|c| c.name == name && c.version == version)
                {
                    Some(c) => c.secs += secs,
                    None => {
                        let role = match (runtime.contains(&name), generator.contains(&name)) {
                            (true, true) => "both",
                            (false, true) => "generator",
                            _ => "runtime",
                        };
                        by_crate.push(CrateCost {
                            name,
                            version,
                            secs,
                            role,
                        });
                    }
                }
            }
            by_crate.sort_by(|a, b| b.secs.total_cmp(&a.secs));
            cost.crates = by_crate;
        }
        Err(e) => cost
            .errors
            .push(format!("cannot read the --timings report: {e}")),
    }

    eprintln!("  no-op rebuild ...");
    match timed_build(&ws, &target, &[]) {
        Ok(s) => cost.noop_secs = Some(s),
        Err(e) => cost.errors.push(e),
    }

    eprintln!("  rebuild after a one-line spec edit ...");
    let spec = ws.join("spec/incident-io.yaml");
    match edit_spec(&spec) {
        Ok(()) => match timed_build(&ws, &target, &[]) {
            Ok(s) => cost.spec_edit_secs = Some(s),
            Err(e) => cost.errors.push(e),
        },
        Err(e) => cost.errors.push(e),
    }
    // The copy is large and only useful for this measurement.
    let _ = std::fs::remove_dir_all(&base);
    cost
}

/// Appends a few words to the first plain-scalar `description:` line of the spec.
fn edit_spec(spec: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(spec).map_err(|e| format!("{}: {e}", spec.display()))?;
    let mut done = false;
    let edited: Vec<String> = text
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if !done
                && t.starts_with("description: ")
                && t["description: ".len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphanumeric())
            {
                done = true;
                format!("{l} (edited for the rebuild benchmark)")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !done {
        return Err("no plain description line to edit in the spec".into());
    }
    std::fs::write(spec, edited.join("\n") + "\n").map_err(|e| e.to_string())
}

/// (crate name, version, seconds) of every unit in cargo's timings report.
fn read_timings(path: &Path) -> Result<Vec<(String, String, f64)>, String> {
    let html = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let start = html
        .find("const UNIT_DATA = ")
        .ok_or("no UNIT_DATA in the report")?
        + "const UNIT_DATA = ".len();
    let mut de = serde_json::Deserializer::from_str(&html[start..]).into_iter::<Value>();
    let data = de
        .next()
        .ok_or("empty UNIT_DATA")?
        .map_err(|e| e.to_string())?;
    Ok(data
        .as_array()
        .ok_or("UNIT_DATA is not an array")?
        .iter()
        .map(|u| {
            (
                u["name"].as_str().unwrap_or("?").to_string(),
                u["version"].as_str().unwrap_or("").to_string(),
                u["duration"].as_f64().unwrap_or(0.0),
            )
        })
        .collect())
}

/// Names of the crates in a package's normal-dependency tree (default features).
fn tree_names(ws: &Path, target: &Path, package: &str) -> BTreeSet<String> {
    cargo_cmd(ws, target)
        .args(["tree", "-p", package, "-e", "normal", "--prefix", "none"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(|n| n.replace('-', "_"))
                .chain(
                    String::from_utf8_lossy(&o.stdout)
                        .lines()
                        .filter_map(|l| l.split_whitespace().next())
                        .map(str::to_string),
                )
                .collect()
        })
        .unwrap_or_default()
}

/// Copies the workspace (sources, manifests, lock file) without target/, .git/ or fuzz/.
fn copy_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let name_s = name.to_string_lossy();
        if matches!(name_s.as_ref(), "target" | ".git" | "fuzz") {
            continue;
        }
        let src: PathBuf = entry.path();
        let dst = to.join(&name);
        let ty = entry.file_type()?;
        if ty.is_dir() {
            copy_tree(&src, &dst)?;
        } else if ty.is_file() {
            std::fs::copy(&src, &dst)?;
        }
    }
    Ok(())
}

impl BuildCost {
    pub fn render(&self, w: &mut String) {
        let secs = |s: Option<f64>| s.map_or("not measured".to_string(), |s| format!("{s:.1} s"));
        let _ = writeln!(
            w,
            "Measured in a copy of the workspace with its own target directory (`{}`, dev \
             profile, default features, `cargo build -p incident-io-connector`), while nothing \
             else of this benchmark ran ({} before, {} after).\n",
            self.cargo, self.load_before, self.load_after
        );
        let _ = writeln!(w, "| | |\n|---|---|");
        let _ = writeln!(
            w,
            "| Clean build (all dependencies, the generator, build.rs, the crate) | {} |",
            secs(self.clean_secs)
        );
        let _ = writeln!(
            w,
            "| Rebuild after a one-line spec edit (a field description) | {} |",
            secs(self.spec_edit_secs)
        );
        let _ = writeln!(w, "| No-op rebuild | {} |", secs(self.noop_secs));
        let _ = writeln!(w, "| Compile units in the clean build | {} |", self.units);
        let _ = writeln!(w);
        for e in &self.errors {
            let _ = writeln!(w, "- Error: {e}");
        }
        if self.crates.is_empty() {
            return;
        }
        let total: f64 = self.crates.iter().map(|c| c.secs).sum();
        let by_role = |role: &str| -> f64 {
            self.crates
                .iter()
                .filter(|c| c.role == role)
                .map(|c| c.secs)
                .sum()
        };
        let _ = writeln!(
            w,
            "Where the clean build's time goes (`cargo build --timings`: each crate's compile \
             units summed; units overlap on 2 cores, so the sum, {:.0} s, exceeds the wall \
             time). By role: runtime dependencies {:.0} s, generator-only build-dependencies \
             {:.0} s, crates both use {:.0} s.\n",
            total,
            by_role("runtime"),
            by_role("generator"),
            by_role("both")
        );
        let named: Vec<String> = [
            "ring", "rustls", "reqwest", "hyper", "tokio", "chrono", "axum",
        ]
        .iter()
        .filter_map(|n| {
            let c = self.crates.iter().find(|c| c.name == *n)?;
            Some(format!("{} {:.1} s", c.name, c.secs))
        })
        .collect();
        if !named.is_empty() {
            let _ = writeln!(w, "Selected runtime crates: {}.\n", named.join(", "));
        }
        let _ = writeln!(
            w,
            "| Crate | Role | Compile time | Share |\n|---|---|---|---|"
        );
        for c in self.crates.iter().take(20) {
            let _ = writeln!(
                w,
                "| {} {} | {} | {:.1} s | {:.0}% |",
                c.name,
                c.version,
                c.role,
                c.secs,
                c.secs / total * 100.0
            );
        }
        let rest = self.crates.len().saturating_sub(20);
        if rest > 0 {
            let rest_secs: f64 = self.crates.iter().skip(20).map(|c| c.secs).sum();
            let _ = writeln!(
                w,
                "| {} other crates | | {rest_secs:.1} s | {:.0}% |",
                thousands(rest as f64),
                rest_secs / total * 100.0
            );
        }
        let _ = writeln!(w);
    }
}
