//! The family fixtures (`tests/specs/family/`, specs of our own covering every construct of
//! Airbyte's connector specs): each one the generator supports produces code that parses;
//! each one it does not is refused with the file, the JSON pointer and what to do. The list
//! below is the current state; a fixture moving from refused to accepted updates it.

use connector_sdk_codegen::{generate, parse};

fn spec(name: &str) -> (String, String) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/specs/family")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    (format!("family/{name}"), text)
}

/// Fixtures whose every operation the generator takes.
const ACCEPTED: &[&str] = &[
    "actions.yaml",
    "all-mixed.yaml",
    "auth-apikey-query.yaml",
    "auth-apikey.yaml",
    "auth-basic-empty-password.yaml",
    "auth-basic.yaml",
    "auth-bearer.yaml",
    "auth-multi.yaml",
    "auth-oauth2-jwt.yaml",
    "auth-oauth2-variants.yaml",
    "auth-oauth2.yaml",
    "downloads.yaml",
    "extractors-quirks.yaml",
    "extractors.yaml",
    "graphql.yaml",
    "info-metadata.yaml",
    "pagination.yaml",
    "record-transforms.yaml",
    "params.yaml",
    "schemas.yaml",
    "writes.yaml",
    "servers-edge.yaml",
    "servers-variables.yaml",
];

/// Fixtures refused, with where and why: the spec is invalid (pagination), the construct
/// is refused by design (boolean schemas, two operations for one entity and action), or
/// the spec does not say enough (a cursor with no parameter to go back in).
const REFUSED: &[(&str, &str, &str)] = &[
    // Two operations for one (entity, action): refused rather than one silently dropped.
    (
        "actions-quirks.yaml",
        "/paths/~1v1~1pages/get",
        "duplicate entity+action `pages`/`list`",
    ),
    (
        "pagination-missing.yaml",
        "/paths/~1stock_items/get",
        "no pagination and no `x-airbyte-no-pagination`",
    ),
    (
        "pagination-empty-reason.yaml",
        "/paths/~1rooms/get/x-airbyte-no-pagination",
        "an empty reason",
    ),
    (
        "schemas-unsupported.yaml",
        "/components/schemas/Survey/allOf/1/properties/tags/items",
        "unsupported construct: a boolean schema",
    ),
    (
        "all-reads.yaml",
        "/paths/~1users.search/post/x-airbyte-meta-extractor",
        "unsupported construct: cannot tell how this list pages",
    ),
];

#[test]
fn supported_fixtures_generate_code_that_parses() {
    for name in ACCEPTED {
        let (file, text) = spec(name);
        let out = parse(&file, &text)
            .and_then(|s| generate(&s))
            .unwrap_or_else(|e| panic!("{e}"));
        syn::parse_file(&out.code).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn unsupported_fixtures_are_refused_at_their_pointer() {
    for (name, pointer, needle) in REFUSED {
        let (file, text) = spec(name);
        let e = match parse(&file, &text).and_then(|s| generate(&s)) {
            Ok(_) => panic!("{name} generated; move it to ACCEPTED"),
            Err(e) => e,
        };
        assert_eq!(e.pointer, *pointer, "{e}");
        assert!(e.message.contains(needle), "{e}");
        assert!(
            e.to_string()
                .starts_with(&format!("{file}: at {pointer}: ")),
            "{e}"
        );
    }
}

#[test]
fn pagination_forms_are_read_from_the_meta_extractor() {
    let (file, text) = spec("pagination.yaml");
    let s = parse(&file, &text).unwrap();
    let forms: Vec<(String, String)> = s
        .operations()
        .map(|o| {
            (
                o.entity.clone(),
                match &o.pagination {
                    Some(p) => format!("{:?} via {} into {}", p.form, p.meta_key, p.cursor_param),
                    None => format!("none ({})", o.no_pagination.as_deref().unwrap_or("?")),
                },
            )
        })
        .collect();
    let find = |e: &str| {
        forms
            .iter()
            .find(|(n, _)| n == e)
            .map(|(_, f)| f.as_str())
            .unwrap_or_else(|| panic!("{e} in {forms:?}"))
    };
    assert_eq!(find("employees"), "Cursor via next_cursor into after");
    assert_eq!(find("departments"), "Cursor via cursor into page[cursor]");
    assert!(
        find("time_off").starts_with("PageNumber via has_more into page"),
        "{forms:?}"
    );
    assert!(
        find("locations").starts_with("LinkHeader(\"next\")"),
        "{forms:?}"
    );
    assert!(
        find("documents").starts_with("BodyUrl via next_page_url"),
        "{forms:?}"
    );
    assert!(
        find("audit_events")
            .starts_with("HeaderCursor(\"X-Next-Cursor\") via next_cursor into cursor"),
        "{forms:?}"
    );
}
