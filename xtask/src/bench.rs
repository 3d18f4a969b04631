//! `cargo xtask bench`: reproduces `BENCHMARKS.md`.
//!
//! 1. `cargo bench --bench decode`: the criterion decode micro-benchmarks (typed models vs
//!    `serde_json::Value`, MB/s), written under `target/criterion`.
//! 2. `cargo build --release -p incident-io-cli`: the CLI binary, whose export is measured.
//! 3. `cargo bench --bench e2e -- --cli target/release/incident-io ...`: the end-to-end
//!    benchmark (release build). It creates
//!    the Python reference's venv under `target/bench-venv`, starts the emulator, runs every
//!    contender in child processes, reads the criterion results, measures the build cost in
//!    a copy of the workspace, and writes `BENCHMARKS.md`.
//!
//! Options are passed through to the e2e binary: `--runs N` (default 5), `--quick` (a smoke
//! run: fewer runs and records, no build cost; not for quoting), `--no-reference`,
//! `--no-build-cost`, `--out PATH`. `--no-decode` skips step 1 (the report then uses the
//! criterion results already under `target/criterion`, if any).

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn bench(root: &Path, args: &[String]) -> Result<(), String> {
    let mut passthrough: Vec<String> = Vec::new();
    let mut decode = true;
    let mut quick = false;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--no-decode" => decode = false,
            "--quick" => {
                quick = true;
                passthrough.push(a.clone());
            }
            "--no-reference" | "--no-build-cost" => passthrough.push(a.clone()),
            "--runs" | "--out" => {
                let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
                passthrough.push(a.clone());
                passthrough.push(v.clone());
            }
            other => {
                return Err(format!(
                    "unknown argument `{other}`; usage: cargo xtask bench [--runs N] [--quick] [--no-reference] [--no-build-cost] [--no-decode] [--out PATH]"
                ))
            }
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let one: f64 = load
            .split_whitespace()
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(0.0);
        println!("bench: load average now {}", load.trim());
        if one > 1.0 {
            println!(
                "bench: warning: the machine is busy (1-minute load {one:.2}); numbers will be noisier. BENCHMARKS.md records the load."
            );
        }
    }

    if decode {
        let mut cmd = cargo(root);
        cmd.args(["bench", "-p", "incident-io-connector", "--bench", "decode"]);
        if quick {
            cmd.args(["--", "--warm-up-time", "1", "--measurement-time", "2"]);
        }
        run(cmd, "cargo bench --bench decode")?;
    }

    // The CLI's export is measured as users run it: the release binary.
    let mut build_cli = cargo(root);
    build_cli.args(["build", "--release", "-p", "incident-io-cli"]);
    run(build_cli, "cargo build --release -p incident-io-cli")?;
    let cli = target.join("release").join("incident-io");

    let mut cmd = cargo(root);
    cmd.args([
        "bench",
        "-p",
        "incident-io-connector",
        "--bench",
        "e2e",
        "--",
    ])
    .arg("--cli")
    .arg(&cli)
    .arg("--criterion-dir")
    .arg(target.join("criterion"))
    .args(&passthrough);
    if !passthrough.iter().any(|a| a == "--out") {
        cmd.arg("--out").arg(root.join("BENCHMARKS.md"));
    }
    run(cmd, "cargo bench --bench e2e")
}

fn cargo(root: &Path) -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root);
    c
}

fn run(mut cmd: Command, what: &str) -> Result<(), String> {
    println!("bench: running {what}");
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} failed ({status})"))
    }
}
