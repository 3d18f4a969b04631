//! Writes (§5.1, §5.2, §5.4): create, update and delete served from the spec against the
//! emulator's write store, read back through get and list, over both transports (the API
//! routes and Airbyte's `/execute`), on `conformance/spec/writes.yaml` (boards and cards), the
//! family's `writes.yaml` (deals) and a small inline spec (integer ids, a POST delete naming
//! its record in the body).

use std::collections::HashSet;

use connector_sdk_emulator::{Emulator, Fault};
use serde_json::{json, Value};

use crate::common::{
    airbyte_auth, conformance_spec, execute, get, records_at, request, request_url, spec,
    try_request, Resp,
};

async fn quillmark() -> Emulator {
    Emulator::builder(&conformance_spec("writes.yaml"))
        .count("boards", 7)
        .count("cards", 5)
        .start()
        .await
        .unwrap()
}

/// An error in the envelope of reads: this status, `type` and `errors[0].code`, naming
/// `field` (in `source.field` and the message) when given.
fn assert_error(r: &Resp, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.body);
    let b = r.json();
    assert_eq!(b["status"], json!(status), "{b}");
    assert_eq!(b["errors"][0]["code"], json!(code), "{b}");
    if let Some(f) = field {
        assert_eq!(b["errors"][0]["source"]["field"], json!(f), "{b}");
        let msg = b["errors"][0]["message"].as_str().unwrap();
        assert!(msg.contains(f), "the message names {f}: {b}");
    }
}

/// Every record of a cursor-paged list (`$.<key>`, cursor `$.meta.next` into `cursor`).
async fn walk_list(emu: &Emulator, path: &str, key: &str, limit: usize) -> Vec<Value> {
    let mut records = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let target = match &cursor {
            Some(c) => format!("{path}?limit={limit}&cursor={c}"),
            None => format!("{path}?limit={limit}"),
        };
        let r = get(emu, &target, &[]).await;
        assert_eq!(r.status, 200, "{target}: {}", r.body);
        let page = r.json();
        let got = records_at(&page, &format!("/{key}"));
        assert!(got.len() <= limit);
        records.extend(got);
        match page.pointer("/meta/next").and_then(Value::as_str) {
            Some(c) => cursor = Some(c.to_string()),
            None => return records,
        }
    }
    panic!("too many pages");
}

fn ids(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().expect("a string id").to_string())
        .collect()
}

#[tokio::test]
async fn boards_are_created_read_back_updated_and_deleted() {
    let emu = quillmark().await;
    let synthesized: Vec<Value> = (0..7).map(|i| emu.record("boards", i).unwrap()).collect();
    assert_eq!(emu.current_records("boards").unwrap(), synthesized);

    // Create: 201, the record under `$.board`, what was sent stored (the client sends the
    // default color itself).
    let sent = json!({
        "name": "Roadmap",
        "color": "blue",
        "tags": ["q3", "planning"],
        "settings": {"public": true}
    });
    let r = request(
        &emu,
        "POST",
        "/boards",
        Some(&sent),
        &[("Idempotency-Key", "k-1")],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let body = r.json();
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "only the wrapper: {body}"
    );
    let board = body["board"].clone();
    for k in ["name", "color", "tags", "settings"] {
        assert_eq!(board[k], sent[k], "{k}: {board}");
    }
    let id = board["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 26, "an emulator id: {id}");
    assert!(!ids(&synthesized).contains(&id), "a fresh id");
    assert!(board["created_at"].is_string(), "{board}");
    assert_eq!(emu.written("boards"), vec![board.clone()]);
    // The synthesized data set is unchanged.
    assert_eq!(emu.record_count("boards"), Some(7));
    assert_eq!(emu.record("boards", 3).unwrap(), synthesized[3]);

    // The request log has the write as it went over the wire.
    let logged = emu.requests().pop().unwrap();
    assert_eq!(
        (logged.method.as_str(), logged.path.as_str()),
        ("POST", "/boards")
    );
    assert_eq!(logged.body_json(), Some(sent.clone()));
    assert_eq!(logged.header("idempotency-key"), Some("k-1"));

    // A second create gets another id.
    let r = request(
        &emu,
        "POST",
        "/boards",
        Some(&json!({"name": "Second", "color": "green"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let second = r.json()["board"].clone();
    assert_ne!(second["id"], board["id"]);

    // Get reads it back.
    let r = get(&emu, &format!("/boards/{id}"), &[]).await;
    assert_eq!((r.status, r.json()), (200, board.clone()));

    // The list serves the created boards after the synthesized ones, each exactly once.
    let listed = walk_list(&emu, "/boards", "boards", 3).await;
    assert_eq!(listed.len(), 9);
    assert_eq!(listed[..7], synthesized[..]);
    assert_eq!(listed[7], board);
    assert_eq!(listed[8], second);
    assert_eq!(ids(&listed).iter().collect::<HashSet<_>>().len(), 9);
    assert_eq!(emu.current_records("boards").unwrap(), listed);
    // One page holding everything, too.
    let r = get(&emu, "/boards?limit=50", &[]).await;
    assert_eq!(records_at(&r.json(), "/boards"), listed);

    // PATCH merges the fields sent; the answer is the whole record.
    let r = request(
        &emu,
        "PATCH",
        &format!("/boards/{id}"),
        Some(&json!({"name": "Roadmap 2024", "archived": true})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let patched = r.json();
    assert_eq!(patched["name"], json!("Roadmap 2024"));
    assert_eq!(patched["archived"], json!(true));
    assert_eq!(patched["color"], json!("blue"));
    assert_eq!(patched["tags"], sent["tags"]);
    assert_eq!(patched["id"], json!(id));
    let r = get(&emu, &format!("/boards/{id}"), &[]).await;
    assert_eq!(r.json(), patched);
    assert_eq!(emu.written("boards")[0], patched);

    // Updating a synthesized board changes it in place in the list.
    let b2 = synthesized[2]["id"].as_str().unwrap();
    let r = request(
        &emu,
        "PATCH",
        &format!("/boards/{b2}"),
        Some(&json!({"color": "red"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut want = synthesized[2].clone();
    want["color"] = json!("red");
    assert_eq!(r.json(), want);
    let listed = walk_list(&emu, "/boards", "boards", 4).await;
    assert_eq!(listed[2], want);
    assert_eq!(listed.len(), 9);

    // DELETE: 204 with no body; then the board is gone for get, list, update and delete.
    let r = request(&emu, "DELETE", &format!("/boards/{id}"), None, &[]).await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    assert_eq!(r.header("content-type"), None);
    let r = get(&emu, &format!("/boards/{id}"), &[]).await;
    assert_error(&r, 404, "not_found", None);
    let r = request(&emu, "DELETE", &format!("/boards/{id}"), None, &[]).await;
    assert_error(&r, 404, "not_found", None);
    let r = request(
        &emu,
        "PATCH",
        &format!("/boards/{id}"),
        Some(&json!({"name": "x"})),
        &[],
    )
    .await;
    assert_error(&r, 404, "not_found", None);
    // A synthesized board can be deleted too.
    let b0 = synthesized[0]["id"].as_str().unwrap();
    let r = request(&emu, "DELETE", &format!("/boards/{b0}"), None, &[]).await;
    assert_eq!(r.status, 204, "{}", r.body);
    let listed = walk_list(&emu, "/boards", "boards", 2).await;
    let listed_ids = ids(&listed);
    assert_eq!(listed.len(), 7);
    assert!(!listed_ids.contains(&id) && !listed_ids.iter().any(|x| x == b0));
    assert_eq!(listed.last().unwrap(), &second);
    assert_eq!(emu.written("boards"), vec![second.clone()]);
    assert_eq!(emu.current_records("boards").unwrap(), listed);
    // An unknown id is a 404 for every write that names one.
    let r = request(&emu, "PATCH", "/boards/nope", Some(&json!({})), &[]).await;
    assert_error(&r, 404, "not_found", None);

    // Clearing the writes brings the synthesized data set back.
    emu.clear_writes();
    assert_eq!(emu.current_records("boards").unwrap(), synthesized);
    assert!(emu.written("boards").is_empty());
    assert_eq!(get(&emu, &format!("/boards/{b0}"), &[]).await.status, 200);
}

#[tokio::test]
async fn cards_are_created_under_a_board_replaced_and_archived() {
    let emu = quillmark().await;
    let board = emu.record("boards", 1).unwrap();
    let bid = board["id"].as_str().unwrap();

    // Create under the parent path: 200, the whole body is the card; board_id from the path.
    let r = request(
        &emu,
        "POST",
        &format!("/boards/{bid}/cards"),
        Some(&json!({"title": "Write the tests", "points": 3, "due": "2024-06-01"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let card = r.json();
    assert_eq!(card["board_id"], json!(bid));
    assert_eq!(card["title"], json!("Write the tests"));
    assert_eq!(
        (card["points"].clone(), card["due"].clone()),
        (json!(3), json!("2024-06-01"))
    );
    let cid = card["id"].as_str().unwrap().to_string();
    let r = get(&emu, &format!("/cards/{cid}"), &[]).await;
    assert_eq!((r.status, r.json()), (200, card.clone()));

    // Listed once, after the synthesized cards (lists are not scoped by the path's board).
    let listed = walk_list(&emu, &format!("/boards/{bid}/cards"), "cards", 2).await;
    assert_eq!(listed.len(), 6);
    assert_eq!(listed.iter().filter(|c| c["id"] == json!(cid)).count(), 1);
    assert_eq!(listed[5], card);

    // PUT replaces the body's fields: those not sent are gone, the id and board stay.
    let r = request(
        &emu,
        "PUT",
        &format!("/cards/{cid}"),
        Some(&json!({"title": "Renamed"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let replaced = r.json();
    assert_eq!(replaced["title"], json!("Renamed"));
    assert!(
        replaced.get("points").is_none() && replaced.get("due").is_none(),
        "{replaced}"
    );
    assert_eq!(
        (replaced["id"].clone(), replaced["board_id"].clone()),
        (json!(cid), json!(bid))
    );
    assert_eq!(replaced["created_at"], card["created_at"]);
    assert_eq!(
        get(&emu, &format!("/cards/{cid}"), &[]).await.json(),
        replaced
    );
    // A PUT without its required title is refused, and changes nothing.
    let r = request(
        &emu,
        "PUT",
        &format!("/cards/{cid}"),
        Some(&json!({"points": 1})),
        &[],
    )
    .await;
    assert_error(&r, 400, "missing_parameter", Some("title"));
    assert_eq!(
        get(&emu, &format!("/cards/{cid}"), &[]).await.json(),
        replaced
    );
    // PUT on a synthesized card.
    let c1 = emu.record("cards", 1).unwrap();
    let c1_id = c1["id"].as_str().unwrap();
    let put = json!({"title": "T", "points": 5, "due": "2024-05-01"});
    let r = request(&emu, "PUT", &format!("/cards/{c1_id}"), Some(&put), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut want = c1.clone();
    for k in ["title", "points", "due"] {
        want[k] = put[k].clone();
    }
    assert_eq!(r.json(), want);

    // Delete through the POST override (the virtual key is no route): 200 with its own
    // answer, then the card is gone.
    let r = request(&emu, "POST", &format!("/cards/{cid}:archive"), None, &[]).await;
    assert_eq!((r.status, r.body.as_str()), (404, ""));
    let r = request(&emu, "POST", &format!("/cards/{cid}/archive"), None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"archived": true, "id": cid}));
    assert_error(
        &get(&emu, &format!("/cards/{cid}"), &[]).await,
        404,
        "not_found",
        None,
    );
    let r = request(&emu, "POST", &format!("/cards/{cid}/archive"), None, &[]).await;
    assert_error(&r, 404, "not_found", None);
    let listed = walk_list(&emu, &format!("/boards/{bid}/cards"), "cards", 10).await;
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[1], want);
    // Archiving a synthesized card answers with its id.
    let c4 = emu.record("cards", 4).unwrap();
    let r = request(
        &emu,
        "POST",
        &format!("/cards/{}/archive", c4["id"].as_str().unwrap()),
        None,
        &[],
    )
    .await;
    assert_eq!(r.json(), json!({"archived": true, "id": c4["id"]}));
    assert!(emu.written("cards").is_empty());
    assert_eq!(emu.current_records("cards").unwrap().len(), 4);
}

#[tokio::test]
async fn write_bodies_are_checked_like_a_real_api() {
    let emu = quillmark().await;
    // A create missing `name` (or sending null) is a 400 naming it.
    for body in [json!({}), json!({"color": "blue"}), json!({"name": null})] {
        let r = request(&emu, "POST", "/boards", Some(&body), &[]).await;
        assert_error(&r, 400, "missing_parameter", Some("name"));
        assert_eq!(r.json()["type"], json!("validation_error"));
    }
    let r = request(&emu, "POST", "/boards", None, &[]).await;
    assert_error(&r, 400, "missing_parameter", Some("name"));
    // Enum members, JSON types, nested members.
    let r = request(
        &emu,
        "POST",
        "/boards",
        Some(&json!({"name": "x", "color": "purple"})),
        &[],
    )
    .await;
    assert_error(&r, 400, "invalid_value", Some("color"));
    let r = request(
        &emu,
        "POST",
        "/boards",
        Some(&json!({"name": "x", "tags": "q3"})),
        &[],
    )
    .await;
    assert_error(&r, 400, "invalid_value", Some("tags"));
    let r = request(
        &emu,
        "POST",
        "/boards",
        Some(&json!({"name": "x", "settings": {"public": "yes"}})),
        &[],
    )
    .await;
    assert_error(&r, 400, "invalid_value", Some("settings.public"));
    let bid = emu.record("boards", 0).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = request(
        &emu,
        "POST",
        &format!("/boards/{bid}/cards"),
        Some(&json!({"title": "t", "points": "3"})),
        &[],
    )
    .await;
    assert_error(&r, 400, "invalid_value", Some("points"));
    // Not a JSON object, or not JSON.
    let r = request(&emu, "POST", "/boards", Some(&json!([1])), &[]).await;
    assert_error(&r, 400, "invalid_body", None);
    let url = format!("{}/boards", emu.base_url());
    let auth = vec![
        (
            "Authorization".to_string(),
            format!("Bearer {}", emu.api_key()),
        ),
        ("Content-Type".to_string(), "text/plain".to_string()),
    ];
    let r = request_url("POST", &url, auth, Some(b"name=x".to_vec())).await;
    assert_error(&r, 415, "unsupported_media_type", None);
    // No credentials: 401; a method the path does not serve: an empty 404.
    let r = request_url("POST", &url, Vec::new(), Some(br#"{"name": "x"}"#.to_vec())).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = request(&emu, "PUT", "/boards", Some(&json!({"name": "x"})), &[]).await;
    assert_eq!((r.status, r.body.as_str()), (404, ""));
    // Nothing refused was stored.
    assert!(emu.written("boards").is_empty());
    assert!(emu.written("cards").is_empty());

    // Members the body schema does not declare are ignored.
    let r = request(
        &emu,
        "POST",
        "/boards",
        Some(&json!({"name": "x", "color": "amber", "owner": "me", "id": "mine"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let b = r.json()["board"].clone();
    assert!(b.get("owner").is_none(), "{b}");
    assert_ne!(b["id"], json!("mine"));
    // A delete declaring no body ignores one.
    let r = request(
        &emu,
        "DELETE",
        &format!("/boards/{}", b["id"].as_str().unwrap()),
        Some(&json!([1])),
        &[],
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
}

#[tokio::test]
async fn writes_run_through_the_hosted_execute_route() {
    let emu = quillmark().await;
    let auth = airbyte_auth(&emu).await;

    // Create: the body is the params named as body properties plus the body defaults; the
    // result is the record itself (not the `$.board` wrapper).
    let r = execute(
        &emu,
        &auth,
        "boards",
        "create",
        json!({"name": "Hosted", "tags": ["a"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let board = r.json()["result"].clone();
    assert_eq!(r.json()["connector_metadata"], json!({}));
    assert_eq!(
        (board["name"].clone(), board["color"].clone()),
        (json!("Hosted"), json!("blue"))
    );
    assert_eq!(board["tags"], json!(["a"]));
    let id = board["id"].as_str().unwrap().to_string();
    // Both transports share the store.
    assert_eq!(get(&emu, &format!("/boards/{id}"), &[]).await.json(), board);
    let r = execute(&emu, &auth, "boards", "get", json!({"board_id": id})).await;
    assert_eq!(r.json()["result"], board);
    let logged = emu.requests().pop().unwrap();
    assert_eq!(logged.method, "POST");
    assert_eq!(logged.body_json().unwrap()["action"], json!("get"));

    // Update by the path parameter's name, or by `id`.
    let r = execute(
        &emu,
        &auth,
        "boards",
        "update",
        json!({"board_id": id, "name": "Hosted 2"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["result"]["name"], json!("Hosted 2"));
    let r = execute(
        &emu,
        &auth,
        "boards",
        "update",
        json!({"id": id, "color": "green"}),
    )
    .await;
    let updated = r.json()["result"].clone();
    assert_eq!(
        (updated["name"].clone(), updated["color"].clone()),
        (json!("Hosted 2"), json!("green"))
    );
    assert_eq!(
        get(&emu, &format!("/boards/{id}"), &[]).await.json(),
        updated
    );

    // A card under the board, then archived: the delete's own answer is the result.
    let r = execute(
        &emu,
        &auth,
        "cards",
        "create",
        json!({"board_id": id, "title": "c", "points": 2}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let card = r.json()["result"].clone();
    assert_eq!(
        (card["board_id"].clone(), card["points"].clone()),
        (json!(id), json!(2))
    );
    let cid = card["id"].as_str().unwrap().to_string();
    let r = execute(
        &emu,
        &auth,
        "cards",
        "update",
        json!({"card_id": cid, "title": "d"}),
    )
    .await;
    assert_eq!(r.json()["result"]["title"], json!("d"));
    assert!(
        r.json()["result"].get("points").is_none(),
        "a PUT: {}",
        r.body
    );
    let r = execute(&emu, &auth, "cards", "delete", json!({"card_id": cid})).await;
    assert_eq!(r.json()["result"], json!({"archived": true, "id": cid}));
    assert_eq!(get(&emu, &format!("/cards/{cid}"), &[]).await.status, 404);

    // A 204 delete answers `{}`.
    let r = execute(&emu, &auth, "boards", "delete", json!({"board_id": id})).await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"result": {}, "connector_metadata": {}}))
    );
    assert_eq!(get(&emu, &format!("/boards/{id}"), &[]).await.status, 404);

    // Errors in Airbyte's envelope: a missing required body property or path parameter
    // (400), an unknown record (404), an action the entity lacks.
    let r = execute(&emu, &auth, "boards", "create", json!({"color": "red"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.json()["message"].as_str().unwrap().contains("name"),
        "{}",
        r.body
    );
    let r = execute(&emu, &auth, "boards", "update", json!({"name": "x"})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(
        r.json()["message"].as_str().unwrap().contains("board_id"),
        "{}",
        r.body
    );
    let r = execute(&emu, &auth, "boards", "delete", json!({"board_id": id})).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = execute(&emu, &auth, "boards", "archive", json!({})).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("create, update, delete"),
        "{}",
        r.body
    );
    assert!(emu.written("boards").is_empty());
}

#[tokio::test]
async fn faults_apply_to_writes() {
    let emu = quillmark().await;
    let board = json!({"name": "Faulted", "color": "blue"});

    // A queued 503 is served to the write, which then did not happen.
    emu.faults().push(Fault::status(503));
    let r = request(&emu, "POST", "/boards", Some(&board), &[]).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["type"], json!("api_error"));
    assert!(emu.written("boards").is_empty());
    assert_eq!(emu.faults().pending(), 0);
    let logged = emu.requests().pop().unwrap();
    assert_eq!(
        (logged.method.as_str(), logged.body_json()),
        ("POST", Some(board.clone()))
    );
    // The retry goes through.
    let r = request(&emu, "POST", "/boards", Some(&board), &[]).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["board"]["id"].as_str().unwrap().to_string();

    // A reset connection on an update: no answer, no change.
    emu.faults().push(Fault::ResetConnection);
    let patch = json!({"name": "Changed"});
    let r = try_request(&emu, "PATCH", &format!("/boards/{id}"), Some(&patch)).await;
    assert!(r.is_err(), "no response: {:?}", r.map(|r| r.status));
    assert_eq!(emu.written("boards")[0]["name"], json!("Faulted"));
    assert_eq!(emu.requests().pop().unwrap().method, "PATCH");

    // One-shot faults are consumed in order whatever the method.
    emu.faults().push(Fault::rate_limited(1));
    emu.faults().push(Fault::EmptyBody { status: 502 });
    let r = request(&emu, "DELETE", &format!("/boards/{id}"), None, &[]).await;
    assert_eq!((r.status, r.header("retry-after")), (429, Some("1")));
    let r = get(&emu, &format!("/boards/{id}"), &[]).await;
    assert_eq!((r.status, r.body.as_str()), (502, ""));
    let r = request(&emu, "DELETE", &format!("/boards/{id}"), None, &[]).await;
    assert_eq!(r.status, 204);

    // The hosted route is faulted the same way.
    let auth = airbyte_auth(&emu).await;
    emu.faults().push(Fault::status(500));
    let r = execute(&emu, &auth, "boards", "create", json!({"name": "h"})).await;
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(emu.written("boards").is_empty());
}

/// A small spec: integer ids, an unpaginated list, a create answering 201 under `$.item`
/// with a `@header` meta, an update on POST naming its record in the body, and a delete on
/// POST naming it in the body with a 200 `{deleted}` answer.
fn items_spec() -> Value {
    let item = json!({"type": "object", "properties": {
        "id": {"type": "integer"},
        "label": {"type": "string"},
        "qty": {"type": "integer"}
    }});
    let ok = |status: &str, schema: Value| json!({status: {"description": "ok", "content": {"application/json": {"schema": schema}}}});
    let body = |schema: Value| json!({"content": {"application/json": {"schema": schema}}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Items", "version": "1", "x-airbyte-connector-name": "items"},
        "servers": [{"url": "https://items.example.com/api"}],
        "paths": {
            "/items": {
                "get": {
                    "x-airbyte-entity": "items", "x-airbyte-action": "list",
                    "responses": ok("200", json!({"type": "array", "items": {"$ref": "#/components/schemas/Item"}}))
                },
                "post": {
                    "x-airbyte-entity": "items", "x-airbyte-action": "create",
                    "x-airbyte-record-extractor": "$.item",
                    "x-airbyte-meta-extractor": {"created_id": "@header.X-Created-Id"},
                    "requestBody": body(json!({"type": "object", "required": ["label"], "properties": {
                        "label": {"type": "string"}, "qty": {"type": "integer", "default": 1}
                    }})),
                    "responses": ok("201", json!({"type": "object", "properties": {"item": {"$ref": "#/components/schemas/Item"}}}))
                }
            },
            "/items/{item_id}": {"get": {
                "x-airbyte-entity": "items", "x-airbyte-action": "get",
                "parameters": [{"name": "item_id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": ok("200", json!({"$ref": "#/components/schemas/Item"}))
            }},
            "/items.update": {"post": {
                "x-airbyte-entity": "items", "x-airbyte-action": "update",
                "requestBody": body(json!({"type": "object", "required": ["id"], "properties": {
                    "id": {"type": "integer"}, "qty": {"type": "integer"}
                }})),
                "responses": ok("200", json!({"$ref": "#/components/schemas/Item"}))
            }},
            "/items.delete": {"post": {
                "x-airbyte-entity": "items", "x-airbyte-action": "delete",
                "requestBody": body(json!({"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}})),
                "responses": ok("200", json!({"type": "object", "properties": {"deleted": {"type": "boolean"}, "id": {"type": "integer"}}}))
            }}
        },
        "components": {"schemas": {"Item": item}}
    })
}

#[tokio::test]
async fn integer_ids_body_ids_and_id_headers() {
    let emu = Emulator::builder(&items_spec().to_string())
        .count("items", 3)
        .start()
        .await
        .unwrap();
    let r = request(
        &emu,
        "POST",
        "/items",
        Some(&json!({"label": "new", "qty": 9})),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let item = r.json()["item"].clone();
    // The next integer id, also in the meta header.
    assert_eq!(
        (
            item["id"].clone(),
            item["label"].clone(),
            item["qty"].clone()
        ),
        (json!(4), json!("new"), json!(9))
    );
    assert_eq!(r.header("x-created-id"), Some("4"));
    // Under the server prefix too.
    let r = request(
        &emu,
        "POST",
        "/api/items",
        Some(&json!({"label": "b", "qty": 1})),
        &[],
    )
    .await;
    assert_eq!(r.json()["item"]["id"], json!(5));
    assert_eq!(get(&emu, "/items/4", &[]).await.json(), item);
    let all = records_at(&get(&emu, "/items", &[]).await.json(), "");
    assert_eq!(
        all.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5].map(|i| json!(i))
    );

    // POST update and delete name the record in the body.
    let r = request(
        &emu,
        "POST",
        "/items.update",
        Some(&json!({"id": 2, "qty": 77})),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (r.json()["id"].clone(), r.json()["qty"].clone()),
        (json!(2), json!(77))
    );
    let r = request(&emu, "POST", "/items.update", Some(&json!({"qty": 1})), &[]).await;
    assert_error(&r, 400, "missing_parameter", Some("id"));
    let r = request(&emu, "POST", "/items.delete", Some(&json!({"id": 4})), &[]).await;
    assert_eq!(
        (r.status, r.json()),
        (200, json!({"deleted": true, "id": 4}))
    );
    assert_eq!(get(&emu, "/items/4", &[]).await.status, 404);
    let r = request(&emu, "POST", "/items.delete", Some(&json!({"id": 4})), &[]).await;
    assert_eq!(r.status, 404);
    let all = records_at(&get(&emu, "/items", &[]).await.json(), "");
    assert_eq!(
        all.iter().map(|r| r["id"].clone()).collect::<Vec<_>>(),
        [1, 2, 3, 5].map(|i| json!(i))
    );
    assert_eq!(all[1]["qty"], json!(77));
    // A new create never reuses a deleted id.
    let r = request(
        &emu,
        "POST",
        "/items",
        Some(&json!({"label": "c", "qty": 1})),
        &[],
    )
    .await;
    assert_eq!(r.json()["item"]["id"], json!(6));
}

#[tokio::test]
async fn family_writes_fixture_serves_its_deal_writes() {
    let emu = Emulator::builder(&spec("writes.yaml"))
        .count("deals", 4)
        .start()
        .await
        .unwrap();
    // Entities with only writes (contacts, notes, ...) are not listed as served entities.
    assert_eq!(emu.entities(), ["deals"]);
    let deal = emu.record("deals", 2).unwrap();
    let id = deal["id"].as_str().unwrap();
    let body = json!({"name": "Big one", "stage": "won", "amount": 1200.5, "currency": "EUR"});
    let r = request(&emu, "PUT", &format!("/v1/deals/{id}"), Some(&body), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let got = r.json()["deal"].clone();
    for k in ["name", "stage", "amount", "currency"] {
        assert_eq!(got[k], body[k], "{k}");
    }
    // The POST get (id in the body) reads it back.
    let r = request(
        &emu,
        "POST",
        "/v1/deals.info",
        Some(&json!({"deal_id": id, "include_line_items": false})),
        &[],
    )
    .await;
    assert_eq!((r.status, r.json()["deal"].clone()), (200, got));
    let r = request(
        &emu,
        "PUT",
        &format!("/v1/deals/{id}"),
        Some(&json!({"name": "x"})),
        &[],
    )
    .await;
    assert_error(&r, 400, "missing_parameter", Some("stage"));
    let r = request(&emu, "DELETE", &format!("/v1/deals/{id}"), None, &[]).await;
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let r = request(
        &emu,
        "POST",
        "/v1/deals.info",
        Some(&json!({"deal_id": id})),
        &[],
    )
    .await;
    assert_eq!(r.status, 404);
    let r = request(
        &emu,
        "POST",
        "/v1/deals/search",
        Some(&json!({"limit": 100})),
        &[],
    )
    .await;
    assert_eq!(records_at(&r.json(), "/results").len(), 3);
    // Write-only entities' writes are served all the same (see `bodies.rs`), and they
    // stay unlisted.
    let r = request(
        &emu,
        "POST",
        "/v1/contacts",
        Some(&json!({"email": "a@b.c"})),
        &[],
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["contact"]["email"], json!("a@b.c"));
    assert_eq!(emu.entities(), ["deals"]);
}

#[tokio::test]
async fn every_spec_the_emulator_serves_still_loads() {
    let mut specs: Vec<(String, String)> = vec![
        (
            "incident-io".into(),
            incident_io_connector::SPEC_JSON.to_string(),
        ),
        (
            "conformance reads.yaml".into(),
            conformance_spec("reads.yaml"),
        ),
        (
            "conformance writes.yaml".into(),
            conformance_spec("writes.yaml"),
        ),
    ];
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../codegen/tests/specs/family");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(files.len() > 20, "{files:?}");
    for f in files {
        specs.push((f.clone(), spec(&f)));
    }
    for (name, json) in specs {
        match Emulator::start(&json).await {
            Ok(emu) => {
                assert!(!emu.entities().is_empty(), "{name}");
                emu.shutdown().await;
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
}
