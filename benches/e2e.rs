//! The end-to-end benchmark: the SDK against a raw reqwest baseline and the Python reference
//! SDK, side by side in one run, over the in-process emulator on 127.0.0.1.
//!
//! `cargo xtask bench` runs it (after the criterion decode benchmarks) and it writes
//! `BENCHMARKS.md`. By hand: `cargo bench --bench e2e -- [--out PATH] [--runs N] [--quick]
//! [--no-reference] [--no-build-cost] [--criterion-dir DIR]`.
//!
//! This process runs the emulator and orchestrates; every measured run is a child process
//! (this binary re-invoked as `e2e child ...`, or `python benches/reference.py ...`), so
//! each contender's peak RSS (VmHWM) is its own, and contenders alternate run by run.
//! `e2e serve [INCIDENTS] [real]` only starts an emulator (with real-shaped records when
//! `real` is given) and prints how to reach it (for poking at the contenders by hand).

#[path = "e2e/build_cost.rs"]
mod build_cost;
#[path = "e2e/child.rs"]
mod child;
#[path = "e2e/profile.rs"]
mod profile;
#[path = "e2e/report.rs"]
mod report;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use connector_sdk_emulator::{Emulator, RecordShape};
use serde_json::Value;

use child::Opts;
use report::{Report, Series};

/// The reference SDK version measured.
pub const REFERENCE_VERSION: &str = "0.1.380";
/// Incidents served for the throughput runs.
const INCIDENTS: usize = 10_000;
/// Incidents served for the streaming-memory runs.
const MEMORY_INCIDENTS: usize = 100_000;
/// Latency the emulator adds per request in the pipelining runs.
const PIPELINE_LATENCY: Duration = Duration::from_millis(50);
/// No child run may take longer than this.
const CHILD_TIMEOUT: Duration = Duration::from_secs(300);

fn main() -> ExitCode {
    // `cargo bench` appends `--bench`.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("child") => child::main(&args[1..]),
        Some("serve") => serve(
            args.get(1).and_then(|n| n.parse().ok()),
            args.get(2).map(String::as_str) == Some("real"),
        ),
        _ => match orchestrate(&args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("e2e: {e}");
                ExitCode::FAILURE
            }
        },
    }
}

fn serve(incidents: Option<usize>, real_shaped: bool) -> ExitCode {
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    rt.block_on(async {
        let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
            .count("incidents", incidents.unwrap_or(INCIDENTS))
            .record_shape(if real_shaped {
                RecordShape::RealShaped
            } else {
                RecordShape::Lean
            })
            .start()
            .await
            .expect("emulator");
        println!(
            "url {}\napi key {}\nairbyte client {} / {}\nworkspace {}",
            emu.base_url(),
            emu.api_key(),
            emu.airbyte_client_id(),
            emu.airbyte_client_secret(),
            emu.airbyte_workspace()
        );
        loop {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
    })
}

/// Command-line settings of one benchmark run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub out: PathBuf,
    pub runs: usize,
    pub quick: bool,
    pub reference: bool,
    pub build_cost: bool,
    pub profile: bool,
    pub criterion_dir: PathBuf,
    pub root: PathBuf,
    pub work: PathBuf,
    /// The release `incident-io` binary (for the export rows), if built.
    pub cli: Option<PathBuf>,
}

fn parse_settings(args: &[String]) -> Result<Settings, String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let mut s = Settings {
        out: root.join("BENCHMARKS.md"),
        runs: 5,
        quick: false,
        reference: true,
        build_cost: true,
        profile: true,
        criterion_dir: target.join("criterion"),
        work: target.join("bench-work"),
        cli: None,
        root,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{a} needs a value"))
        };
        match a.as_str() {
            "--out" => s.out = PathBuf::from(value()?),
            "--runs" => {
                s.runs = value()?
                    .parse()
                    .map_err(|_| "--runs needs a number".to_string())?
            }
            "--criterion-dir" => s.criterion_dir = PathBuf::from(value()?),
            "--cli" => s.cli = Some(PathBuf::from(value()?)),
            "--quick" => s.quick = true,
            "--no-reference" => s.reference = false,
            "--no-build-cost" => s.build_cost = false,
            "--no-profile" => s.profile = false,
            other => {
                return Err(format!(
                    "unknown argument {other}; usage: e2e [--out PATH] [--runs N] [--quick] [--no-reference] [--no-build-cost] [--no-profile] [--criterion-dir DIR] [--cli PATH]"
                ))
            }
        }
    }
    if s.quick {
        s.runs = s.runs.min(2);
        s.build_cost = false;
    }
    s.runs = s.runs.max(1);
    Ok(s)
}

/// Which program a contender runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Who {
    /// Our typed API (`imp` picks the variant).
    Sdk(&'static str),
    /// The hand-written reqwest loop.
    Raw,
    /// The raw loop skipping every record: server + transfer + JSON scan.
    Floor,
    /// A hand-written reqwest loop writing each record's borrowed `RawValue` bytes.
    RawSplice,
    /// The `incident-io` binary.
    Cli,
    /// The Python reference SDK.
    Reference,
}

impl Who {
    pub fn label(self) -> String {
        match self {
            Who::Sdk("sdk") => "this SDK, `stream()`".into(),
            Who::Sdk("sdk-prefetch") => "this SDK, `stream()` + `.prefetch(true)`".into(),
            Who::Sdk("sdk-execute") => "this SDK, `execute_raw` page loop".into(),
            Who::RawSplice => "raw reqwest loop splicing each record's bytes".into(),
            Who::Cli => "`incident-io incidents list --all --format jsonl`".into(),
            Who::Sdk(other) => format!("this SDK ({other})"),
            Who::Raw => "raw reqwest + serde loop".into(),
            Who::Floor => "floor: same requests, records skipped".into(),
            Who::Reference => format!("Python reference `airbyte-agent-sdk=={REFERENCE_VERSION}`"),
        }
    }
}

/// Runs child processes and keeps their logs.
struct Runner {
    exe: PathBuf,
    cli: Option<PathBuf>,
    python: Option<PathBuf>,
    script: PathBuf,
    work: PathBuf,
    seq: usize,
}

impl Runner {
    /// Runs one contender once; returns its JSON line.
    fn run(&mut self, who: Who, opts: &Opts) -> Result<Value, String> {
        let mut cmd = match who {
            Who::Reference => {
                let py = self
                    .python
                    .as_ref()
                    .ok_or("the reference is not installed")?;
                let mut c = Command::new(py);
                c.arg(&self.script).args(opts.to_args(false));
                c.env("AIRBYTE_TELEMETRY_MODE", "disabled")
                    .env("PYTHONDONTWRITEBYTECODE", "1");
                c
            }
            Who::Sdk(imp) => {
                let mut o = opts.clone();
                o.imp = imp.to_string();
                let mut c = Command::new(&self.exe);
                c.arg("child").args(o.to_args(true));
                c
            }
            Who::Raw | Who::Floor | Who::RawSplice | Who::Cli => {
                let mut o = opts.clone();
                o.imp = match who {
                    Who::Raw => "raw",
                    Who::Floor => "floor",
                    Who::RawSplice => "raw-splice",
                    _ => "cli",
                }
                .into();
                if who == Who::Cli {
                    o.cli = self
                        .cli
                        .as_ref()
                        .ok_or("the CLI binary was not built (pass --cli PATH)")?
                        .display()
                        .to_string();
                }
                let mut c = Command::new(&self.exe);
                c.arg("child").args(o.to_args(true));
                c
            }
        };
        self.seq += 1;
        let tag = format!("{:04}-{}-{}", self.seq, opts.task, opts.mode);
        let out_path = self.work.join(format!("{tag}.out"));
        let err_path = self.work.join(format!("{tag}.err"));
        let out = std::fs::File::create(&out_path).map_err(|e| e.to_string())?;
        let err = std::fs::File::create(&err_path).map_err(|e| e.to_string())?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {who:?}: {e}"))?;
        let start = Instant::now();
        let status = loop {
            match child.try_wait().map_err(|e| e.to_string())? {
                Some(status) => break status,
                None if start.elapsed() > CHILD_TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("timed out after {CHILD_TIMEOUT:?}"));
                }
                None => std::thread::sleep(Duration::from_millis(5)),
            }
        };
        let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
        let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
        let last = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'));
        match (status.success(), last) {
            (true, Some(line)) => serde_json::from_str(line).map_err(|e| e.to_string()),
            _ => Err(format!(
                "exit {status}; stderr: {}",
                tail(&stderr, 600).replace('\n', " ⏎ ")
            )),
        }
    }
}

fn tail(s: &str, n: usize) -> String {
    let s = s.trim();
    let start = s.len().saturating_sub(n);
    let start = (start..=s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    s[start..].to_string()
}

/// Runs `who` × runs, alternating contenders run by run; `value` turns a child's JSON into
/// the number recorded.
fn measure(
    runner: &mut Runner,
    contenders: &[Who],
    opts: &Opts,
    runs: usize,
    what: &str,
    value: impl Fn(&Value) -> Option<f64>,
) -> Vec<Series> {
    let mut series: Vec<Series> = contenders
        .iter()
        .map(|w| Series::new(*w, &w.label()))
        .collect();
    for r in 0..runs {
        for k in 0..contenders.len() {
            let i = (k + r) % contenders.len();
            let who = contenders[i];
            if series[i].skip.is_some() {
                continue;
            }
            eprint!("  {what} {} run {}/{runs} ... ", who.label(), r + 1);
            match runner.run(who, opts) {
                Ok(v) => match value(&v) {
                    Some(x) => {
                        eprintln!("{x:.1}");
                        series[i].values.push(x);
                        series[i].rss_kb.push(v["rss_kb"].as_u64().unwrap_or(0));
                        series[i].raw.push(v);
                    }
                    None => {
                        eprintln!("bad output {v}");
                        series[i].errors.push(format!("unexpected output {v}"));
                    }
                },
                Err(e) => {
                    eprintln!("failed: {e}");
                    series[i].errors.push(e);
                    // A contender that fails twice is not tried again in this section.
                    if series[i].errors.len() >= 2 {
                        series[i].skip = Some("failed twice".into());
                    }
                }
            }
        }
    }
    series
}

/// Where export runs write their files: memory-backed `/dev/shm` when there is one (so disk
/// writeback does not add noise), else the work directory.
fn export_dir(s: &Settings) -> PathBuf {
    let shm = Path::new("/dev/shm");
    let probe = shm.join(format!("e2e-probe-{}", std::process::id()));
    if std::fs::write(&probe, b"x").is_ok() {
        let _ = std::fs::remove_file(&probe);
        return shm.to_path_buf();
    }
    s.work.clone()
}

fn per_sec(v: &Value) -> Option<f64> {
    let items = v["items"].as_f64()?;
    let secs = v["secs"].as_f64()?;
    (secs > 0.0).then(|| items / secs)
}

fn orchestrate(args: &[String]) -> Result<(), String> {
    let s = parse_settings(args)?;
    std::fs::create_dir_all(&s.work).map_err(|e| format!("{}: {e}", s.work.display()))?;
    let mut report = Report::new(&s);
    report.machine_before = report::machine_state();
    eprintln!("e2e: machine: {}", report.machine_before.load);

    // The Python reference, in a venv under target/.
    let mut python = None;
    if s.reference {
        match setup_reference(&s) {
            Ok((py, version)) => {
                eprintln!("e2e: reference ready ({version})");
                report.reference_version = Some(version);
                python = Some(py);
            }
            Err(e) => {
                eprintln!("e2e: reference unavailable: {e}");
                report.reference_error = Some(e);
            }
        }
    } else {
        report.reference_error = Some("skipped (--no-reference)".into());
    }
    let mut runner = Runner {
        exe: std::env::current_exe().map_err(|e| e.to_string())?,
        cli: s.cli.clone(),
        python,
        script: s.root.join("benches/reference.py"),
        work: s.work.clone(),
        seq: 0,
    };
    let with_ref = runner.python.is_some();

    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let started = Instant::now();

    // ── Throughput: one emulator with 10,000 incidents. ──
    let emu = rt
        .block_on(
            Emulator::builder(incident_io_connector::SPEC_JSON)
                .count("incidents", INCIDENTS)
                .start(),
        )
        .map_err(|e| format!("emulator: {e}"))?;
    let ids_path = s.work.join("incident-ids.txt");
    let user_ids_path = s.work.join("user-ids.txt");
    let ids: Vec<String> = (0..1_000)
        .filter_map(|i| emu.record("incidents", i * (INCIDENTS / 1_000)))
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect();
    let users = emu.record_count("users").unwrap_or(0);
    let user_ids: Vec<String> = (0..users)
        .filter_map(|i| emu.record("users", i))
        .filter_map(|r| r["id"].as_str().map(str::to_string))
        .collect();
    std::fs::write(&ids_path, ids.join("\n")).map_err(|e| e.to_string())?;
    std::fs::write(&user_ids_path, user_ids.join("\n")).map_err(|e| e.to_string())?;
    let base = Opts {
        url: emu.base_url(),
        api_key: emu.api_key().to_string(),
        client_id: emu.airbyte_client_id().to_string(),
        client_secret: emu.airbyte_client_secret().to_string(),
        workspace: emu.airbyte_workspace().to_string(),
        ..Opts::default()
    };
    // A reference that cannot even run once is reported, not measured.
    if with_ref {
        let probe = Opts {
            task: "paginate".into(),
            limit: 10,
            warmup: 0,
            page_size: 5,
            ..base.clone()
        };
        for mode in ["direct", "hosted"] {
            let o = Opts {
                mode: mode.into(),
                ..probe.clone()
            };
            if let Err(e) = runner.run(Who::Reference, &o) {
                eprintln!("e2e: the reference failed its {mode} probe: {e}");
                report.reference_error = Some(format!("the {mode}-mode probe failed: {e}"));
                runner.python = None;
                break;
            }
        }
    }
    let with_ref = runner.python.is_some();
    let mut contenders = vec![
        Who::Sdk("sdk"),
        Who::Sdk("sdk-prefetch"),
        Who::Raw,
        Who::Floor,
    ];
    if with_ref {
        contenders.push(Who::Reference);
    }
    let mut get_contenders = vec![Who::Sdk("sdk"), Who::Raw];
    if with_ref {
        get_contenders.push(Who::Reference);
    }

    for mode in ["direct", "hosted"] {
        eprintln!("e2e: full pagination, {mode}");
        let o = Opts {
            task: "paginate".into(),
            mode: mode.into(),
            warmup: 1,
            limit: if s.quick { 2_500 } else { 0 },
            ..base.clone()
        };
        let series = measure(&mut runner, &contenders, &o, s.runs, "paginate", per_sec);
        report.pagination.push((mode.to_string(), series));
    }
    for mode in ["direct", "hosted"] {
        eprintln!("e2e: get fan-out, {mode}");
        let o = Opts {
            task: "fanout".into(),
            mode: mode.into(),
            ids: ids_path.display().to_string(),
            concurrency: 32,
            ..base.clone()
        };
        let mut series = measure(&mut runner, &get_contenders, &o, s.runs, "fanout", per_sec);
        series[0].label = "this SDK, `get` with `buffer_unordered(32)`".into();
        report.fanout.push((mode.to_string(), series));
    }
    for mode in ["direct", "hosted"] {
        eprintln!("e2e: per-call latency, {mode}");
        let o = Opts {
            task: "latency".into(),
            mode: mode.into(),
            ids: user_ids_path.display().to_string(),
            n: if s.quick { 500 } else { 2_000 },
            ..base.clone()
        };
        let mut lat_contenders = vec![Who::Sdk("sdk")];
        if with_ref {
            lat_contenders.push(Who::Reference);
        }
        let mut series = measure(&mut runner, &lat_contenders, &o, s.runs, "latency", |v| {
            v["overhead_us"]
                .as_f64()
                .or_else(|| v["median_us"].as_f64())
        });
        series[0].label = "this SDK".into();
        report.latency.push((mode.to_string(), series));
        // The same, with the raw client given the SDK's timeouts: how much of the overhead is
        // the per-request timeout timer rather than SDK code.
        let o = Opts {
            raw_timeouts: true,
            ..o
        };
        let mut series = measure(
            &mut runner,
            &[Who::Sdk("sdk")],
            &o,
            s.runs,
            "latency (raw with timeouts)",
            |v| v["overhead_us"].as_f64(),
        );
        report
            .latency_timeouts
            .push((mode.to_string(), series.remove(0)));
    }

    rt.block_on(emu.shutdown());

    // ── Real-shaped records: pagination, export, profiles. ──
    let emu = rt
        .block_on(
            Emulator::builder(incident_io_connector::SPEC_JSON)
                .count("incidents", INCIDENTS)
                .record_shape(RecordShape::RealShaped)
                .start(),
        )
        .map_err(|e| format!("emulator: {e}"))?;
    let base = Opts {
        url: emu.base_url(),
        ..base
    };
    for mode in ["direct", "hosted"] {
        eprintln!("e2e: full pagination, real-shaped records, {mode}");
        let o = Opts {
            task: "paginate".into(),
            mode: mode.into(),
            warmup: 1,
            limit: if s.quick { 2_500 } else { 0 },
            ..base.clone()
        };
        let series = measure(&mut runner, &contenders, &o, s.runs, "paginate", per_sec);
        report.pagination_real.push((mode.to_string(), series));
    }
    let mut export_contenders = vec![Who::Cli, Who::Sdk("sdk-execute"), Who::RawSplice];
    if runner.cli.is_none() {
        export_contenders.remove(0);
        report.export_note = Some(
            "The CLI was not measured: the e2e binary ran without `--cli PATH` (`cargo xtask bench` builds the CLI and passes it).".into(),
        );
    }
    if with_ref {
        export_contenders.push(Who::Reference);
    }
    for mode in ["direct", "hosted"] {
        eprintln!("e2e: export as JSON lines, real-shaped records, {mode}");
        let o = Opts {
            task: "export".into(),
            mode: mode.into(),
            warmup: 1,
            out: export_dir(&s)
                .join(format!("export-{mode}.jsonl"))
                .display()
                .to_string(),
            ..base.clone()
        };
        let series = measure(
            &mut runner,
            &export_contenders,
            &o,
            s.runs,
            "export",
            per_sec,
        );
        let _ = std::fs::remove_file(&o.out);
        report.export.push((mode.to_string(), series));
    }

    // ── Profiles (untimed extra runs). ──
    if !s.profile {
        report.profile_note = Some("Not profiled in this run (`--no-profile`).".into());
    } else if !profile::perf_available() {
        report.profile_note = Some(
            "Not profiled: `perf` is not installed (on Debian: `apt-get install linux-perf`)."
                .into(),
        );
    } else {
        eprintln!("e2e: profiles");
        let paginate = Opts {
            task: "paginate".into(),
            warmup: 3,
            ..base.clone()
        };
        let floor = Opts {
            mode: "hosted".into(),
            imp: "floor".into(),
            ..paginate.clone()
        };
        let exe = runner.exe.clone();
        report.profiles.push(profile::profile_self(
            "The emulator serving hosted pages of real-shaped records (the floor client paginating through `/execute`)",
            &profile::data_path(&s.work, "emulator"),
            || {
                let _ = runner.run(Who::Floor, &floor);
            },
        ));
        for mode in ["hosted", "direct"] {
            let o = Opts {
                mode: mode.into(),
                imp: "sdk".into(),
                ..paginate.clone()
            };
            report.profiles.push(profile::profile_child(
                &format!(
                    "This SDK's process paginating real-shaped records in {mode} mode (`stream()`)"
                ),
                &profile::data_path(&s.work, &format!("sdk-{mode}")),
                &exe,
                &o,
            ));
        }
    }
    rt.block_on(emu.shutdown());

    // ── Pipelining: 50 ms per request. ──
    eprintln!("e2e: pipelining");
    let emu = rt
        .block_on(
            Emulator::builder(incident_io_connector::SPEC_JSON)
                .count("incidents", INCIDENTS)
                .start(),
        )
        .map_err(|e| format!("emulator: {e}"))?;
    emu.faults().set_latency(PIPELINE_LATENCY);
    let pipe_runs = if s.quick { 1 } else { 3 };
    for work_ms in [0u64, 50] {
        let o = Opts {
            task: "paginate".into(),
            mode: "direct".into(),
            warmup: 0,
            work_ms,
            limit: if s.quick { 2_500 } else { 0 },
            url: emu.base_url(),
            ..base.clone()
        };
        let series = measure(
            &mut runner,
            &[Who::Sdk("sdk"), Who::Sdk("sdk-prefetch")],
            &o,
            pipe_runs,
            "pipelining",
            |v| v["secs"].as_f64(),
        );
        report.pipelining.push((work_ms, series));
    }
    rt.block_on(emu.shutdown());

    // ── Streaming memory: 1,000 vs 100,000 incidents from one 100,000-incident emulator. ──
    eprintln!("e2e: streaming memory");
    let emu = rt
        .block_on(
            Emulator::builder(incident_io_connector::SPEC_JSON)
                .count("incidents", MEMORY_INCIDENTS)
                .start(),
        )
        .map_err(|e| format!("emulator: {e}"))?;
    let mem_runs = if s.quick { 1 } else { 3 };
    let mem_sizes: &[usize] = if s.quick {
        &[1_000, 20_000]
    } else {
        &[1_000, MEMORY_INCIDENTS]
    };
    for &limit in mem_sizes {
        for (imp, mode) in [
            ("sdk", "direct"),
            ("sdk-prefetch", "direct"),
            ("sdk", "hosted"),
        ] {
            let o = Opts {
                task: "paginate".into(),
                mode: mode.into(),
                warmup: 0,
                limit,
                url: emu.base_url(),
                ..base.clone()
            };
            let series = measure(
                &mut runner,
                &[Who::Sdk(imp)],
                &o,
                mem_runs,
                "memory",
                per_sec,
            );
            report.memory.push((limit, mode.to_string(), series));
        }
    }
    // The CLI's export holds one page at a time too: all of a 1,000-incident emulator versus
    // all of the 100,000-incident one.
    if runner.cli.is_some() {
        let small = rt
            .block_on(
                Emulator::builder(incident_io_connector::SPEC_JSON)
                    .count("incidents", 1_000)
                    .start(),
            )
            .map_err(|e| format!("emulator: {e}"))?;
        for (n, url) in [(1_000, small.base_url()), (mem_sizes[1], emu.base_url())] {
            if n != MEMORY_INCIDENTS && n != 1_000 {
                continue; // --quick: the CLI has no limit flag; skip the big export
            }
            let o = Opts {
                task: "export".into(),
                mode: "direct".into(),
                warmup: 0,
                url,
                out: export_dir(&s)
                    .join("export-memory.jsonl")
                    .display()
                    .to_string(),
                ..base.clone()
            };
            let series = measure(&mut runner, &[Who::Cli], &o, mem_runs, "memory", per_sec);
            let _ = std::fs::remove_file(&o.out);
            report.memory.push((n, "direct".to_string(), series));
        }
        rt.block_on(small.shutdown());
    }
    rt.block_on(emu.shutdown());
    report.bench_secs = started.elapsed().as_secs_f64();
    report.machine_after = report::machine_state();

    // ── Decode micro-benchmarks (criterion, run before this binary by `cargo xtask bench`). ──
    report.decode = report::read_criterion(&s.criterion_dir);
    report.allocations = report::read_allocations(&s.criterion_dir);

    // ── Build cost (last: it loads both cores for minutes). ──
    if s.build_cost {
        eprintln!("e2e: build cost (clean build in a copy of the workspace)");
        let before = report::machine_state();
        let mut b = build_cost::measure(&s.root, &s.work);
        b.load_before = before.load;
        b.load_after = report::machine_state().load;
        report.build = Some(b);
    }
    report.generated_lines = std::fs::read_to_string(s.root.join("snapshot/generated.rs"))
        .map(|t| t.lines().count())
        .ok();

    let md = report.render();
    std::fs::write(&s.out, &md).map_err(|e| format!("cannot write {}: {e}", s.out.display()))?;
    eprintln!("e2e: wrote {}", s.out.display());
    print!("{}", report.summary());
    Ok(())
}

/// Creates (or reuses) `target/bench-venv` with the pinned reference; returns its python
/// and the installed version.
fn setup_reference(s: &Settings) -> Result<(PathBuf, String), String> {
    let venv = s
        .work
        .parent()
        .unwrap_or(Path::new("target"))
        .join("bench-venv");
    let py = venv.join("bin/python");
    let installed = |py: &Path| -> Option<String> {
        let out = Command::new(py)
            .args([
                "-c",
                "import importlib.metadata as m; print(m.version('airbyte-agent-sdk'))",
            ])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    };
    if !py.exists() {
        let python3 = std::env::var("BENCH_PYTHON").unwrap_or_else(|_| "python3".into());
        let out = Command::new(&python3)
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .map_err(|e| format!("cannot run {python3}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`{python3} -m venv` failed: {}",
                tail(&String::from_utf8_lossy(&out.stderr), 400)
            ));
        }
    }
    if installed(&py).as_deref() != Some(REFERENCE_VERSION) {
        eprintln!(
            "e2e: installing airbyte-agent-sdk=={REFERENCE_VERSION} into {}",
            venv.display()
        );
        let out = Command::new(&py)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                &format!("airbyte-agent-sdk=={REFERENCE_VERSION}"),
            ])
            .output()
            .map_err(|e| format!("cannot run pip: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`pip install airbyte-agent-sdk=={REFERENCE_VERSION}` failed: {}",
                tail(&String::from_utf8_lossy(&out.stderr), 400)
            ));
        }
    }
    let version = installed(&py).ok_or("the reference is not importable after install")?;
    let pyver = Command::new(&py)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    Ok((py, format!("airbyte-agent-sdk {version} on {pyver}")))
}
