//! The Rust contenders. Each run is one child process (`e2e child <task> ...`), so its peak
//! RSS is its own; it prints one JSON line on stdout:
//!
//! - `paginate`: every incident (or `--limit`) at `--page-size`, `--warmup` untimed passes
//!   then one timed pass → `{items, secs, checksum, rss_kb}`. `--impl sdk` is the typed
//!   `stream()`, `sdk-prefetch` the same with `.prefetch(true)`, `raw` a hand-written reqwest
//!   loop decoding the same pages into the same `models` structs, `floor` the same requests
//!   with every record skipped (server + transfer + a JSON scan). `--work-ms` simulates the
//!   caller's work per page (an async sleep after each page's last record).
//! - `fanout`: `incidents.get(id)` for every id in `--ids`, `--concurrency` in flight with
//!   `buffer_unordered` → `{items, secs, rss_kb}`.
//! - `latency`: `--n` sequential `users.get(id)` through the SDK and the raw loop,
//!   interleaved (ABBA) in one process → `{sdk_median_us, raw_median_us, overhead_us, ...}`.
//! - `export`: every incident at `--page-size` written to `--out` as JSON lines, one record
//!   per line, `--warmup` untimed passes then one timed pass → `{items, secs, bytes, rss_kb}`.
//!   `--impl sdk-execute` pages with `execute_raw` and writes each record's bytes,
//!   `raw-splice` is a hand-written reqwest loop borrowing each record as a `RawValue` and
//!   writing its bytes, `cli` runs the `incident-io` binary (`--cli PATH`: `incidents list
//!   --all --page-size N --format jsonl`, stdout to `--out`; its peak RSS from
//!   `getrusage(RUSAGE_CHILDREN)`). Every run checks the file afterwards (untimed): one line
//!   per record, each a JSON object with an `id`, no id twice.
//!
//! The same options (minus `--impl`/`--work-ms`) drive `benches/reference.py`.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use incident_io_connector::{models, AirbyteAuthConfig, IncidentIoAuthConfig, IncidentIoConnector};
use serde::Deserialize;
use serde_json::{json, Value};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

/// Options of one contender run (shared with the parent, which renders them as arguments).
#[derive(Debug, Clone)]
pub struct Opts {
    pub task: String,
    pub imp: String,
    pub mode: String,
    pub url: String,
    pub api_key: String,
    pub client_id: String,
    pub client_secret: String,
    pub workspace: String,
    pub page_size: usize,
    pub limit: usize,
    pub warmup: usize,
    pub ids: String,
    pub concurrency: usize,
    pub n: usize,
    pub work_ms: u64,
    /// Give the raw client the SDK's timeouts (60 s per request, 10 s to connect).
    pub raw_timeouts: bool,
    /// `export`: the JSON-lines file to write.
    pub out: String,
    /// `export --impl cli`: the `incident-io` binary.
    pub cli: String,
}

impl Default for Opts {
    fn default() -> Self {
        Opts {
            task: "paginate".into(),
            imp: "sdk".into(),
            mode: "direct".into(),
            url: String::new(),
            api_key: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            workspace: "default".into(),
            page_size: 250,
            limit: 0,
            warmup: 1,
            ids: String::new(),
            concurrency: 32,
            n: 1000,
            work_ms: 0,
            raw_timeouts: false,
            out: String::new(),
            cli: String::new(),
        }
    }
}

impl Opts {
    /// Arguments for a child (`rust`: our binary, else the Python script).
    pub fn to_args(&self, rust: bool) -> Vec<String> {
        let mut a = vec![
            self.task.clone(),
            "--mode".into(),
            self.mode.clone(),
            "--url".into(),
            self.url.clone(),
            "--api-key".into(),
            self.api_key.clone(),
            "--client-id".into(),
            self.client_id.clone(),
            "--client-secret".into(),
            self.client_secret.clone(),
            "--workspace".into(),
            self.workspace.clone(),
            "--page-size".into(),
            self.page_size.to_string(),
            "--limit".into(),
            self.limit.to_string(),
            "--warmup".into(),
            self.warmup.to_string(),
            "--ids".into(),
            self.ids.clone(),
            "--concurrency".into(),
            self.concurrency.to_string(),
            "--n".into(),
            self.n.to_string(),
            "--out".into(),
            self.out.clone(),
        ];
        if rust {
            a.extend([
                "--impl".into(),
                self.imp.clone(),
                "--work-ms".into(),
                self.work_ms.to_string(),
                "--raw-timeouts".into(),
                u8::from(self.raw_timeouts).to_string(),
                "--cli".into(),
                self.cli.clone(),
            ]);
        }
        a
    }

    fn parse(args: &[String]) -> Res<Opts> {
        let mut o = Opts {
            task: args.first().cloned().ok_or("child: missing task")?,
            ..Opts::default()
        };
        let mut it = args[1..].iter();
        while let Some(flag) = it.next() {
            let v = it
                .next()
                .ok_or_else(|| format!("child: {flag} needs a value"))?
                .clone();
            match flag.as_str() {
                "--impl" => o.imp = v,
                "--mode" => o.mode = v,
                "--url" => o.url = v,
                "--api-key" => o.api_key = v,
                "--client-id" => o.client_id = v,
                "--client-secret" => o.client_secret = v,
                "--workspace" => o.workspace = v,
                "--page-size" => o.page_size = v.parse()?,
                "--limit" => o.limit = v.parse()?,
                "--warmup" => o.warmup = v.parse()?,
                "--ids" => o.ids = v,
                "--concurrency" => o.concurrency = v.parse()?,
                "--n" => o.n = v.parse()?,
                "--work-ms" => o.work_ms = v.parse()?,
                "--raw-timeouts" => o.raw_timeouts = v == "1",
                "--out" => o.out = v,
                "--cli" => o.cli = v,
                other => return Err(format!("child: unknown flag {other}").into()),
            }
        }
        Ok(o)
    }
}

/// Entry point of `e2e child ...`.
pub fn main(args: &[String]) -> std::process::ExitCode {
    let result = Opts::parse(args).and_then(|o| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        rt.block_on(run(&o))
    });
    match result {
        Ok(mut out) => {
            // A contender that ran in a grandchild (the CLI) reports that process's peak.
            if out.get("rss_kb").is_none() {
                out["rss_kb"] = json!(peak_rss_kb());
            }
            println!("{out}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("child failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Peak resident set size of this process (VmHWM), in KiB.
pub fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

async fn run(o: &Opts) -> Res<Value> {
    match (o.task.as_str(), o.imp.as_str()) {
        ("paginate", "sdk") => paginate_sdk(o, false).await,
        ("paginate", "sdk-prefetch") => paginate_sdk(o, true).await,
        ("paginate", "raw") => paginate_raw(o).await,
        ("paginate", "floor") => paginate_floor(o).await,
        ("fanout", "sdk") => fanout_sdk(o).await,
        ("fanout", "raw") => fanout_raw(o).await,
        ("latency", _) => latency(o).await,
        ("export", "sdk-execute") => export(o, export_sdk).await,
        ("export", "raw-splice") => export(o, export_raw).await,
        ("export", "cli") => export_cli(o),
        (t, i) => Err(format!("child: unknown task/impl {t}/{i}").into()),
    }
}

fn connector(o: &Opts) -> Res<IncidentIoConnector> {
    let b = IncidentIoConnector::builder();
    let b = if o.mode == "hosted" {
        b.auth(
            AirbyteAuthConfig::new(&o.client_id, &o.client_secret)
                .workspace_name(&o.workspace)
                .airbyte_api_url(&o.url),
        )
    } else {
        b.auth(IncidentIoAuthConfig::new(&o.api_key))
            .base_url(&o.url)?
    };
    Ok(b.build()?)
}

fn read_ids(path: &str) -> Res<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect())
}

/// What every contender does with a record: count it and touch its id.
#[derive(Default)]
struct Tally {
    items: usize,
    checksum: usize,
}

impl Tally {
    fn add(&mut self, rec: &models::Incident) {
        self.items += 1;
        self.checksum += rec.id.len();
    }
}

async fn paginate_sdk(o: &Opts, prefetch: bool) -> Res<Value> {
    let c = connector(o)?;
    let pass = || async {
        let mut t = Tally::default();
        let mut s = std::pin::pin!(c
            .incidents()
            .list()
            .page_size(o.page_size as i64)
            .prefetch(prefetch)
            .stream());
        while let Some(rec) = s.next().await {
            t.add(&rec?);
            if o.work_ms > 0 && t.items.is_multiple_of(o.page_size) {
                tokio::time::sleep(Duration::from_millis(o.work_ms)).await;
            }
            if o.limit > 0 && t.items >= o.limit {
                break;
            }
        }
        Ok::<_, BoxError>(t)
    };
    for _ in 0..o.warmup {
        pass().await?;
    }
    let start = Instant::now();
    let t = pass().await?;
    let secs = start.elapsed().as_secs_f64();
    Ok(json!({"items": t.items, "secs": secs, "checksum": t.checksum}))
}

async fn paginate_raw(o: &Opts) -> Res<Value> {
    let raw = Raw::new(o).await?;
    let pass = || async {
        let mut t = Tally::default();
        let mut after: Option<String> = None;
        'pages: loop {
            let (records, next) = raw.list_incidents(o.page_size, after.as_deref()).await?;
            for rec in &records {
                t.add(rec);
                if o.limit > 0 && t.items >= o.limit {
                    break 'pages;
                }
            }
            if o.work_ms > 0 {
                tokio::time::sleep(Duration::from_millis(o.work_ms)).await;
            }
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        Ok::<_, BoxError>(t)
    };
    for _ in 0..o.warmup {
        pass().await?;
    }
    let start = Instant::now();
    let t = pass().await?;
    let secs = start.elapsed().as_secs_f64();
    Ok(json!({"items": t.items, "secs": secs, "checksum": t.checksum}))
}

/// The floor every client pays: the same requests as `raw`, with each record skipped
/// (`serde::de::IgnoredAny`) instead of decoded. What is left is the server, the transfer and
/// a JSON scan.
async fn paginate_floor(o: &Opts) -> Res<Value> {
    let raw = Raw::new(o).await?;
    let pass = || async {
        let mut items = 0usize;
        let mut after: Option<String> = None;
        loop {
            let (n, next) = raw.skim_incidents(o.page_size, after.as_deref()).await?;
            items += n;
            if o.limit > 0 && items >= o.limit {
                break;
            }
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        Ok::<_, BoxError>(items)
    };
    for _ in 0..o.warmup {
        pass().await?;
    }
    let start = Instant::now();
    let items = pass().await?;
    let secs = start.elapsed().as_secs_f64();
    Ok(json!({"items": items, "secs": secs}))
}

async fn fanout_sdk(o: &Opts) -> Res<Value> {
    let c = connector(o)?;
    let ids = read_ids(&o.ids)?;
    let run = |ids: Vec<String>| {
        let c = c.clone();
        async move {
            futures::stream::iter(ids)
                .map(|id| {
                    let c = c.clone();
                    async move { c.incidents().get(id).send().await }
                })
                .buffer_unordered(o.concurrency)
                .try_fold(0usize, |n, rec| async move {
                    Ok(n + usize::from(!rec.id.is_empty()))
                })
                .await
        }
    };
    run(ids.iter().take(o.concurrency).cloned().collect()).await?;
    let start = Instant::now();
    let items = run(ids).await?;
    let secs = start.elapsed().as_secs_f64();
    Ok(json!({"items": items, "secs": secs}))
}

async fn fanout_raw(o: &Opts) -> Res<Value> {
    let raw = Raw::new(o).await?;
    let ids = read_ids(&o.ids)?;
    let raw = &raw;
    let run = |ids: Vec<String>| async move {
        futures::stream::iter(ids)
            .map(|id| async move { raw.get_incident(&id).await })
            .buffer_unordered(o.concurrency)
            .try_fold(0usize, |n, rec| async move {
                Ok(n + usize::from(!rec.id.is_empty()))
            })
            .await
    };
    run(ids.iter().take(o.concurrency).cloned().collect()).await?;
    let start = Instant::now();
    let items = run(ids).await?;
    let secs = start.elapsed().as_secs_f64();
    Ok(json!({"items": items, "secs": secs}))
}

/// Sequential small gets (`users.get`), SDK and raw interleaved ABBA in one process.
async fn latency(o: &Opts) -> Res<Value> {
    let c = connector(o)?;
    let raw = Raw::new(o).await?;
    let ids = read_ids(&o.ids)?;
    let sdk_get = |id: String| {
        let c = c.clone();
        async move {
            let t = Instant::now();
            let u = c.users().get(id).send().await?;
            std::hint::black_box(u);
            Ok::<_, BoxError>(t.elapsed())
        }
    };
    let raw_get = |id: String| {
        let raw = &raw;
        async move {
            let t = Instant::now();
            let u = raw.get_user(&id).await?;
            std::hint::black_box(u);
            Ok::<_, BoxError>(t.elapsed())
        }
    };
    for k in 0..200 {
        let id = ids[k % ids.len()].clone();
        sdk_get(id.clone()).await?;
        raw_get(id).await?;
    }
    let (mut sdk, mut raw_s, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
    for k in 0..o.n {
        let id = ids[k % ids.len()].clone();
        let (a, b) = if k.is_multiple_of(2) {
            let a = sdk_get(id.clone()).await?;
            (a, raw_get(id).await?)
        } else {
            let b = raw_get(id.clone()).await?;
            (sdk_get(id).await?, b)
        };
        let (a, b) = (a.as_secs_f64() * 1e6, b.as_secs_f64() * 1e6);
        sdk.push(a);
        raw_s.push(b);
        diffs.push(a - b);
    }
    let (sdk_median, raw_median) = (median(&mut sdk), median(&mut raw_s));
    Ok(json!({
        "sdk_median_us": sdk_median,
        "raw_median_us": raw_median,
        "overhead_us": sdk_median - raw_median,
        "paired_overhead_us": median(&mut diffs),
        "n": o.n,
    }))
}

// ───────────────────────────── export: JSON lines ─────────────────────────────

/// One export pass writing to `w`: returns the records written.
type Pass = for<'a> fn(
    &'a Opts,
    &'a mut std::io::BufWriter<std::fs::File>,
) -> futures::future::BoxFuture<'a, Res<usize>>;

/// Runs `pass` `--warmup` times untimed, then once timed; checks the file.
async fn export(o: &Opts, pass: Pass) -> Res<Value> {
    let run = || async {
        let file = std::fs::File::create(&o.out)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, file);
        let n = pass(o, &mut w).await?;
        std::io::Write::flush(&mut w)?;
        Ok::<_, BoxError>(n)
    };
    for _ in 0..o.warmup {
        run().await?;
    }
    let start = Instant::now();
    let items = run().await?;
    let secs = start.elapsed().as_secs_f64();
    let bytes = check_export(&o.out, items)?;
    Ok(json!({"items": items, "secs": secs, "bytes": bytes}))
}

/// The SDK's untyped path: `execute_raw` page by page, each record's bytes on a line.
fn export_sdk<'a>(
    o: &'a Opts,
    w: &'a mut std::io::BufWriter<std::fs::File>,
) -> futures::future::BoxFuture<'a, Res<usize>> {
    Box::pin(async move {
        use std::io::Write;
        let c = connector(o)?;
        let options = incident_io_connector::ExecuteOptions::new().max_output_chars(None);
        let mut after: Option<String> = None;
        let mut items = 0;
        loop {
            let mut params = json!({"page_size": o.page_size});
            if let Some(a) = &after {
                params["after"] = json!(a);
            }
            let page = c
                .execute_raw("incidents", "list", params, options.clone())
                .await?;
            for record in page.records().ok_or("a list has records")? {
                w.write_all(record.as_bytes())?;
                w.write_all(b"\n")?;
                items += 1;
            }
            match page.next_cursor() {
                Some(next) => after = Some(next.to_string()),
                None => return Ok(items),
            }
        }
    })
}

/// A hand-written reqwest loop: each record borrowed as a `RawValue`, its bytes on a line.
fn export_raw<'a>(
    o: &'a Opts,
    w: &'a mut std::io::BufWriter<std::fs::File>,
) -> futures::future::BoxFuture<'a, Res<usize>> {
    Box::pin(async move {
        use serde_json::value::RawValue;
        use std::io::Write;
        #[derive(Deserialize)]
        struct Direct<'a> {
            #[serde(borrow)]
            incidents: Vec<&'a RawValue>,
            pagination_meta: Option<models::PaginationMeta>,
        }
        #[derive(Deserialize)]
        struct Hosted<'a> {
            #[serde(borrow)]
            result: Vec<&'a RawValue>,
            connector_metadata: Option<HostedMeta>,
        }
        let raw = Raw::new(o).await?;
        let mut after: Option<String> = None;
        let mut items = 0;
        loop {
            let body = if raw.hosted {
                let mut params = json!({"page_size": o.page_size});
                if let Some(a) = &after {
                    params["after"] = json!(a);
                }
                raw.execute_bytes("incidents", "list", params).await?
            } else {
                let size = o.page_size.to_string();
                let mut query = vec![("page_size", size.as_str())];
                if let Some(a) = &after {
                    query.push(("after", a));
                }
                raw.direct_get("/v2/incidents", &query).await?
            };
            let text = std::str::from_utf8(&body)?;
            let (records, next) = if raw.hosted {
                let page: Hosted<'_> = serde_json::from_str(text)?;
                (
                    page.result,
                    page.connector_metadata.and_then(|m| m.next_cursor),
                )
            } else {
                let page: Direct<'_> = serde_json::from_str(text)?;
                (page.incidents, page.pagination_meta.and_then(|m| m.after))
            };
            for r in records {
                w.write_all(r.get().as_bytes())?;
                w.write_all(b"\n")?;
                items += 1;
            }
            match next {
                Some(n) => after = Some(n),
                None => return Ok(items),
            }
        }
    })
}

/// The `incident-io` binary exporting to the file: `--warmup` untimed runs, one timed.
fn export_cli(o: &Opts) -> Res<Value> {
    let run = || -> Res<f64> {
        let out = std::fs::File::create(&o.out)?;
        let mut cmd = std::process::Command::new(&o.cli);
        cmd.args([
            "incidents",
            "list",
            "--all",
            "--page-size",
            &o.page_size.to_string(),
            "--format",
            "jsonl",
        ]);
        for v in [
            "INCIDENT_IO_API_KEY",
            "INCIDENT_IO_BASE_URL",
            "AIRBYTE_CLIENT_ID",
            "AIRBYTE_CLIENT_SECRET",
            "AIRBYTE_WORKSPACE_NAME",
            "AIRBYTE_CONNECTOR_ID",
            "AIRBYTE_API_URL",
        ] {
            cmd.env_remove(v);
        }
        if o.mode == "hosted" {
            cmd.env("AIRBYTE_CLIENT_ID", &o.client_id)
                .env("AIRBYTE_CLIENT_SECRET", &o.client_secret)
                .env("AIRBYTE_WORKSPACE_NAME", &o.workspace)
                .env("AIRBYTE_API_URL", &o.url);
        } else {
            cmd.env("INCIDENT_IO_API_KEY", &o.api_key)
                .env("INCIDENT_IO_BASE_URL", &o.url);
        }
        let start = Instant::now();
        let status = cmd
            .stdin(std::process::Stdio::null())
            .stdout(out)
            .stderr(std::process::Stdio::inherit())
            .status()?;
        let secs = start.elapsed().as_secs_f64();
        if !status.success() {
            return Err(format!("the CLI exited with {status}").into());
        }
        Ok(secs)
    };
    for _ in 0..o.warmup {
        run()?;
    }
    let secs = run()?;
    let items = {
        use std::io::BufRead;
        std::io::BufReader::new(std::fs::File::open(&o.out)?)
            .lines()
            .count()
    };
    let bytes = check_export(&o.out, items)?;
    Ok(json!({"items": items, "secs": secs, "bytes": bytes, "rss_kb": children_peak_rss_kb()}))
}

/// Checks an export file (one JSON object with a distinct `id` per line, `items` lines);
/// returns its size.
fn check_export(path: &str, items: usize) -> Res<u64> {
    use std::io::BufRead;
    // Line by line, so the check adds nothing to the run's peak RSS.
    let file = std::io::BufReader::new(std::fs::File::open(path)?);
    let mut ids = std::collections::HashSet::new();
    let mut lines = 0;
    let mut bytes = 0u64;
    for line in file.lines() {
        let line = line?;
        bytes += line.len() as u64 + 1;
        #[derive(Deserialize)]
        struct Id<'a> {
            #[serde(borrow)]
            id: &'a str,
        }
        let rec: Id<'_> = serde_json::from_str(&line)
            .map_err(|e| format!("export line {} is not a record: {e}", lines + 1))?;
        if !ids.insert(rec.id.to_string()) {
            return Err(format!("export: id {} written twice", rec.id).into());
        }
        lines += 1;
    }
    if lines != items || lines == 0 {
        return Err(format!("export: {lines} lines for {items} records").into());
    }
    Ok(bytes)
}

/// The largest peak RSS of this process's waited-for children, in KiB.
fn children_peak_rss_kb() -> u64 {
    // SAFETY: getrusage writes into the zeroed struct we pass and reads nothing else.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) != 0 {
            return 0;
        }
        u
    };
    u64::try_from(usage.ru_maxrss).unwrap_or(0)
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

// ───────────────────────────── the raw baseline ─────────────────────────────

/// A hand-written reqwest client: the same requests as the SDK, decoded with serde into the
/// same `models` structs, with no SDK machinery (no params checks, retries, spans, builders).
struct Raw {
    http: reqwest::Client,
    hosted: bool,
    url: String,
    api_key: String,
    /// Hosted: the Airbyte token (exchanged once) and the execute URL (connector looked up
    /// once), as the SDK caches them.
    token: String,
    execute_url: String,
}

#[derive(Deserialize)]
struct HostedEnvelope<T> {
    result: T,
    #[serde(default)]
    connector_metadata: Option<HostedMeta>,
}

#[derive(Deserialize)]
struct HostedMeta {
    #[serde(default)]
    next_cursor: Option<String>,
}

impl Raw {
    async fn new(o: &Opts) -> Res<Raw> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = reqwest::Client::builder();
        // The SDK's client has a 60 s whole-request timeout (a tokio timer per request); with
        // `--raw-timeouts 1` the raw client gets the same timeouts (to measure their cost).
        if o.raw_timeouts {
            b = b
                .timeout(Duration::from_secs(60))
                .connect_timeout(Duration::from_secs(10));
        }
        let http = b.build()?;
        let mut raw = Raw {
            http,
            hosted: o.mode == "hosted",
            url: o.url.trim_end_matches('/').to_string(),
            api_key: o.api_key.clone(),
            token: String::new(),
            execute_url: String::new(),
        };
        if raw.hosted {
            #[derive(Deserialize)]
            struct Token {
                access_token: String,
            }
            #[derive(Deserialize)]
            struct Lookup {
                data: Vec<Value>,
            }
            let token: Token = raw
                .http
                .post(format!("{}/api/v1/account/applications/token", raw.url))
                .json(&json!({"client_id": o.client_id, "client_secret": o.client_secret}))
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            raw.token = token.access_token;
            let lookup: Lookup = raw
                .http
                .get(format!("{}/api/v1/integrations/connectors", raw.url))
                .query(&[
                    ("workspace_name", o.workspace.as_str()),
                    ("definition_id", incident_io_connector::DEFINITION_ID),
                ])
                .bearer_auth(&raw.token)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await?;
            let id = lookup
                .data
                .first()
                .and_then(|c| c["id"].as_str())
                .ok_or("raw: connector lookup found nothing")?
                .to_string();
            raw.execute_url = format!("{}/api/v1/integrations/connectors/{id}/execute", raw.url);
        }
        Ok(raw)
    }

    async fn execute<T: serde::de::DeserializeOwned>(
        &self,
        entity: &str,
        action: &str,
        params: Value,
    ) -> Res<HostedEnvelope<T>> {
        let body = self
            .http
            .post(&self.execute_url)
            .bearer_auth(&self.token)
            .json(&json!({"entity": entity, "action": action, "params": params}))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        Ok(serde_json::from_slice(&body)?)
    }

    /// One `/execute` call's body, undecoded.
    async fn execute_bytes(&self, entity: &str, action: &str, params: Value) -> Res<bytes::Bytes> {
        Ok(self
            .http
            .post(&self.execute_url)
            .bearer_auth(&self.token)
            .json(&json!({"entity": entity, "action": action, "params": params}))
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?)
    }

    async fn direct_get(&self, path: &str, query: &[(&str, &str)]) -> Res<bytes::Bytes> {
        Ok(self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(&self.api_key)
            .query(query)
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?)
    }

    async fn list_incidents(
        &self,
        page_size: usize,
        after: Option<&str>,
    ) -> Res<(Vec<models::Incident>, Option<String>)> {
        if self.hosted {
            let mut params = json!({"page_size": page_size});
            if let Some(a) = after {
                params["after"] = json!(a);
            }
            let env: HostedEnvelope<Vec<models::Incident>> =
                self.execute("incidents", "list", params).await?;
            let next = env.connector_metadata.and_then(|m| m.next_cursor);
            return Ok((env.result, next));
        }
        let size = page_size.to_string();
        let mut query = vec![("page_size", size.as_str())];
        if let Some(a) = after {
            query.push(("after", a));
        }
        let body = self.direct_get("/v2/incidents", &query).await?;
        let page: models::ListIncidentsResponse = serde_json::from_slice(&body)?;
        let next = page.pagination_meta.and_then(|m| m.after);
        Ok((page.incidents, next))
    }

    /// A page with every record skipped: (record count, next cursor).
    async fn skim_incidents(
        &self,
        page_size: usize,
        after: Option<&str>,
    ) -> Res<(usize, Option<String>)> {
        use serde::de::IgnoredAny;
        if self.hosted {
            let mut params = json!({"page_size": page_size});
            if let Some(a) = after {
                params["after"] = json!(a);
            }
            let env: HostedEnvelope<Vec<IgnoredAny>> =
                self.execute("incidents", "list", params).await?;
            let next = env.connector_metadata.and_then(|m| m.next_cursor);
            return Ok((env.result.len(), next));
        }
        #[derive(Deserialize)]
        struct Skim {
            incidents: Vec<IgnoredAny>,
            pagination_meta: Option<models::PaginationMeta>,
        }
        let size = page_size.to_string();
        let mut query = vec![("page_size", size.as_str())];
        if let Some(a) = after {
            query.push(("after", a));
        }
        let body = self.direct_get("/v2/incidents", &query).await?;
        let page: Skim = serde_json::from_slice(&body)?;
        Ok((
            page.incidents.len(),
            page.pagination_meta.and_then(|m| m.after),
        ))
    }

    async fn get_incident(&self, id: &str) -> Res<models::Incident> {
        if self.hosted {
            let env: HostedEnvelope<models::Incident> =
                self.execute("incidents", "get", json!({"id": id})).await?;
            return Ok(env.result);
        }
        let body = self.direct_get(&format!("/v2/incidents/{id}"), &[]).await?;
        Ok(serde_json::from_slice::<models::GetIncidentResponse>(&body)?.incident)
    }

    async fn get_user(&self, id: &str) -> Res<models::User> {
        if self.hosted {
            let env: HostedEnvelope<models::User> =
                self.execute("users", "get", json!({"id": id})).await?;
            return Ok(env.result);
        }
        let body = self.direct_get(&format!("/v2/users/{id}"), &[]).await?;
        Ok(serde_json::from_slice::<models::GetUserResponse>(&body)?.user)
    }
}
