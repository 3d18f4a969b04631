//! `incident-io`: the incident.io SDK on the command line, and an MCP server for agents
//! (feature `cli`).
//!
//! ```text
//! incident-io <entity> list [--page-size N] [--after C] [--all] [--format json|jsonl|table]
//! incident-io <entity> get ID [--format json|jsonl|table]
//! incident-io exec ENTITY ACTION [PARAMS_JSON]
//! incident-io search ENTITY QUERY_JSON [--limit N] [--cursor C] [--fields a,b] [--all]
//! incident-io check
//! incident-io describe [ENTITY] [--tool-description | --tool-schema]
//! incident-io mcp [--max-output-chars N]
//! ```
//!
//! Credentials come from the environment, as `IncidentIoConnector::from_env()` reads them.
//! `--emulator` (any position) runs against an in-process emulator instead; `--emulator=hosted`
//! goes through the emulator's Airbyte API (hosted mode, where `search` works).
//!
//! Exit codes: 0 success; 1 any other failure (API or server error, network, timeout, an
//! unhealthy `check`); 2 usage error (bad arguments or JSON, or params the SDK or the API
//! rejected); 3 credentials (none in the environment, rejected with 401/403, or no usable hosted
//! connector); 4 not found (404).

mod mcp;
mod output;

use std::collections::HashSet;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::builder::PossibleValuesParser;
use clap::{value_parser, Arg, ArgAction, ArgMatches, Command};
use connector_sdk_emulator::Emulator;
use incident_io_connector::meta::{self, EntityMeta, OperationMeta, ParamKind, ParamLocation};
use incident_io_connector::{
    AirbyteAuthConfig, Error, ExecuteOptions, IncidentIoAuthConfig, IncidentIoConnector, RawOutput,
    DEFAULT_MAX_OUTPUT_CHARS,
};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{json, Map, Value};

use output::{Format, Sink};

/// Success.
const EXIT_OK: u8 = 0;
/// Any other failure.
const EXIT_FAILURE: u8 = 1;
/// Bad arguments, or params rejected by the SDK or the API.
const EXIT_USAGE: u8 = 2;
/// Missing or rejected credentials.
const EXIT_AUTH: u8 = 3;
/// No such record.
const EXIT_NOT_FOUND: u8 = 4;

/// Records of each paginated entity the `--emulator` serves (unpaginated ones get 5).
const DEFAULT_EMULATOR_COUNT: usize = 1000;

const EXIT_CODES_HELP: &str = "\
Credentials: INCIDENT_IO_API_KEY (direct; optional INCIDENT_IO_BASE_URL), or AIRBYTE_CLIENT_ID and
AIRBYTE_CLIENT_SECRET (hosted; optional AIRBYTE_WORKSPACE_NAME or its older name
AIRBYTE_CUSTOMER_NAME, AIRBYTE_CONNECTOR_ID, AIRBYTE_ORGANIZATION_ID, AIRBYTE_API_URL).
--emulator needs none.

Exit codes:
  0  success
  1  failure: API or server error, network, timeout, unhealthy check
  2  usage: bad arguments or JSON, or params rejected by the SDK or the API
  3  credentials: none in the environment, rejected (401/403), or no usable hosted connector
  4  not found (404)";

/// What went wrong, and so which exit code.
enum CliError {
    /// Bad arguments (exit 2).
    Usage(String),
    /// An SDK error (exit code by kind).
    Sdk(Error),
    /// Writing the output failed.
    Io(io::Error),
    /// Anything else (exit 1).
    Other(String),
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        CliError::Sdk(e)
    }
}

impl From<io::Error> for CliError {
    fn from(e: io::Error) -> Self {
        CliError::Io(e)
    }
}

/// The exit code for an SDK error.
fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Auth(_) | Error::ConnectorNotFound { .. } | Error::AmbiguousConnector { .. } => {
            EXIT_AUTH
        }
        Error::InvalidInput { field, .. } if field == "environment" => EXIT_AUTH,
        Error::InvalidInput { .. } | Error::HostedOnly { .. } | Error::Validation(_) => EXIT_USAGE,
        Error::NotFound(_) => EXIT_NOT_FOUND,
        _ => EXIT_FAILURE,
    }
}

fn main() -> ExitCode {
    let matches = cli().get_matches();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("incident-io: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let outcome = runtime.block_on(run(&matches));
    // MCP mode may leave a blocking stdin read behind; do not wait for it.
    runtime.shutdown_timeout(Duration::from_secs(1));
    let code = match outcome {
        Ok(code) => code,
        Err(CliError::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(CliError::Io(e)) => {
            eprintln!("incident-io: cannot write the output: {e}");
            EXIT_FAILURE
        }
        Err(CliError::Usage(msg)) => {
            eprintln!("incident-io: {msg}");
            EXIT_USAGE
        }
        Err(CliError::Other(msg)) => {
            eprintln!("incident-io: {msg}");
            EXIT_FAILURE
        }
        Err(CliError::Sdk(e)) => {
            let code = exit_code(&e);
            let retry = if e.is_retryable() { " (retryable)" } else { "" };
            eprintln!("incident-io: {e}{retry}");
            if matches!(e, Error::HostedOnly { .. })
                && matches.get_one::<String>("emulator").is_some()
            {
                eprintln!(
                    "incident-io: with the emulator, pass --emulator=hosted to use hosted mode"
                );
            }
            code
        }
    };
    ExitCode::from(code)
}

// ── Command line ────────────────────────────────────────────────────────────────────────

const BUILTINS: &[&str] = &["exec", "search", "check", "describe", "mcp", "help"];

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn format_arg() -> Arg {
    Arg::new("format")
        .long("format")
        .value_parser(["json", "jsonl", "table"])
        .default_value("json")
        .help("Output format: json (as execute returns it), jsonl (one record per line) or table")
}

fn columns_arg() -> Arg {
    Arg::new("columns")
        .long("columns")
        .value_name("A,B")
        .value_delimiter(',')
        .help("Columns of --format table, as dotted paths (default: a few top-level fields)")
}

/// `--select`, `--exclude`, `--truncate` and `--intent`: shaping the records, as agents can.
fn shaping_args(cmd: Command) -> Command {
    cmd.arg(
        Arg::new("select")
            .long("select")
            .value_name("A,B.C")
            .value_delimiter(',')
            .help("Keep only these fields of each record (dot paths reach into nested objects); wins over --exclude"),
    )
    .arg(
        Arg::new("exclude")
            .long("exclude")
            .value_name("A,B.C")
            .value_delimiter(',')
            .help("Drop these fields (names or dot paths) from each record"),
    )
    .arg(
        Arg::new("truncate")
            .long("truncate")
            .action(ArgAction::SetTrue)
            .help("Cut strings over 200 characters in list and search results, as agents' tools do"),
    )
    .arg(
        Arg::new("compact")
            .long("compact")
            .action(ArgAction::SetTrue)
            .help("Drop null, empty string, empty list and empty object values from the records"),
    )
    .arg(
        Arg::new("intent")
            .long("intent")
            .value_name("TEXT")
            .help("Why the call is made (at most 512 characters): sent with hosted calls, recorded on the call's span in direct mode"),
    )
}

/// `base` with the shaping flags of `args`.
fn shaped(args: &ArgMatches, base: ExecuteOptions) -> ExecuteOptions {
    let mut options = base
        .skip_truncation(!args.get_flag("truncate"))
        .compact(args.get_flag("compact"));
    if let Some(f) = args.get_many::<String>("select") {
        options = options.select_fields(f.cloned());
    }
    if let Some(f) = args.get_many::<String>("exclude") {
        options = options.exclude_fields(f.cloned());
    }
    if let Some(i) = args.get_one::<String>("intent") {
        options = options.intent(i.clone());
    }
    options
}

/// A `--kebab-name` flag for an operation parameter, typed by the spec.
fn param_arg(p: &'static meta::ParamMeta) -> Arg {
    let mut arg = Arg::new(p.name)
        .long(leak(p.name.replace('_', "-")))
        .value_name(leak(p.name.to_uppercase()))
        .help(
            p.description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" "),
        );
    arg = match p.kind {
        ParamKind::Integer => arg.value_parser(value_parser!(i64)),
        ParamKind::Number => arg.value_parser(value_parser!(f64)),
        ParamKind::Boolean => arg.value_parser(value_parser!(bool)),
        ParamKind::String { allowed } if !allowed.is_empty() => {
            arg.value_parser(PossibleValuesParser::new(allowed.iter().copied()))
        }
        _ => arg,
    };
    if let (Some(lo), Some(hi)) = (p.minimum, p.maximum) {
        let default = p
            .default
            .map(|d| format!(", default {d}"))
            .unwrap_or_default();
        arg = arg.help(leak(format!(
            "{} ({lo}..={hi}{default})",
            p.description.trim_end_matches('.')
        )));
    }
    arg
}

fn entity_command(e: &'static EntityMeta) -> Command {
    let mut cmd = Command::new(e.name)
        .about(e.description)
        .subcommand_required(true)
        .arg_required_else_help(true);
    if let Some(op) = e.operation("list") {
        let mut list = Command::new("list")
            .about(op.summary)
            .long_about(op.description);
        for p in op.params {
            list = list.arg(param_arg(p));
        }
        list = list
            .arg(
                Arg::new("all")
                    .long("all")
                    .action(ArgAction::SetTrue)
                    .help(match (op.page_size_param, op.bulk_page_size) {
                        (Some(_), Some(n)) => format!("Stream every page (following next_cursor), {n} records a page unless --page-size is given, with a progress bar on stderr when it is a terminal"),
                        _ => "Stream every page (following next_cursor), with a progress bar on stderr when it is a terminal".to_string(),
                    }),
            )
            .arg(format_arg())
            .arg(columns_arg());
        cmd = cmd.subcommand(shaping_args(list));
    }
    if let Some(op) = e.operation("get") {
        let mut get = Command::new("get")
            .about(op.summary)
            .long_about(op.description);
        for p in op.params {
            if p.location == ParamLocation::Path {
                get = get.arg(
                    Arg::new(p.name)
                        .value_name(leak(p.name.to_uppercase()))
                        .required(true)
                        .help(p.description),
                );
            } else {
                get = get.arg(param_arg(p));
            }
        }
        cmd = cmd.subcommand(shaping_args(get.arg(format_arg()).arg(columns_arg())));
    }
    // Writes (where the spec has them): ids as arguments, everything else as `--data`.
    for action in ["create", "update", "delete"] {
        let Some(op) = e.operation(action) else {
            continue;
        };
        let mut write = Command::new(action)
            .about(op.summary)
            .long_about(op.description);
        for p in op
            .params
            .iter()
            .filter(|p| p.location == ParamLocation::Path)
        {
            write = write.arg(
                Arg::new(p.name)
                    .value_name(leak(p.name.to_uppercase()))
                    .required(true)
                    .help(p.description),
            );
        }
        write = write
            .arg(
                Arg::new("data")
                    .long("data")
                    .value_name("JSON")
                    .help("The body properties and other params, as a JSON object (`{\"title\": \"New\"}`); checked against the spec before anything is sent"),
            )
            .arg(format_arg());
        cmd = cmd.subcommand(write);
    }
    if let Some(op) = e.operation("download") {
        let mut download = Command::new("download")
            .about(op.summary)
            .long_about(op.description);
        // The subcommand's own flags win over a spec param of the same name.
        for p in op
            .params
            .iter()
            .filter(|p| !matches!(p.name, "out" | "range"))
        {
            if p.location == ParamLocation::Path {
                download = download.arg(
                    Arg::new(p.name)
                        .value_name(leak(p.name.to_uppercase()))
                        .required(true)
                        .help(p.description),
                );
            } else {
                download = download.arg(param_arg(p));
            }
        }
        download = download
            .arg(
                Arg::new("out")
                    .long("out")
                    .short('o')
                    .value_name("FILE")
                    .help("Write the file here (default: stdout; `-` is stdout too)"),
            )
            .arg(
                Arg::new("range")
                    .long("range")
                    .value_name("RANGE")
                    .help("Only part of the file: an HTTP range such as bytes=0-1023"),
            );
        cmd = cmd.subcommand(download);
    }
    cmd
}

fn cli() -> Command {
    let mut cmd = Command::new("incident-io")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Read incident.io from the shell, or serve it to agents over MCP")
        .after_help(EXIT_CODES_HELP)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("emulator")
                .long("emulator")
                .global(true)
                .num_args(0..=1)
                .require_equals(true)
                .default_missing_value("direct")
                .value_parser(["direct", "hosted"])
                .value_name("MODE")
                .help("Run against an in-process emulator instead of the real API (no credentials needed); --emulator=hosted goes through its Airbyte API"),
        )
        .arg(
            Arg::new("emulator_count")
                .long("emulator-count")
                .global(true)
                .value_name("N")
                .value_parser(value_parser!(usize))
                .help("Records of each paginated entity the emulator serves [default: 1000]"),
        );
    for e in meta::entities() {
        if !BUILTINS.contains(&e.name) {
            cmd = cmd.subcommand(entity_command(e));
        }
    }
    cmd.subcommand(shaping_args(
        Command::new("exec")
            .about("Run any action the way an agent does: execute(ENTITY, ACTION, PARAMS_JSON)")
            .arg(Arg::new("entity").value_name("ENTITY").required(true))
            .arg(Arg::new("action").value_name("ACTION").required(true).help("list, get or search"))
            .arg(Arg::new("params").value_name("PARAMS_JSON").help("A JSON object, e.g. '{\"page_size\": 5}'"))
            .arg(
                Arg::new("max_output_chars")
                    .long("max-output-chars")
                    .value_name("N")
                    .value_parser(value_parser!(usize))
                    .help("Refuse results larger than N characters of JSON, as agents get them (default: no limit)"),
            )
            .arg(format_arg())
            .arg(columns_arg()),
    ))
    .subcommand(shaping_args(
        Command::new("search")
            .about("Search an entity's hosted copy (hosted mode only)")
            .arg(Arg::new("entity").value_name("ENTITY").required(true))
            .arg(
                Arg::new("query")
                    .value_name("QUERY_JSON")
                    .required(true)
                    .help("Search params {\"query\": {\"filter\": ..., \"sort\": [...]}, \"limit\": ..}, or just the query {\"filter\": ..., \"sort\": [...]}"),
            )
            .arg(Arg::new("limit").long("limit").value_name("N").value_parser(value_parser!(u64)).help("Records per page"))
            .arg(Arg::new("cursor").long("cursor").value_name("C").help("meta.cursor of the previous page"))
            .arg(
                Arg::new("fields")
                    .long("fields")
                    .value_name("A,B")
                    .value_delimiter(',')
                    .help("Return only these fields (dotted paths)"),
            )
            .arg(
                Arg::new("all")
                    .long("all")
                    .action(ArgAction::SetTrue)
                    .help("Follow meta.cursor while meta.has_more"),
            )
            .arg(format_arg())
            .arg(columns_arg()),
    ))
    .subcommand(Command::new("check").about("Check that the credentials can read data (prints JSON)"))
    .subcommand(
        Command::new("describe")
            .about("Describe the entities, actions and params (JSON), or print the agent tool's description or input schema")
            .arg(Arg::new("entity").value_name("ENTITY").help("One entity, with its record's JSON Schema"))
            .arg(
                Arg::new("tool_description")
                    .long("tool-description")
                    .action(ArgAction::SetTrue)
                    .conflicts_with_all(["entity", "tool_schema"])
                    .help("Print the agent tool's description (text)"),
            )
            .arg(
                Arg::new("tool_schema")
                    .long("tool-schema")
                    .action(ArgAction::SetTrue)
                    .conflicts_with("entity")
                    .help("Print the agent tool's input JSON Schema"),
            )
            .arg(
                Arg::new("docs")
                    .long("docs")
                    .value_name("SECTION")
                    .num_args(0..=1)
                    .require_equals(true)
                    .default_missing_value("")
                    .conflicts_with_all(["entity", "tool_description", "tool_schema"])
                    .help("Print the agents' docs: the outline, or --docs=SECTION (an entity, or paging, shaping, search, sql, errors), as the MCP docs tool returns them"),
            ),
    )
    .subcommand(
        Command::new("mcp")
            .about("Serve the Model Context Protocol over stdio: incident_io_execute, incident_io_docs, incident_io_inspect and incident_io_check (or, with --single-tool, one large incident_io_execute and incident_io_check)")
            .arg(
                Arg::new("single_tool")
                    .long("single-tool")
                    .action(ArgAction::SetTrue)
                    .help("Serve one incident_io_execute whose description and schema carry every entity, action and param (about 40k characters), instead of the small execute, docs and inspect tools"),
            )
            .arg(
                Arg::new("allow_writes")
                    .long("allow-writes")
                    .action(ArgAction::SetTrue)
                    .help("Let the execute tool run write actions (create, update, delete) where the spec has them; without it the server is read-only and a write fails before any request"),
            )
            .arg(
                Arg::new("max_output_chars")
                    .long("max-output-chars")
                    .value_name("N")
                    .value_parser(value_parser!(usize))
                    .default_value(leak(DEFAULT_MAX_OUTPUT_CHARS.to_string()))
                    .help("Refuse results larger than N characters of JSON with an error telling the agent to ask for less (0: no limit)"),
            ),
    )
}

// ── Running ─────────────────────────────────────────────────────────────────────────────

/// A connector, and the emulator behind it when `--emulator` is given (kept alive with it).
struct Session {
    connector: IncidentIoConnector,
    _emulator: Option<Emulator>,
}

async fn connect(m: &ArgMatches) -> Result<Session, CliError> {
    let Some(mode) = m.get_one::<String>("emulator") else {
        return Ok(Session {
            connector: IncidentIoConnector::from_env()?,
            _emulator: None,
        });
    };
    let count = m
        .get_one::<usize>("emulator_count")
        .copied()
        .unwrap_or(DEFAULT_EMULATOR_COUNT);
    let mut builder = Emulator::builder(incident_io_connector::SPEC_JSON);
    for e in meta::entities() {
        if e.operation("list").is_some_and(OperationMeta::is_paginated) {
            builder = builder.count(e.name, count);
        }
    }
    let emulator = builder
        .start()
        .await
        .map_err(|e| CliError::Other(format!("cannot start the emulator: {e}")))?;
    let connector = if mode == "hosted" {
        IncidentIoConnector::builder()
            .auth(
                AirbyteAuthConfig::new(
                    emulator.airbyte_client_id(),
                    emulator.airbyte_client_secret(),
                )
                .workspace_name(emulator.airbyte_workspace())
                .airbyte_api_url(emulator.airbyte_api_url()),
            )
            .build()?
    } else {
        IncidentIoConnector::builder()
            .auth(IncidentIoAuthConfig::new(emulator.api_key()))
            .base_url(&emulator.base_url())?
            .build()?
    };
    Ok(Session {
        connector,
        _emulator: Some(emulator),
    })
}

async fn run(m: &ArgMatches) -> Result<u8, CliError> {
    let (name, sub) = m.subcommand().expect("a subcommand is required");
    match name {
        "describe" => describe(sub).map(|()| EXIT_OK),
        "exec" => {
            let s = connect(m).await?;
            exec(&s.connector, sub).await.map(|()| EXIT_OK)
        }
        "search" => {
            let s = connect(m).await?;
            search(&s.connector, sub).await.map(|()| EXIT_OK)
        }
        "check" => {
            let s = connect(m).await?;
            check(&s.connector).await
        }
        "mcp" => {
            let s = connect(m).await?;
            let limit = sub
                .get_one::<usize>("max_output_chars")
                .copied()
                .filter(|n| *n > 0);
            mcp::serve(
                s.connector,
                limit,
                sub.get_flag("single_tool"),
                sub.get_flag("allow_writes"),
            )
            .await
            .map_err(CliError::Other)?;
            Ok(EXIT_OK)
        }
        entity => {
            let e = meta::entity(entity).expect("entity subcommands come from meta");
            let (action, args) = sub.subcommand().expect("an action is required");
            let s = connect(m).await?;
            match action {
                "list" => list(&s.connector, e, args).await?,
                "get" => get(&s.connector, e, args).await?,
                "download" => download(&s.connector, e, args).await?,
                write => write_action(&s.connector, e, write, args).await?,
            }
            Ok(EXIT_OK)
        }
    }
}

/// The params of `op` given as flags (and positionals), as JSON.
fn op_params(op: &OperationMeta, args: &ArgMatches) -> Map<String, Value> {
    let mut params = Map::new();
    for p in op.params {
        let v = match p.kind {
            ParamKind::Integer => args.get_one::<i64>(p.name).map(|v| json!(v)),
            ParamKind::Number => args.get_one::<f64>(p.name).map(|v| json!(v)),
            ParamKind::Boolean => args.get_one::<bool>(p.name).map(|v| json!(v)),
            _ => args.get_one::<String>(p.name).map(|v| json!(v)),
        };
        if let Some(v) = v {
            params.insert(p.name.to_string(), v);
        }
    }
    params
}

fn format_of(args: &ArgMatches) -> Format {
    Format::parse(
        args.get_one::<String>("format")
            .map_or("json", String::as_str),
    )
}

fn columns_of(args: &ArgMatches) -> Option<Vec<String>> {
    args.get_many::<String>("columns")
        .map(|c| c.cloned().collect())
}

fn stdout_sink(entity: &'static str, args: &ArgMatches) -> Sink<io::BufWriter<io::Stdout>> {
    Sink::new(
        // Large writes: a bulk export moves megabytes per page.
        io::BufWriter::with_capacity(1 << 17, io::stdout()),
        format_of(args),
        entity,
        columns_of(args),
    )
}

fn unlimited() -> ExecuteOptions {
    ExecuteOptions::new().max_output_chars(None)
}

/// Prints `--after <cursor>` on stderr for a human reading a single page.
fn hint_next(cursor: Option<&str>, flag: &str) {
    if let Some(c) = cursor {
        if io::stderr().is_terminal() {
            eprintln!("more records: pass {flag} {c}");
        }
    }
}

/// Records so far, pages so far and the rate, on the progress bar.
fn advance(bar: &ProgressBar, records: usize, pages: u64) {
    bar.inc(records as u64);
    let secs = bar.elapsed().as_secs_f64();
    let rate = if secs > 0.0 {
        format!(", {:.0} records/s", bar.position() as f64 / secs)
    } else {
        String::new()
    };
    bar.set_message(format!(
        "{pages} page{}{rate}",
        if pages == 1 { "" } else { "s" }
    ));
}

fn progress(entity: &str) -> ProgressBar {
    if !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {prefix}: {human_pos} records, {msg} [{elapsed}]")
    {
        bar.set_style(style);
    }
    bar.set_prefix(entity.to_string());
    bar.set_message("0 pages");
    bar.set_position(0);
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

async fn list(
    conn: &IncidentIoConnector,
    e: &'static EntityMeta,
    args: &ArgMatches,
) -> Result<(), CliError> {
    let op = e.operation("list").expect("list subcommand exists");
    let mut params = op_params(op, args);
    let mut sink = stdout_sink(e.name, args);
    if !args.get_flag("all") {
        let page = conn
            .execute_raw(
                e.name,
                "list",
                Value::Object(params),
                shaped(args, unlimited()),
            )
            .await?;
        sink.result(&page)?;
        sink.finish()?;
        if sink.format() != Format::Json {
            let flag = op
                .cursor_param
                .map(|c| format!("--{}", c.replace('_', "-")));
            hint_next(page.next_cursor(), flag.as_deref().unwrap_or("--after"));
        }
        return Ok(());
    }
    // Bulk reads page at the largest size the endpoint allows (unless told otherwise), so the
    // whole set costs as few requests as possible.
    if let (Some(name), Some(size)) = (op.page_size_param, op.bulk_page_size) {
        params.entry(name).or_insert_with(|| json!(size));
    }
    let bar = progress(e.name);
    let options = shaped(args, unlimited());
    let outcome = stream_pages(conn, e.name, op, &mut params, &options, &mut sink, &bar).await;
    bar.finish();
    outcome?;
    sink.finish()?;
    Ok(())
}

/// Every page of a list, records streamed into `sink` page by page.
///
/// The next page is requested as soon as this page's cursor is known, before this page's
/// records are written, so the server's work and the transfer overlap with writing (at most
/// one page is held ahead; memory stays O(page)).
async fn stream_pages<W: Write>(
    conn: &IncidentIoConnector,
    entity: &'static str,
    op: &OperationMeta,
    params: &mut Map<String, Value>,
    options: &ExecuteOptions,
    sink: &mut Sink<W>,
    bar: &ProgressBar,
) -> Result<(), CliError> {
    let fetch = |params: Map<String, Value>| {
        let conn = conn.clone();
        let options = options.clone();
        tokio::spawn(async move {
            conn.execute_raw(entity, "list", Value::Object(params), options)
                .await
        })
    };
    sink.begin_stream()?;
    let mut seen = HashSet::new();
    let mut pages = 0u64;
    let mut in_flight = Some(fetch(params.clone()));
    while let Some(request) = in_flight.take() {
        // The records go out as the server's bytes: never decoded, never re-encoded.
        let page = request
            .await
            .map_err(|e| CliError::Other(format!("the request task failed: {e}")))??;
        let mut repeated = None;
        if let (Some(cursor_param), Some(next)) = (op.cursor_param, page.next_cursor()) {
            if !next.is_empty() {
                if seen.insert(next.to_string()) {
                    params.insert(cursor_param.to_string(), json!(next));
                    in_flight = Some(fetch(params.clone()));
                } else {
                    repeated = Some(next.to_string());
                }
            }
        }
        let count = page.record_count().unwrap_or(0);
        // A failed write (stdout closed) drops the request in flight with the error.
        if let Err(e) = sink.page(&page) {
            if let Some(request) = in_flight.take() {
                request.abort();
            }
            return Err(e.into());
        }
        pages += 1;
        advance(bar, count, pages);
        if let Some(next) = repeated {
            return Err(CliError::Other(format!(
                "pagination error in {entity}.list: the API returned the cursor {next:?} twice; stopping instead of looping"
            )));
        }
    }
    Ok(())
}

async fn get(
    conn: &IncidentIoConnector,
    e: &'static EntityMeta,
    args: &ArgMatches,
) -> Result<(), CliError> {
    let op = e.operation("get").expect("get subcommand exists");
    let params = op_params(op, args);
    let record = conn
        .execute_raw(
            e.name,
            "get",
            Value::Object(params),
            shaped(args, unlimited()),
        )
        .await?;
    let mut sink = stdout_sink(e.name, args);
    sink.result(&record)?;
    sink.finish()?;
    Ok(())
}

/// `<entity> create|update|delete [IDS] --data JSON`: a write a person asked for, so it is
/// allowed (unlike the MCP server's, which are off unless `--allow-writes`).
async fn write_action(
    conn: &IncidentIoConnector,
    e: &'static EntityMeta,
    action: &str,
    args: &ArgMatches,
) -> Result<(), CliError> {
    let op = e
        .operation(action)
        .expect("write subcommands come from meta");
    let mut params = match args.get_one::<String>("data") {
        Some(text) => parse_json_object(text, "--data")?,
        None => Map::new(),
    };
    params.extend(op_params(op, args));
    let result = conn
        .execute_raw(
            e.name,
            action,
            Value::Object(params),
            unlimited().allow_writes(true),
        )
        .await?;
    let mut sink = stdout_sink(e.name, args);
    sink.result(&result)?;
    sink.finish()?;
    Ok(())
}

/// `<entity> download [IDS] [--out FILE]`: the file's bytes streamed to a file or stdout,
/// never held in memory whole.
async fn download(
    conn: &IncidentIoConnector,
    e: &'static EntityMeta,
    args: &ArgMatches,
) -> Result<(), CliError> {
    use futures::TryStreamExt;
    use tokio::io::AsyncWriteExt;
    let op = e
        .operation("download")
        .expect("download subcommands come from meta");
    let params = op_params(op, args);
    let mut file = conn
        .client()
        .download(
            e.name,
            Value::Object(params),
            args.get_one::<String>("range").map(String::as_str),
        )
        .await?;
    let mut out: Box<dyn tokio::io::AsyncWrite + Unpin + Send> =
        match args.get_one::<String>("out").map(String::as_str) {
            None | Some("-") => Box::new(tokio::io::stdout()),
            Some(path) => Box::new(
                tokio::fs::File::create(path)
                    .await
                    .map_err(|e| CliError::Usage(format!("cannot create {path}: {e}")))?,
            ),
        };
    while let Some(chunk) = file.try_next().await? {
        out.write_all(&chunk)
            .await
            .map_err(|e| CliError::Usage(format!("cannot write the download: {e}")))?;
    }
    out.flush()
        .await
        .map_err(|e| CliError::Usage(format!("cannot write the download: {e}")))?;
    Ok(())
}

fn parse_json_object(text: &str, what: &str) -> Result<Map<String, Value>, CliError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(CliError::Usage(format!(
            "{what} must be a JSON object like {{\"page_size\": 5}}, got {other}"
        ))),
        Err(e) => Err(CliError::Usage(format!("{what} is not valid JSON: {e}"))),
    }
}

fn unknown_entity(name: &str) -> Error {
    Error::InvalidInput {
        field: "entity".to_string(),
        message: format!(
            "unknown entity `{name}`; valid entities: {}",
            meta::entities()
                .iter()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

async fn exec(conn: &IncidentIoConnector, args: &ArgMatches) -> Result<(), CliError> {
    let entity = args.get_one::<String>("entity").expect("required");
    let action = args.get_one::<String>("action").expect("required");
    let params = match args.get_one::<String>("params") {
        Some(text) => Value::Object(parse_json_object(text, "PARAMS_JSON")?),
        None => Value::Null,
    };
    let options = shaped(
        args,
        ExecuteOptions::new().max_output_chars(args.get_one::<usize>("max_output_chars").copied()),
    );
    let result = conn.execute_raw(entity, action, params, options).await?;
    let name = meta::entity(entity).map_or("record", |e| e.name);
    let mut sink = stdout_sink(name, args);
    sink.result(&result)?;
    sink.finish()?;
    Ok(())
}

async fn search(conn: &IncidentIoConnector, args: &ArgMatches) -> Result<(), CliError> {
    let name = args.get_one::<String>("entity").expect("required");
    let entity = meta::entity(name)
        .map(|e| e.name)
        .ok_or_else(|| CliError::Sdk(unknown_entity(name)))?;
    let text = args.get_one::<String>("query").expect("required");
    let given = parse_json_object(text, "QUERY_JSON")?;
    let is_params = given
        .keys()
        .any(|k| matches!(k.as_str(), "query" | "limit" | "cursor" | "fields"));
    let mut params = if is_params || given.is_empty() {
        given
    } else {
        let mut p = Map::new();
        p.insert("query".into(), Value::Object(given));
        p
    };
    if let Some(n) = args.get_one::<u64>("limit") {
        params.insert("limit".into(), json!(n));
    }
    if let Some(c) = args.get_one::<String>("cursor") {
        params.insert("cursor".into(), json!(c));
    }
    if let Some(f) = args.get_many::<String>("fields") {
        params.insert("fields".into(), json!(f.collect::<Vec<_>>()));
    }
    let mut sink = stdout_sink(entity, args);
    if !args.get_flag("all") {
        let page = conn
            .execute_raw(
                entity,
                "search",
                Value::Object(params),
                shaped(args, unlimited()),
            )
            .await?;
        sink.result(&page)?;
        sink.finish()?;
        if sink.format() != Format::Json && has_more(&page) {
            hint_next(page.next_cursor(), "--cursor");
        }
        return Ok(());
    }
    let bar = progress(entity);
    sink.begin_stream()?;
    let mut seen = HashSet::new();
    let mut pages = 0u64;
    let outcome: Result<(), CliError> = async {
        loop {
            let page = conn
                .execute_raw(
                    entity,
                    "search",
                    Value::Object(params.clone()),
                    shaped(args, unlimited()),
                )
                .await?;
            let count = page.record_count().unwrap_or(0);
            sink.page(&page)?;
            pages += 1;
            advance(&bar, count, pages);
            let more = has_more(&page);
            match page.next_cursor() {
                Some(c) if more && !c.is_empty() => {
                    if !seen.insert(c.to_string()) {
                        return Err(CliError::Other(format!(
                            "pagination error in {entity}.search: the cursor {c:?} came back twice"
                        )));
                    }
                    params.insert("cursor".into(), json!(c));
                }
                _ => return Ok(()),
            }
        }
    }
    .await;
    bar.finish();
    outcome?;
    sink.finish()?;
    Ok(())
}

/// Whether a search page says more records follow (`meta.has_more`); read from the small
/// `meta` object only, not the records.
fn has_more(page: &RawOutput) -> bool {
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(default)]
        has_more: bool,
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        meta: Option<Meta>,
    }
    serde_json::from_str::<Envelope>(page.as_str())
        .ok()
        .and_then(|e| e.meta)
        .is_some_and(|m| m.has_more)
}

/// Like `IncidentIoConnector::check`, but keeps the error so the exit code can say what kind
/// of failure it was. Prints `{"status", "checked_entity", "checked_action", "error"?}`.
async fn check(conn: &IncidentIoConnector) -> Result<u8, CliError> {
    let ops = meta::operations();
    let op = ops
        .iter()
        .copied()
        .find(|o| o.preferred_for_check)
        .or_else(|| {
            ops.iter().copied().find(|o| {
                o.action == meta::Action::List
                    && o.params.iter().all(|p| !p.required || p.default.is_some())
            })
        })
        .ok_or_else(|| CliError::Other("the spec has no list operation to check with".into()))?;
    let params = if op.param("page_size").is_some() {
        json!({"page_size": 1})
    } else {
        json!({})
    };
    let outcome = conn.execute(op.entity, op.action.as_str(), params).await;
    let mut report = json!({
        "status": if outcome.is_ok() { "healthy" } else { "unhealthy" },
        "checked_entity": op.entity,
        "checked_action": op.action.as_str(),
    });
    let code = match &outcome {
        Ok(_) => EXIT_OK,
        Err(e) => {
            report["error"] = json!(e.to_string());
            report["retryable"] = json!(e.is_retryable());
            exit_code(e)
        }
    };
    let mut out = io::BufWriter::new(io::stdout());
    serde_json::to_writer_pretty(&mut out, &report).map_err(io::Error::from)?;
    writeln!(out)?;
    out.flush()?;
    if let Err(e) = outcome {
        eprintln!("incident-io: unhealthy: {e}");
    }
    Ok(code)
}

fn describe(args: &ArgMatches) -> Result<(), CliError> {
    let mut out = io::BufWriter::new(io::stdout());
    if let Some(section) = args.get_one::<String>("docs") {
        let section = Some(section.as_str()).filter(|s| !s.is_empty());
        write!(out, "{}", IncidentIoConnector::docs(section)?)?;
    } else if args.get_flag("tool_description") {
        writeln!(out, "{}", IncidentIoConnector::tool_description())?;
    } else if args.get_flag("tool_schema") {
        serde_json::to_writer_pretty(&mut out, &IncidentIoConnector::tool_input_schema())
            .map_err(io::Error::from)?;
        writeln!(out)?;
    } else if let Some(name) = args.get_one::<String>("entity") {
        let schema = IncidentIoConnector::entity_schema(name)?;
        let description = IncidentIoConnector::entities()
            .into_iter()
            .find(|e| e.entity == name)
            .ok_or_else(|| CliError::Sdk(unknown_entity(name)))?;
        let mut value = serde_json::to_value(description).map_err(io::Error::from)?;
        value["record_json_schema"] = schema;
        serde_json::to_writer_pretty(&mut out, &value).map_err(io::Error::from)?;
        writeln!(out)?;
    } else {
        serde_json::to_writer_pretty(&mut out, &IncidentIoConnector::entities())
            .map_err(io::Error::from)?;
        writeln!(out)?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use incident_io_connector::meta::{Action, NextPage, RecordElement};

    const fn op(
        action: Action,
        method: &'static str,
        params: &'static [meta::ParamMeta],
    ) -> OperationMeta {
        OperationMeta {
            entity: "boards",
            action,
            method,
            path: "/boards/{board_id}",
            summary: "",
            description: "",
            record_schema: "Board",
            record_field: "",
            record_path: &[],
            record_element: RecordElement::Whole,
            next_page: NextPage::None,
            cursor_path: &[],
            page_size_param: None,
            bulk_page_size: None,
            cursor_param: None,
            no_pagination: None,
            preferred_for_check: false,
            params,
            graphql: None,
            file_url: None,
            body: meta::BodyKind::Json,
            transform: None,
        }
    }

    static ID: [meta::ParamMeta; 1] = [meta::ParamMeta {
        name: "board_id",
        location: ParamLocation::Path,
        kind: ParamKind::String { allowed: &[] },
        required: true,
        minimum: None,
        maximum: None,
        default: None,
        description: "The board.",
        pattern: None,
    }];
    static UPDATE: OperationMeta = op(Action::Update, "PATCH", &ID);
    static DOWNLOAD: OperationMeta = op(Action::Download, "GET", &ID);
    static BOARDS: EntityMeta = EntityMeta {
        name: "boards",
        description: "Boards.",
        record_schema: "Board",
        operations: &[&UPDATE, &DOWNLOAD],
        search_fields: &[],
    };

    /// incident.io's spec has no writes or downloads, so the subcommands are checked on an
    /// entity of a spec that has them.
    #[test]
    fn writes_and_downloads_get_their_subcommands() {
        let cmd = Command::new("x").subcommand(entity_command(&BOARDS));
        let m = cmd
            .clone()
            .try_get_matches_from([
                "x",
                "boards",
                "update",
                "b_1",
                "--data",
                r#"{"name": "New"}"#,
            ])
            .expect("update parses");
        let (_, boards) = m.subcommand().unwrap();
        let (action, args) = boards.subcommand().unwrap();
        assert_eq!(action, "update");
        assert_eq!(
            args.get_one::<String>("board_id").map(String::as_str),
            Some("b_1")
        );
        let params = op_params(&UPDATE, args);
        assert_eq!(params.get("board_id"), Some(&json!("b_1")));
        assert_eq!(
            parse_json_object(args.get_one::<String>("data").unwrap(), "--data")
                .ok()
                .unwrap()["name"],
            "New"
        );
        let m = cmd
            .clone()
            .try_get_matches_from(["x", "boards", "download", "b_1", "-o", "/tmp/f.bin"])
            .expect("download parses");
        let (_, boards) = m.subcommand().unwrap();
        let (action, args) = boards.subcommand().unwrap();
        assert_eq!(action, "download");
        assert_eq!(
            args.get_one::<String>("out").map(String::as_str),
            Some("/tmp/f.bin")
        );
        // No list or get here, and no create: the spec has none.
        assert!(cmd
            .try_get_matches_from(["x", "boards", "create", "--data", "{}"])
            .is_err());
        // incident.io's entities have neither.
        for e in meta::entities() {
            let names: Vec<String> = entity_command(e)
                .get_subcommands()
                .map(|c| c.get_name().to_string())
                .collect();
            assert!(names.iter().all(|n| n == "list" || n == "get"), "{names:?}");
        }
    }
}
