//! Write bodies beyond a JSON object with properties (§5.4): a form body
//! (`application/x-www-form-urlencoded`, nested values bracket-flattened), a top-level
//! array body and a free-form object body, on `conformance/spec/writes.yaml` (labels,
//! board_tags, board_fields), the family's `writes.yaml` (notes, contact_tags, records)
//! and a small inline spec (typed form values); over the API routes and Airbyte's
//! `/execute`.

use connector_sdk_emulator::Emulator;
use serde_json::json;

use crate::common::{
    airbyte_auth, conformance_spec, execute, get, post_raw, records_at, request, spec, Resp,
};

const FORM: &str = "application/x-www-form-urlencoded";

async fn quillmark() -> Emulator {
    Emulator::builder(&conformance_spec("writes.yaml"))
        .count("boards", 4)
        .start()
        .await
        .unwrap()
}

/// An error in the API's envelope: this status and `errors[0].code`, naming `field` (in
/// `source.field` and the message) when given.
fn assert_error(r: &Resp, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.body);
    let b = r.json();
    assert_eq!(b["errors"][0]["code"], json!(code), "{b}");
    if let Some(f) = field {
        assert_eq!(b["errors"][0]["source"]["field"], json!(f), "{b}");
        let msg = b["errors"][0]["message"].as_str().unwrap();
        assert!(msg.contains(f), "the message names {f}: {b}");
    }
}

/// `method path` with these raw body bytes and `Content-Type` (plus the bearer token).
async fn send(emu: &Emulator, method: &str, path: &str, content_type: &str, body: &str) -> Resp {
    let url = format!("{}{path}", emu.base_url());
    let headers = vec![
        (
            "Authorization".to_string(),
            format!("Bearer {}", emu.api_key()),
        ),
        ("Content-Type".to_string(), content_type.to_string()),
    ];
    crate::common::request_url(method, &url, headers, Some(body.as_bytes().to_vec())).await
}

fn board_id(emu: &Emulator, i: usize) -> String {
    emu.record("boards", i).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_form_create_is_read_back_through_the_list() {
    let emu = quillmark().await;
    let synthesized = records_at(&get(&emu, "/labels", &[]).await.json(), "/labels");
    assert_eq!(synthesized.len(), 5, "an unpaginated list: every label");
    // As a form encoder sends it: nested values bracket-flattened, keys percent-encoded,
    // spaces as `+`.
    let sent = "name=Very+urgent&color=red&meta%5Bowner%5D=ops&meta%5Blevel%5D=2\
                &aliases%5B0%5D=hot&aliases%5B1%5D=now";
    let r = post_raw(&emu, "/labels", sent.as_bytes(), &[("Content-Type", FORM)]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let label = r.json();
    assert_eq!(label["name"], json!("Very urgent"), "{label}");
    assert_eq!(label["color"], json!("red"));
    // `meta` declares no properties: its values stay text.
    assert_eq!(label["meta"], json!({"owner": "ops", "level": "2"}));
    assert_eq!(label["aliases"], json!(["hot", "now"]));
    let id = label["id"].as_str().unwrap().to_string();
    assert!(
        synthesized.iter().all(|l| l["id"] != json!(id)),
        "a fresh id"
    );
    assert_eq!(emu.written("labels"), vec![label.clone()]);

    // The list serves it after the synthesized labels.
    let listed = records_at(&get(&emu, "/labels", &[]).await.json(), "/labels");
    assert_eq!(listed.len(), 6);
    assert_eq!(listed[..5], synthesized[..]);
    assert_eq!(listed[5], label);

    // The request log keeps the raw body as it went over the wire.
    let logged = emu
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(logged.path, "/labels");
    assert_eq!(logged.body_text(), sent);
    assert_eq!(logged.header("content-type"), Some(FORM));
    assert_eq!(logged.body_json(), None);

    // A form sent without a `Content-Type` to an operation that only takes forms is read
    // as a form; the default colour is the client's to send (none is applied).
    let r = post_raw(&emu, "/labels", b"name=Plain", &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["name"], json!("Plain"));
    assert_eq!(emu.written("labels").len(), 2);
}

#[tokio::test]
async fn form_bodies_are_checked_and_must_be_forms() {
    let emu = quillmark().await;
    // A missing required field.
    let r = post_raw(&emu, "/labels", b"color=red", &[("Content-Type", FORM)]).await;
    assert_error(&r, 400, "missing_parameter", Some("name"));
    // An empty text is a text (only an empty integer, number or boolean is absent).
    let r = post_raw(&emu, "/labels", b"name=", &[("Content-Type", FORM)]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    emu.clear_writes();
    // JSON to a form operation, a form to a JSON one, anything else: 415 naming the type
    // expected.
    let r = request(&emu, "POST", "/labels", Some(&json!({"name": "x"})), &[]).await;
    assert_error(&r, 415, "unsupported_media_type", None);
    assert!(r.body.contains(FORM), "{}", r.body);
    let r = send(&emu, "POST", "/labels", "text/plain", "name=x").await;
    assert_error(&r, 415, "unsupported_media_type", None);
    assert!(r.body.contains(FORM), "{}", r.body);
    let r = send(&emu, "POST", "/boards", FORM, "name=x").await;
    assert_error(&r, 415, "unsupported_media_type", None);
    assert!(r.body.contains("application/json"), "{}", r.body);
    // Nothing refused was stored.
    assert!(emu.written("labels").is_empty());
    assert!(emu.written("boards").is_empty());
}

/// A form create whose properties are typed, and a list to read it back.
const TYPED_FORM_SPEC: &str = r##"{
  "openapi": "3.1.0",
  "info": {"title": "Forms", "version": "1", "x-airbyte-connector-name": "forms"},
  "servers": [{"url": "https://api.forms.example.com"}],
  "paths": {
    "/tasks": {
      "get": {
        "x-airbyte-entity": "tasks", "x-airbyte-action": "list",
        "x-airbyte-record-extractor": "$.tasks",
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
          "type": "object",
          "properties": {"tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}}
        }}}}}
      },
      "post": {
        "x-airbyte-entity": "tasks", "x-airbyte-action": "create",
        "x-airbyte-record-extractor": "$.task",
        "requestBody": {"required": true, "content": {"application/x-www-form-urlencoded": {
          "schema": {
            "type": "object", "required": ["title"],
            "properties": {
              "title": {"type": "string"},
              "priority": {"type": "integer", "minimum": 0},
              "estimate": {"type": "number"},
              "done": {"type": "boolean"},
              "state": {"type": "string", "enum": ["open", "closed"]},
              "limits": {"type": "object", "properties": {"level": {"type": "integer"}}},
              "points": {"type": "array", "items": {"type": "integer"}}
            }
          }
        }}},
        "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": {
          "type": "object", "properties": {"task": {"$ref": "#/components/schemas/Task"}}
        }}}}}
      }
    }
  },
  "components": {"schemas": {"Task": {"type": "object", "properties": {
    "id": {"type": "string"}, "title": {"type": "string"}, "priority": {"type": "integer"},
    "estimate": {"type": "number"}, "done": {"type": "boolean"},
    "limits": {"type": "object", "properties": {"level": {"type": "integer"}}},
    "points": {"type": "array", "items": {"type": "integer"}}
  }}}}
}"##;

#[tokio::test]
async fn form_values_are_read_as_the_schema_types() {
    let emu = Emulator::builder(TYPED_FORM_SPEC)
        .count("tasks", 2)
        .start()
        .await
        .unwrap();
    let sent = "title=Ship&priority=3&estimate=1.5&done=true&state=open&limits%5Blevel%5D=4\
                &points%5B%5D=1&points%5B%5D=2";
    let r = post_raw(&emu, "/tasks", sent.as_bytes(), &[("Content-Type", FORM)]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let task = r.json()["task"].clone();
    assert_eq!(
        [
            &task["title"],
            &task["priority"],
            &task["estimate"],
            &task["done"],
            &task["limits"],
            &task["points"]
        ],
        [
            &json!("Ship"),
            &json!(3),
            &json!(1.5),
            &json!(true),
            &json!({"level": 4}),
            &json!([1, 2])
        ],
        "{task}"
    );
    let listed = records_at(&get(&emu, "/tasks", &[]).await.json(), "/tasks");
    assert_eq!(listed.last(), Some(&task));

    // Text that is not of the declared type is a 400 naming the field, at any depth; an
    // enum is checked as in a JSON body.
    for (body, code, field) in [
        ("title=t&priority=high", "invalid_value", "priority"),
        ("title=t&priority=1.5", "invalid_value", "priority"),
        ("title=t&estimate=soon", "invalid_value", "estimate"),
        ("title=t&done=yes", "invalid_value", "done"),
        (
            "title=t&limits%5Blevel%5D=x",
            "invalid_value",
            "limits[level]",
        ),
        (
            "title=t&points%5B0%5D=1&points%5B1%5D=z",
            "invalid_value",
            "points[1]",
        ),
        ("title=t&state=gone", "invalid_value", "state"),
        ("priority=2", "missing_parameter", "title"),
    ] {
        let r = post_raw(&emu, "/tasks", body.as_bytes(), &[("Content-Type", FORM)]).await;
        assert_error(&r, 400, code, Some(field));
    }
    assert_eq!(emu.written("tasks").len(), 1, "nothing refused was stored");
}

#[tokio::test]
async fn an_array_body_is_checked_element_by_element() {
    let emu = quillmark().await;
    let bid = board_id(&emu, 1);
    let path = format!("/boards/{bid}/tags");
    let sent = json!([{"tag": "q1", "weight": 2}]);
    let r = request(&emu, "POST", &path, Some(&sent), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The answer's `tags` are the elements' `tag`s.
    assert_eq!(r.json(), json!({"tags": ["q1"]}));
    assert_eq!(emu.requests().pop().unwrap().body_json(), Some(sent));
    let r = request(
        &emu,
        "POST",
        &path,
        Some(&json!([{"tag": "q1"}, {"tag": "q2", "weight": 0}])),
        &[],
    )
    .await;
    assert_eq!(r.json(), json!({"tags": ["q1", "q2"]}), "{}", r.body);

    // Each element is checked: required members, JSON types, objects.
    let r = request(&emu, "POST", &path, Some(&json!([{"weight": 2}])), &[]).await;
    assert_error(&r, 400, "missing_parameter", Some("[0].tag"));
    let r = request(
        &emu,
        "POST",
        &path,
        Some(&json!([{"tag": "a"}, {"tag": "b", "weight": "2"}])),
        &[],
    )
    .await;
    assert_error(&r, 400, "invalid_value", Some("[1].weight"));
    let r = request(&emu, "POST", &path, Some(&json!(["q1"])), &[]).await;
    assert_error(&r, 400, "invalid_value", Some("[0]"));
    // Not an array, not JSON.
    let r = request(&emu, "POST", &path, Some(&json!({"tag": "q1"})), &[]).await;
    assert_error(&r, 400, "invalid_body", None);
    assert!(r.body.contains("JSON array"), "{}", r.body);
    let r = send(&emu, "POST", &path, FORM, "tag=q1").await;
    assert_error(&r, 415, "unsupported_media_type", None);
    // An unknown board: 404.
    let r = request(
        &emu,
        "POST",
        "/boards/nope/tags",
        Some(&json!([{"tag": "q1"}])),
        &[],
    )
    .await;
    assert_error(&r, 404, "not_found", None);
    assert!(r.body.contains("board"), "{}", r.body);

    // The write-only entity is not listed as served, and has nothing to read.
    assert!(!emu.entities().contains(&"board_tags".to_string()));
    assert_eq!(emu.record_count("board_tags"), None);
    assert!(emu.written("board_tags").is_empty());
    assert_eq!(emu.current_records("board_tags"), None);
}

#[tokio::test]
async fn a_free_form_patch_takes_any_object() {
    let emu = quillmark().await;
    let bid = board_id(&emu, 2);
    let before = emu.current_records("boards").unwrap();
    let path = format!("/boards/{bid}/fields");
    let sent = json!({"priority": "high", "owner": {"team": "ops"}, "score": 3, "name": "x"});
    let r = request(&emu, "PATCH", &path, Some(&sent), &[]).await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(r.header("content-type"), None);
    assert_eq!(emu.requests().pop().unwrap().body_json(), Some(sent));
    // An empty object, or no body, is a free-form object too.
    let r = request(&emu, "PATCH", &path, Some(&json!({})), &[]).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = request(&emu, "PATCH", &path, None, &[]).await;
    assert_eq!(r.status, 204, "{}", r.body);
    // The board itself is not changed (another entity's write).
    assert_eq!(emu.current_records("boards").unwrap(), before);
    // Not an object; an unknown board.
    let r = request(&emu, "PATCH", &path, Some(&json!([1])), &[]).await;
    assert_error(&r, 400, "invalid_body", None);
    let r = request(&emu, "PATCH", "/boards/nope/fields", Some(&json!({})), &[]).await;
    assert_error(&r, 404, "not_found", None);
    assert!(!emu.entities().contains(&"board_fields".to_string()));
}

#[tokio::test]
async fn hosted_execute_runs_form_array_and_free_form_writes() {
    let emu = quillmark().await;
    let auth = airbyte_auth(&emu).await;
    // A form create from flat params, like a JSON one; the body default is applied.
    let r = execute(
        &emu,
        &auth,
        "labels",
        "create",
        json!({"name": "Ops", "meta": {"owner": "ops", "level": 2}, "aliases": ["o"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let label = r.json()["result"].clone();
    assert_eq!(label["name"], json!("Ops"), "{label}");
    assert_eq!(label["color"], json!("grey"));
    assert_eq!(label["meta"], json!({"owner": "ops", "level": 2}));
    assert_eq!(emu.written("labels"), vec![label.clone()]);
    let r = execute(&emu, &auth, "labels", "list", json!({})).await;
    let listed = r.json()["result"].as_array().unwrap().clone();
    assert_eq!(listed.last(), Some(&label), "{}", r.body);
    // The API route reads it back too.
    let api = records_at(&get(&emu, "/labels", &[]).await.json(), "/labels");
    assert_eq!(api.last(), Some(&label));
    let r = execute(&emu, &auth, "labels", "create", json!({"color": "red"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("name"));

    // An array body: one element from the items' properties, or the array given.
    let bid = board_id(&emu, 0);
    let r = execute(
        &emu,
        &auth,
        "board_tags",
        "create",
        json!({"board_id": bid, "tag": "q1", "weight": 2}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["result"], json!({"tags": ["q1"]}));
    let r = execute(
        &emu,
        &auth,
        "board_tags",
        "create",
        json!({"board_id": bid, "items": [{"tag": "a"}, {"tag": "b"}]}),
    )
    .await;
    assert_eq!(
        r.json()["result"],
        json!({"tags": ["a", "b"]}),
        "{}",
        r.body
    );
    let r = execute(
        &emu,
        &auth,
        "board_tags",
        "create",
        json!({"board_id": bid, "weight": 2}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.json()["message"].as_str().unwrap().contains("tag"));

    // A free-form body: every param but the path ones.
    let r = execute(
        &emu,
        &auth,
        "board_fields",
        "update",
        json!({"board_id": bid, "priority": "high"}),
    )
    .await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"result": {}, "connector_metadata": {}}))
    );
    let r = execute(
        &emu,
        &auth,
        "board_fields",
        "update",
        json!({"board_id": "nope", "priority": "high"}),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

#[tokio::test]
async fn family_fixture_body_kinds_are_served() {
    let emu = Emulator::builder(&spec("writes.yaml"))
        .count("deals", 3)
        .start()
        .await
        .unwrap();
    assert_eq!(emu.entities(), ["deals"]);
    // A form with a nested object and an array of objects (write-only notes).
    let sent = "body=Call+back&pinned=true&meta%5Bsource%5D=web\
                &mentions%5B0%5D%5Buser_id%5D=u1&mentions%5B0%5D%5Bnotify%5D=false";
    let r = post_raw(
        &emu,
        "/v1/notes",
        sent.as_bytes(),
        &[("Content-Type", FORM)],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let note = r.json()["note"].clone();
    assert_eq!(note["body"], json!("Call back"), "{note}");
    assert_eq!(note["pinned"], json!(true));
    let r = post_raw(
        &emu,
        "/v1/notes",
        b"pinned=maybe&body=x",
        &[("Content-Type", FORM)],
    )
    .await;
    assert_error(&r, 400, "invalid_value", Some("pinned"));

    // An array body whose answer echoes the elements and counts them; the contact is
    // not a readable entity here, so any contact id is taken.
    let r = request(
        &emu,
        "POST",
        "/v1/contacts/c-1/tags",
        Some(&json!([{"name": "vip", "color": "gold"}])),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let b = r.json();
    assert_eq!(b["tags"], json!([{"name": "vip", "color": "gold"}]), "{b}");
    assert_eq!(b["added"], json!(1));
    assert_eq!(b["contact_id"], json!("c-1"));

    // A free-form PATCH of a write-only entity: 204.
    let r = request(
        &emu,
        "PATCH",
        "/v1/objects/Account/001",
        Some(&json!({"Name": "Acme", "Rating": 3})),
        &[],
    )
    .await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    // A JSON create of a write-only entity, with its id header.
    let r = request(
        &emu,
        "POST",
        "/v1/contacts",
        Some(&json!({"email": "a@b.c", "lifecycle_stage": "lead", "subscribed": true})),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let contact = r.json()["contact"].clone();
    assert_eq!(contact["email"], json!("a@b.c"));
    assert_eq!(r.header("x-created-id"), contact["id"].as_str());
    // A parent of a readable entity must exist.
    let deal = emu.record("deals", 0).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let assoc = json!({"contact_id": "c-1", "role": "champion"});
    let r = request(
        &emu,
        "PATCH",
        &format!("/v1/deals/{deal}/associations"),
        Some(&assoc),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json()["association"],
        json!({"deal_id": deal, "contact_id": "c-1", "role": "champion"})
    );
    let r = request(
        &emu,
        "PATCH",
        "/v1/deals/nope/associations",
        Some(&assoc),
        &[],
    )
    .await;
    assert_error(&r, 404, "not_found", None);
}

#[tokio::test]
async fn all_mixed_fixture_array_put_and_form_create_are_served() {
    let emu = Emulator::builder(&spec("all-mixed.yaml"))
        .count("shipments", 3)
        .start()
        .await
        .unwrap();
    assert!(!emu.entities().contains(&"parcels".to_string()));
    let sid = emu.record("shipments", 1).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    // A PUT update of a write-only entity with an array body: the answer's `parcels`
    // are the elements, `shipment_id` the path's.
    let parcels = json!([{"weight_kg": 1.5, "packaging": "box"}, {"weight_kg": 2}]);
    let path = format!("/v3/shipments/{sid}/parcels");
    let r = request(&emu, "PUT", &path, Some(&parcels), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["parcels"], parcels, "{}", r.body);
    assert_eq!(r.json()["shipment_id"], json!(sid));
    let r = request(
        &emu,
        "PUT",
        &path,
        Some(&json!([{"packaging": "box"}])),
        &[],
    )
    .await;
    assert_error(&r, 400, "missing_parameter", Some("[0].weight_kg"));
    let r = request(
        &emu,
        "PUT",
        "/v3/shipments/nope/parcels",
        Some(&parcels),
        &[],
    )
    .await;
    assert_error(&r, 404, "not_found", None);
    // A form create with a nested object.
    let r = post_raw(
        &emu,
        &format!("/v3/shipments/{sid}/pickups"),
        b"ready_at=2024-05-01T10%3A00%3A00Z&contact%5Bname%5D=Ann&contact%5Bphone%5D=%2B1+555",
        &[("Content-Type", FORM)],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json()["pickup"]["ready_at"],
        json!("2024-05-01T10:00:00Z")
    );
    assert_eq!(emu.requests().pop().unwrap().method, "POST");
}
