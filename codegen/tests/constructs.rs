//! Generator checks of single read constructs on small specs of our own: what is accepted
//! and how it is named, and what is refused at which JSON pointer.

use connector_sdk_codegen::{generate, parse};

/// A minimal valid spec; tests replace pieces of it.
const BASE: &str = r##"
openapi: 3.1.0
info:
  title: Pontoon API
  version: "1"
  x-airbyte-connector-name: pontoon
  x-airbyte-connector-definition-id: 6b1e2f0a-3c4d-4e5f-8a9b-0c1d2e3f4a5b
servers:
  - url: https://api.pontoon.example/v1
paths:
  /docks:
    get:
      operationId: listDocks
      x-airbyte-entity: docks
      x-airbyte-action: list
      x-airbyte-record-extractor: $.docks
      x-airbyte-no-pagination: "A harbour has a handful of docks."
      parameters:
        - {name: kind, in: query, schema: {type: string}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  docks: {type: array, items: {$ref: "#/components/schemas/Dock"}}
components:
  securitySchemes:
    dockKey:
      type: apiKey
      in: header
      name: X-Dock-Key
      x-airbyte-auth-config:
        type: object
        required: [key]
        properties:
          key: {type: string, airbyte_secret: true}
        auth_mapping:
          api_key: "${key}"
  schemas:
    Dock:
      type: object
      required: [id]
      properties:
        id: {type: string}
"##;

fn code(spec: &str) -> String {
    let s = parse("spec/pontoon.yaml", spec).unwrap_or_else(|e| panic!("{e}"));
    generate(&s).unwrap_or_else(|e| panic!("{e}")).code
}

fn refused(spec: &str, pointer: &str, needle: &str) {
    let e = match parse("spec/pontoon.yaml", spec).and_then(|s| generate(&s)) {
        Ok(_) => panic!("expected a refusal at {pointer}"),
        Err(e) => e,
    };
    assert_eq!(e.pointer, pointer, "{e}");
    assert!(e.message.contains(needle), "{e}");
}

#[test]
fn the_base_generates() {
    assert!(code(BASE).contains("pub struct DocksList"));
}

#[test]
fn parameters_named_like_builder_methods_get_a_suffix() {
    let spec = BASE.replace(
        "- {name: kind, in: query, schema: {type: string}}",
        "- {name: stream, in: query, schema: {type: string}}\n        - {name: send, in: query, schema: {type: integer}}",
    );
    let out = code(&spec);
    assert!(out.contains("pub fn stream_param("), "setter renamed");
    assert!(out.contains("pub fn send_param("), "setter renamed");
    assert!(
        out.contains("#[serde(rename = \"stream\")]"),
        "wire name kept"
    );
}

#[test]
fn header_parameters_may_not_carry_credentials() {
    for name in ["Authorization", "x-dock-key", "Cookie"] {
        let spec = BASE.replace(
            "- {name: kind, in: query, schema: {type: string}}",
            &format!("- {{name: {name}, in: header, schema: {{type: string, default: demo}}}}"),
        );
        refused(
            &spec,
            "/paths/~1docks/get/parameters/0",
            "would replace a credential",
        );
    }
}

#[test]
fn search_and_its_old_name_are_one_action() {
    let spec = BASE.replace(
        "components:\n",
        r##"  /docks/search:
    get:
      operationId: searchDocks
      x-airbyte-entity: docks
      x-airbyte-action: search
      x-airbyte-record-extractor: $.docks
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  docks: {type: array, items: {$ref: "#/components/schemas/Dock"}}
  /docks/find:
    get:
      operationId: findDocks
      x-airbyte-entity: docks
      x-airbyte-action: api_search
      x-airbyte-record-extractor: $.docks
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  docks: {type: array, items: {$ref: "#/components/schemas/Dock"}}
components:
"##,
    );
    refused(
        &spec,
        "/paths/~1docks~1find/get",
        "duplicate entity+action `docks`/`search`",
    );
}

#[test]
fn configuration_keys_must_make_names() {
    let spec = BASE.replace(
        "  x-airbyte-connector-name: pontoon\n",
        "  x-airbyte-connector-name: pontoon\n  x-airbyte-scoping:\n    - {param: kind, config_key: \"-\"}\n",
    );
    refused(&spec, "/info", "configuration key `-`");
}

#[test]
fn injected_and_scoped_parameters_are_optional_and_configurable() {
    let spec = BASE
        .replace(
            "  x-airbyte-connector-name: pontoon\n",
            "  x-airbyte-connector-name: pontoon\n  x-airbyte-scoping:\n    - {param: harbour, config_key: harbour}\n",
        )
        .replace(
            "- {name: kind, in: query, schema: {type: string}}",
            "- {name: kind, in: query, required: true, x-airbyte-param-config-inject: {source: region, map: {EU: eu-1}}, schema: {type: string}}\n        - {name: harbour, in: query, required: true, schema: {type: string}}",
        )
        .replace(
            "https://api.pontoon.example/v1",
            "https://{tenant}.pontoon.example/v1\n    variables:\n      tenant: {default: demo}",
        );
    let out = code(&spec);
    // No positional arguments: the configuration fills both.
    assert!(
        out.contains("pub fn list(&self) -> DocksList"),
        "list() takes no arguments"
    );
    for setter in ["pub fn region(", "pub fn harbour(", "pub fn tenant("] {
        assert!(out.contains(setter), "{setter}");
    }
    assert!(
        out.contains("required: true"),
        "the API's requirement is kept for the check"
    );
    assert!(
        out.contains("PONTOON_TENANT"),
        "from_env reads the variable"
    );
}

#[test]
fn offsets_need_one_record_per_element() {
    let spec = BASE
        .replace("x-airbyte-record-extractor: $.docks", "x-airbyte-record-extractor: $.docks[*].dock")
        .replace(
            "      x-airbyte-no-pagination: \"A harbour has a handful of docks.\"\n",
            "      x-airbyte-meta-extractor: {offset: $.offset, total: $.total}\n",
        )
        .replace(
            "- {name: kind, in: query, schema: {type: string}}",
            "- {name: offset, in: query, schema: {type: integer}}",
        )
        .replace(
            "docks: {type: array, items: {$ref: \"#/components/schemas/Dock\"}}",
            "docks: {type: array, items: {type: object, properties: {dock: {$ref: \"#/components/schemas/Dock\"}}}}\n                  offset: {type: integer}\n                  total: {type: integer}",
        );
    refused(
        &spec,
        "/paths/~1docks/get/x-airbyte-record-extractor",
        "offset pagination with the record extractor",
    );
}

#[test]
fn bodies_belong_to_post_reads() {
    let body = "      requestBody:\n        content:\n          application/json:\n            schema:\n              type: object\n              properties:\n                q: {type: string}\n                after: {type: [string, \"null\"], default: null}\n      responses:";
    // A body on a GET would never be sent.
    let on_get = BASE.replacen("      responses:", body, 1);
    refused(
        &on_get,
        "/paths/~1docks/get/requestBody",
        "would never be sent",
    );
    // On a POST read it generates; `default: null` is no default (null is not sent).
    let on_post = on_get.replace("  /docks:\n    get:", "  /docks:\n    post:");
    let s = parse("spec/pontoon.yaml", &on_post).unwrap();
    let op = &s.entities[0].operations[0];
    assert_eq!(op.method, "POST");
    let after = op.params.iter().find(|p| p.name == "after").unwrap();
    assert_eq!(after.default, None);
    assert!(generate(&s).unwrap().code.contains("method: \"POST\""));
    // A POST read paged by next-page URLs would resend its first body: refused.
    let by_url = on_post.replace(
        "      x-airbyte-no-pagination: \"A harbour has a handful of docks.\"\n",
        "      x-airbyte-meta-extractor: {next: \"@link.next\"}\n",
    );
    refused(
        &by_url,
        "/paths/~1docks/post/x-airbyte-meta-extractor",
        "paged by next-page URLs",
    );
}

#[test]
fn writes_get_typed_bodies_and_their_own_answers() {
    let writes = BASE.replacen(
        "components:\n",
        r##"  /docks/{dock_id}:
    put:
      operationId: replaceDock
      x-airbyte-entity: docks
      x-airbyte-action: update
      x-airbyte-meta-extractor: {etag: "@header.ETag"}
      parameters:
        - {name: dock_id, in: path, required: true, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [name, berths]
              properties:
                name: {type: string}
                berths: {type: integer, minimum: 1}
                lit: {type: boolean, default: true}
                bollards: {type: array, items: {type: string}}
                layout: {type: object}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Dock"}
    delete:
      operationId: removeDock
      x-airbyte-entity: docks
      x-airbyte-action: delete
      parameters:
        - {name: dock_id, in: path, required: true, schema: {type: string}}
      responses:
        "204": {description: gone}
components:
"##,
        1,
    );
    let s = parse("spec/pontoon.yaml", &writes).unwrap_or_else(|e| panic!("{e}"));
    let ops: Vec<(&str, &str, &str)> = s
        .operations()
        .map(|o| {
            (
                o.action.as_str(),
                o.method.as_str(),
                o.record_component.as_str(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        [
            ("list", "GET", "Dock"),
            ("update", "PUT", "Dock"),
            ("delete", "DELETE", "")
        ]
    );
    let code = generate(&s).unwrap().code;
    syn::parse_file(&code).unwrap();
    // Compared without whitespace (prettyplease wraps long lines).
    let flat: String = code.split_whitespace().collect();
    let has = |needle: &str| {
        let n: String = needle.split_whitespace().collect();
        assert!(flat.contains(&n), "{needle} in\n{code}");
    };
    // Required properties are `new`'s arguments; the rest are builder methods; arrays of
    // scalars are typed, nested objects pass through.
    has("pub struct DocksUpdateBody");
    has("pub fn new(name: impl ::std::convert::Into<::std::string::String>, berths: i64,");
    has("pub bollards: ::std::option::Option<::std::vec::Vec<::std::string::String>>");
    has("pub layout: ::std::option::Option<::serde_json::Value>");
    has("#[serde(flatten)]\n        pub body: DocksUpdateBody");
    // The handle: ids, then the body; a delete with no answer body returns `()`.
    has("body: DocksUpdateBody,\n        ) -> DocksUpdate");
    has("WriteRequest<DocksDeleteParams, ()>");
    has("action: ::connector_sdk_runtime::meta::Action::Delete");
    // A write over GET is refused at the operation.
    let on_get = writes.replace(
        "    delete:\n      operationId: removeDock",
        "    get:\n      operationId: removeDock",
    );
    refused(
        &on_get,
        "/paths/~1docks~1{dock_id}/get",
        "a write must be sent as",
    );
}

#[test]
fn graphql_placeholders_must_name_parameters_and_reserved_names_are_suffixed() {
    let gql = BASE.replacen(
        "components:\n",
        r##"  /graphql:docks:get:
    post:
      operationId: getDock
      x-airbyte-entity: docks
      x-airbyte-action: get
      x-airbyte-path-override: {path: /graphql}
      x-airbyte-record-extractor: $.data.dock
      parameters:
        - {name: id, in: query, required: true, schema: {type: string}}
      requestBody:
        x-airbyte-body-type:
          type: graphql
          query: "query($id: ID!) { dock(id: $id) { id } }"
          variables: {id: "{{ id }}", note: "for {{ idd }}"}
        content: {application/json: {schema: {type: object}}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: object
                properties:
                  data: {type: object, properties: {dock: {$ref: "#/components/schemas/Dock"}}}
  /docks/{dock_id}/notes:
    post:
      operationId: addNote
      x-airbyte-entity: notes
      x-airbyte-action: create
      parameters:
        - {name: dock_id, in: path, required: true, schema: {type: string}}
        - {name: body, in: query, schema: {type: string}}
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [text], properties: {text: {type: string}}}
      responses:
        "201":
          description: ok
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Dock"}
components:
"##,
        1,
    );
    refused(
        &gql,
        "/paths/~1graphql:docks:get/post/requestBody/x-airbyte-body-type/variables",
        "`{{ idd }}` names no parameter",
    );
    // A query param named `body` beside a write's body struct gets a suffix.
    let fixed = gql.replace("for {{ idd }}", "for {{ id }}");
    let code = code(&fixed);
    let flat: String = code.split_whitespace().collect();
    assert!(flat.contains("pubbody_param:"), "{code}");
    assert!(flat.contains("pubbody:NotesCreateBody"), "{code}");
    syn::parse_file(&code).unwrap();
}

#[test]
fn transforms_get_their_own_record_type_and_filters_need_cursors() {
    let transformed = BASE.replace(
        "      x-airbyte-no-pagination: \"A harbour has a handful of docks.\"\n",
        "      x-airbyte-no-pagination: \"A harbour has a handful of docks.\"\n      x-airbyte-record-transform: {label: \"{{ record.id | upper }}\"}\n",
    );
    let s = parse("spec/pontoon.yaml", &transformed).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        s.entities[0].operations[0].record_component,
        "DocksListRecord"
    );
    let code = generate(&s).unwrap().code;
    let flat: String = code.split_whitespace().collect();
    // The shared `Dock` is untouched; the list's own type has the output.
    assert!(flat.contains("pubstructDocksListRecord{"), "{code}");
    assert!(flat.contains("publabel:"), "{code}");
    // An output over a property of another type is refused.
    let clash = transformed.replace(
        "        id: {type: string}",
        "        id: {type: string}\n        label: {type: integer}",
    );
    refused(
        &clash,
        "/paths/~1docks/get/x-airbyte-record-transform/label",
        "the output `label` is text",
    );
    // A filter on a page-counted list would count pages after the filter.
    let offset = BASE
        .replace(
            "      x-airbyte-no-pagination: \"A harbour has a handful of docks.\"\n",
            "      x-airbyte-meta-extractor: {total_pages: $.total_pages}\n      x-airbyte-record-filter: \"{{ not record.closed }}\"\n",
        )
        .replace(
            "        - {name: kind, in: query, schema: {type: string}}",
            "        - {name: kind, in: query, schema: {type: string}}\n        - {name: page, in: query, schema: {type: integer}}",
        )
        .replace(
            "                  docks: {type: array, items: {$ref: \"#/components/schemas/Dock\"}}",
            "                  docks: {type: array, items: {$ref: \"#/components/schemas/Dock\"}}\n                  total_pages: {type: integer}",
        );
    refused(
        &offset,
        "/paths/~1docks/get/x-airbyte-record-filter",
        "a record filter on a list paged by page numbers or offsets",
    );
}
