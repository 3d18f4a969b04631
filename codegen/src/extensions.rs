//! Nothing is silently ignored: every `x-airbyte-*` extension on an operation, a
//! parameter, a security scheme or a server is either applied by the generator, known to
//! change nothing at run time (documentation, validation, hosted-only settings), or refused
//! with the file, the JSON pointer and the fix. An extension this generator has never heard
//! of is refused too, since it may change what a request or a record looks like.
//!
//! `info` is the exception, as in the reference runtime: its unknown `x-` keys are metadata.
//! The `info` extensions that change behaviour and are not applied are refused by name.

use serde_yaml_ng::Value;

use crate::error::{ptr, SpecError};
use crate::load::resolve_pointer;
use crate::model::Entity;

/// Operation extensions the generator applies.
const OPERATION_APPLIED: &[&str] = &[
    "x-airbyte-entity",
    "x-airbyte-action",
    "x-airbyte-record-extractor",
    "x-airbyte-meta-extractor",
    "x-airbyte-no-pagination",
    "x-airbyte-path-override",
    "x-airbyte-preferred-for-check",
    "x-airbyte-file-url",
    "x-airbyte-upload-file-param",
    "x-airbyte-record-transform",
    "x-airbyte-record-filter",
];

/// Extensions that only document (or only matter to Airbyte's hosted validation).
const DOCUMENTATION: &[&str] = &[
    "x-airbyte-ai-hints",
    "x-airbyte-untested",
    "x-airbyte-untested-reason",
    "x-airbyte-oauth-scopes",
    "x-airbyte-oauth-credentials",
    "x-airbyte-replication-environment-mapping",
    "x-airbyte-replication-environment-constants",
    "x-airbyte-entity-name",
    "x-airbyte-stream-name",
];

/// Extensions that change behaviour and are not applied yet, with what they would change
/// (none today: every extension of the published family is applied or documentation).
const NOT_YET: &[(&str, &str)] = &[];

/// `info` extensions that change behaviour; the rest of `info`'s `x-` keys are metadata.
const INFO_APPLIED: &[&str] = &[
    "x-airbyte-connector-name",
    "x-airbyte-connector-definition-id",
    "x-airbyte-scoping",
    "x-airbyte-response-error-check",
    "x-airbyte-context-store",
];

/// Scheme extensions the generator applies (`codegen/src/auth.rs`).
const SCHEME_APPLIED: &[&str] = &[
    "x-airbyte-auth-config",
    "x-airbyte-token-refresh",
    "x-airbyte-token-extract",
];

fn check_keys(node: &Value, at: &str, applied: &[&str], strict: bool) -> Result<(), SpecError> {
    let Value::Mapping(m) = node else {
        return Ok(());
    };
    for key in m.keys().filter_map(Value::as_str) {
        if !key.starts_with("x-airbyte-") || applied.contains(&key) || DOCUMENTATION.contains(&key)
        {
            continue;
        }
        if let Some((_, what)) = NOT_YET.iter().find(|(k, _)| *k == key) {
            return Err(SpecError::new(
                ptr(at, key),
                format!("unsupported construct: `{key}` ({what}): the generator does not apply it yet; leave this out of the spec (or use `new-connector --skip-unsupported` where it offers to) only if that difference is acceptable"),
            ));
        }
        if strict {
            return Err(SpecError::new(
                ptr(at, key),
                format!("unknown extension `{key}`: the generator cannot tell whether it changes requests or records; if it only documents, add it to DOCUMENTATION in codegen/src/extensions.rs"),
            ));
        }
    }
    Ok(())
}

/// Checks every extension the generated client would otherwise ignore (see the module docs).
pub(crate) fn check(doc: &Value, entities: &[Entity]) -> Result<(), SpecError> {
    if let Some(info) = doc.get("info") {
        check_keys(info, "/info", INFO_APPLIED, false)?;
    }
    for e in entities {
        for op in &e.operations {
            let Some(node) = resolve_pointer(doc, &op.pointer) else {
                continue;
            };
            check_keys(node, &op.pointer, OPERATION_APPLIED, true)?;
            if let Some(Value::Sequence(params)) = node.get("parameters") {
                for (i, p) in params.iter().enumerate() {
                    let at = ptr(&ptr(&op.pointer, "parameters"), &i.to_string());
                    // A `$ref` parameter is checked where it is defined.
                    let (p, at) = crate::load::deref(doc, p, &at);
                    check_keys(p, &at, &["x-airbyte-param-config-inject"], true)?;
                }
            }
            if let Some(body) = node.get("requestBody") {
                let (body, at) = crate::load::deref(doc, body, &ptr(&op.pointer, "requestBody"));
                // A GraphQL body type is applied (`model.rs`, `graphql_body`).
                check_keys(body, &at, &["x-airbyte-body-type"], true)?;
            }
        }
    }
    if let Some(Value::Mapping(schemes)) = resolve_pointer(doc, "/components/securitySchemes") {
        for (k, scheme) in schemes {
            let at = ptr(
                "/components/securitySchemes",
                k.as_str().unwrap_or_default(),
            );
            check_keys(scheme, &at, SCHEME_APPLIED, true)?;
        }
    }
    if let Some(server) = resolve_pointer(doc, "/servers/0") {
        check_keys(server, "/servers/0", &[], true)?;
    }
    Ok(())
}
