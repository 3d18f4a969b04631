//! `incident-io mcp`: the Model Context Protocol over stdio (rmcp).
//!
//! By default the tools are the progressive set (`IncidentIoConnector::tools()`), small
//! definitions whose details are fetched on demand:
//! - `incident_io_execute`: the SDK's `execute(entity, action, params)` with the shaping
//!   options, a short description and a compact schema. Results are compact JSON text, the
//!   records spliced from incident.io's own bytes (never decoded and re-encoded); results over
//!   the output limit are refused with an error that says how to ask for less.
//! - `incident_io_docs(section?)`: the outline, or one entity's or topic's details
//!   (`IncidentIoConnector::docs`).
//! - `incident_io_inspect`: the connector's metadata (`IncidentIoConnector::inspect`).
//! - `incident_io_check`: `IncidentIoConnector::check()`.
//!
//! With `--single-tool`, `incident_io_execute` carries the full description and per-action
//! schema instead (`tool_description()`, `tool_input_schema()`), beside `incident_io_check`.
//!
//! Failures are tool errors (`isError: true`) whose text starts with what kind of failure it
//! is, whether retrying can help, and what to change. Only a call to an unknown tool is a
//! protocol error. stdout carries the protocol only; nothing else is printed there.

use std::sync::Arc;

use incident_io_connector::{meta, CheckStatus, Error, ExecuteOptions, IncidentIoConnector};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    JsonObject, ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
    ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};

/// Name of the execute tool.
pub(crate) const EXECUTE_TOOL: &str = "incident_io_execute";
/// Name of the check tool.
pub(crate) const CHECK_TOOL: &str = "incident_io_check";
/// Name of the docs tool (progressive form).
pub(crate) const DOCS_TOOL: &str = "incident_io_docs";
/// Name of the inspect tool (progressive form).
pub(crate) const INSPECT_TOOL: &str = "incident_io_inspect";

/// The MCP server: a connector and the two tool definitions.
#[derive(Clone)]
struct IncidentIoMcp {
    connector: IncidentIoConnector,
    max_output_chars: Option<usize>,
    /// `--allow-writes`: the execute tool may run write actions (read-only otherwise).
    allow_writes: bool,
    tools: Arc<Vec<Tool>>,
}

fn object(v: Value) -> JsonObject {
    match v {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    }
}

impl IncidentIoMcp {
    fn new(
        connector: IncidentIoConnector,
        max_output_chars: Option<usize>,
        single_tool: bool,
        allow_writes: bool,
    ) -> Self {
        let read_only = ToolAnnotations::new()
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(true);
        // With writes allowed on a spec that has them, the execute tool can change data.
        let has_writes = meta::entities()
            .iter()
            .flat_map(|e| e.operations)
            .any(|o| o.action.is_write());
        let execute_annotations = if allow_writes && has_writes {
            ToolAnnotations::new()
                .read_only(false)
                .destructive(true)
                .idempotent(false)
                .open_world(true)
        } else {
            read_only.clone()
        };
        let defs = if single_tool {
            vec![IncidentIoConnector::single_tool()]
        } else {
            IncidentIoConnector::tools()
        };
        let mut tools: Vec<Tool> = defs
            .into_iter()
            .map(|d| {
                let annotations = if d.name.ends_with("_execute") {
                    execute_annotations.clone()
                } else {
                    read_only.clone()
                };
                Tool::new(d.name, d.description, object(d.input_schema))
                    .with_title(d.title)
                    .with_annotations(annotations)
            })
            .collect();
        let check = Tool::new(
            CHECK_TOOL,
            "Checks that the incident.io connection works: reads one record with the configured credentials. Returns {\"status\": \"healthy\"} or an error saying what is wrong. Takes no arguments.",
            object(json!({"type": "object", "properties": {}, "additionalProperties": false})),
        )
        .with_title("Check the incident.io connection")
        .with_annotations(read_only);
        tools.push(check);
        IncidentIoMcp {
            connector,
            max_output_chars,
            allow_writes,
            tools: Arc::new(tools),
        }
    }

    fn docs(&self, args: &JsonObject) -> CallToolResult {
        let section = match args.get("section") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                return tool_error(
                    "Invalid call; not retryable as is. section must be a string: an entity name or a topic; call with no arguments for the outline.".to_string(),
                )
            }
        };
        if let Some(extra) = args.keys().find(|k| k.as_str() != "section") {
            return tool_error(format!(
                "Invalid call; not retryable as is. The only argument is section; `{extra}` is not one."
            ));
        }
        match IncidentIoConnector::docs(section) {
            Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
            Err(e) => tool_error(agent_message(&e)),
        }
    }

    async fn inspect(&self) -> CallToolResult {
        match self.connector.inspect().await {
            Ok(v) => CallToolResult::success(vec![ContentBlock::text(v.to_string())]),
            Err(e) => tool_error(agent_message(&e)),
        }
    }

    async fn execute(&self, args: JsonObject) -> CallToolResult {
        let entities = || {
            meta::entities()
                .iter()
                .map(|e| e.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(extra) = args.keys().find(|k| {
            !matches!(
                k.as_str(),
                "entity"
                    | "action"
                    | "params"
                    | "select_fields"
                    | "exclude_fields"
                    | "skip_truncation"
                    | "intent"
                    | "compact"
            )
        }) {
            return tool_error(format!(
                "Invalid call, nothing was sent to incident.io; not retryable as is. The arguments are entity, action, params, and optionally select_fields, exclude_fields, skip_truncation and intent; `{extra}` is not one of them (put action parameters inside params, e.g. {{\"entity\": \"incidents\", \"action\": \"list\", \"params\": {{\"page_size\": 25}}}})."
            ));
        }
        let Some(entity) = args.get("entity").and_then(Value::as_str) else {
            return tool_error(format!(
                "Invalid call, nothing was sent to incident.io; not retryable as is. Pass `entity` as a string, one of: {}.",
                entities()
            ));
        };
        let Some(action) = args.get("action").and_then(Value::as_str) else {
            return tool_error(
                "Invalid call, nothing was sent to incident.io; not retryable as is. Pass `action` as a string: list, get or search.".to_string(),
            );
        };
        // Some clients send params as a JSON object in a string.
        let params = match args.get("params") {
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(v @ Value::Object(_)) => v,
                _ => {
                    return tool_error(format!(
                        "Invalid call, nothing was sent to incident.io; not retryable as is. params must be a JSON object (or a string holding one), got {text:?}"
                    ))
                }
            },
            other => other.cloned().unwrap_or(Value::Null),
        };
        let options = match shaping_options(&args) {
            Ok(o) => o
                .max_output_chars(self.max_output_chars)
                .allow_writes(self.allow_writes),
            Err(message) => {
                return tool_error(format!(
                    "Invalid call, nothing was sent to incident.io; not retryable as is. {message}"
                ))
            }
        };
        match self
            .connector
            .execute_raw(entity, action, params, options)
            .await
        {
            // The result's text goes out as built: records spliced from the server's bytes.
            Ok(result) => CallToolResult::success(vec![ContentBlock::text(result.into_string())]),
            Err(e) => tool_error(agent_message(&e)),
        }
    }

    async fn check(&self) -> CallToolResult {
        let result = self.connector.check().await;
        let report = json!({
            "status": match result.status {
                CheckStatus::Healthy => "healthy",
                _ => "unhealthy",
            },
            "checked_entity": result.checked_entity,
            "checked_action": result.checked_action,
            "error": result.error,
        });
        if result.status == CheckStatus::Healthy {
            CallToolResult::success(vec![ContentBlock::text(report.to_string())])
        } else {
            tool_error(format!(
                "The incident.io connection is unhealthy: {}. Retrying will not help until the server's credentials or network are fixed; report this to the user. Details: {report}",
                result.error.as_deref().unwrap_or("unknown error")
            ))
        }
    }
}

/// The shaping arguments of an execute call. For agents, truncation and compaction are on
/// unless `skip_truncation` is true or `compact` false (long strings and empty values cost
/// context); select and exclude are as given.
fn shaping_options(args: &JsonObject) -> Result<ExecuteOptions, String> {
    let list = |key: &str| -> Result<Option<Vec<String>>, String> {
        match args.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        format!("{key} must be a list of field names, like [\"id\", \"incident_status.name\"]")
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Some),
            Some(_) => Err(format!(
                "{key} must be a list of field names, like [\"id\", \"incident_status.name\"]"
            )),
        }
    };
    let mut options = ExecuteOptions::new().skip_truncation(false).compact(true);
    if let Some(f) = list("select_fields")? {
        options = options.select_fields(f);
    }
    if let Some(f) = list("exclude_fields")? {
        options = options.exclude_fields(f);
    }
    match args.get("skip_truncation") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => options = options.skip_truncation(*b),
        Some(_) => return Err("skip_truncation must be true or false".to_string()),
    }
    match args.get("compact") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => options = options.compact(*b),
        Some(_) => return Err("compact must be true or false".to_string()),
    }
    match args.get("intent") {
        None | Some(Value::Null) => {}
        Some(Value::String(i)) => options = options.intent(i.clone()),
        Some(_) => return Err("intent must be a string".to_string()),
    }
    Ok(options)
}

fn tool_error(message: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message)])
}

/// The text of a tool error: the kind of failure, whether a retry can help, what to change,
/// then the SDK's own message (which names the field and the valid values).
pub(crate) fn agent_message(e: &Error) -> String {
    let lead = match e {
        Error::InvalidInput { .. } => {
            "Invalid call; not retryable as is: change the call as described".to_string()
        }
        Error::HostedOnly { .. } => {
            "Not available in this mode; not retryable: use list (and get) instead of search".to_string()
        }
        Error::Validation(_) => {
            "incident.io rejected the params; not retryable as is: change the params it names".to_string()
        }
        Error::NotFound(_) => {
            "Not found; not retryable with the same id: take ids from the id field of list results".to_string()
        }
        Error::Auth(_) | Error::ConnectorNotFound { .. } | Error::AmbiguousConnector { .. } => {
            "Authentication or configuration failure; not retryable and not fixable by changing params: tell the user the server's incident.io credentials need fixing".to_string()
        }
        Error::RateLimited { retry_after, .. } => match retry_after {
            Some(d) => format!(
                "Rate limited; retryable: wait {:.0} seconds, then make the same call again",
                d.as_secs_f64().ceil()
            ),
            None => "Rate limited; retryable: wait a few seconds, then make the same call again".to_string(),
        },
        e if e.is_retryable() => {
            "Temporary failure; retryable: make the same call again in a few seconds".to_string()
        }
        _ => "Failed; not retryable".to_string(),
    };
    format!("{lead}. {e}")
}

impl ServerHandler for IncidentIoMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "incident-io",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(
                "Read-only access to incident.io. Call incident_io_execute with {entity, action, params}; pass meta.next_cursor back as after for the next page. When incident_io_docs is offered, read an entity's section (incident_io_docs with section set to the entity) before calling it. incident_io_check verifies the connection.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = request.arguments.unwrap_or_default();
        let result = match request.name.as_ref() {
            EXECUTE_TOOL => self.execute(args).await,
            CHECK_TOOL => self.check().await,
            DOCS_TOOL if self.tools.iter().any(|t| t.name == DOCS_TOOL) => self.docs(&args),
            INSPECT_TOOL if self.tools.iter().any(|t| t.name == INSPECT_TOOL) => {
                self.inspect().await
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "unknown tool `{other}`; the tools are {}",
                        self.tools
                            .iter()
                            .map(|t| t.name.to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    None,
                ))
            }
        };
        Ok(result.into())
    }
}

/// Serves MCP on stdin/stdout until the client disconnects.
pub(crate) async fn serve(
    connector: IncidentIoConnector,
    max_output_chars: Option<usize>,
    single_tool: bool,
    allow_writes: bool,
) -> Result<(), String> {
    let server = IncidentIoMcp::new(connector, max_output_chars, single_tool, allow_writes);
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("MCP session failed to start: {e}"))?;
    running
        .waiting()
        .await
        .map_err(|e| format!("MCP session ended abnormally: {e}"))?;
    Ok(())
}
