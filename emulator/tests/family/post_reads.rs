//! POST reads (§5.1, §5.3, §5.4): list, get and search operations answered from a JSON
//! request body whose top-level members act as the operation's parameters, on
//! `all-reads.yaml` (`/users.list`, `/users.info`, `/users.search`, `/reports:run:weekly`
//! and `:monthly`) and a small inline spec for page numbers, clamping, enums and filters.

use connector_sdk_emulator::Emulator;
use serde_json::{json, Value};

use crate::common::{assert_all_once, get, post, post_raw, records_at, spec, Resp};

async fn meridian() -> Emulator {
    Emulator::builder(&spec("all-reads.yaml"))
        .count("users", 23)
        .count("weekly_report", 7)
        .count("monthly_report", 5)
        .default_count(4)
        .start()
        .await
        .unwrap()
}

/// A 400 (or other `status`) naming `field`, in the query parameters' error body.
fn assert_error(r: &Resp, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(r.status, status, "{}", r.body);
    let b = r.json();
    assert_eq!(b["type"], json!("validation_error"), "{b}");
    assert_eq!(b["status"], json!(status), "{b}");
    assert_eq!(b["errors"][0]["code"], json!(code), "{b}");
    match field {
        Some(f) => {
            assert_eq!(b["errors"][0]["source"]["field"], json!(f), "{b}");
            let msg = b["errors"][0]["message"].as_str().unwrap();
            assert!(msg.contains(f), "the message names {f}: {b}");
        }
        None => assert!(b["errors"][0].get("source").is_none(), "{b}"),
    }
}

#[tokio::test]
async fn post_list_walks_every_page_with_the_cursor_in_the_body() {
    let emu = meridian().await;
    assert!(emu.entities().iter().any(|e| e == "users"));
    let mut records: Vec<Value> = Vec::new();
    let mut pages: Vec<Value> = Vec::new();
    let mut body = json!({"limit": 5});
    loop {
        let r = post(&emu, "/users.list", &body.to_string(), &[]).await;
        assert_eq!(r.status, 200, "{body}: {}", r.body);
        let page = r.json();
        assert_eq!(page["ok"], json!(true));
        records.extend(records_at(&page, "/members"));
        let next = page
            .pointer("/response_metadata/next_cursor")
            .and_then(Value::as_str)
            .map(str::to_string);
        pages.push(page);
        assert!(pages.len() < 20, "too many pages");
        match next {
            // The client echoes next_cursor into the body's `cursor`.
            Some(c) => body = json!({"limit": 5, "cursor": c}),
            None => break,
        }
    }
    assert_eq!(pages.len(), 5);
    assert_eq!(records.len(), 23);
    assert_all_once(&emu, "users", &records);
    // The cursor is the id of the page's last record; absent on the last page.
    assert_eq!(
        pages[0]["response_metadata"]["next_cursor"],
        pages[0]["members"][4]["id"]
    );
    assert!(pages[4]["response_metadata"].get("next_cursor").is_none());
    // The request went out as a POST with the JSON body, as recorded.
    let last = emu.requests().pop().unwrap();
    assert_eq!(last.method, "POST");

    // The body's default (limit 200) is what a client sends; an empty body or none at all
    // is `{}` (no required property): the page-size default, every record on one page.
    for raw in [r#"{"limit": 200}"#, "{}", ""] {
        let r = post(&emu, "/users.list", raw, &[]).await;
        assert_eq!(r.status, 200, "{raw:?}: {}", r.body);
        assert_all_once(&emu, "users", &records_at(&r.json(), "/members"));
    }
    let r = post_raw(&emu, "/users.list", b"", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A cursor that no page returned is the pagination's 422, naming the body property.
    let r = post(&emu, "/users.list", r#"{"cursor": "nope"}"#, &[]).await;
    assert_error(&r, 422, "invalid_value", Some("cursor"));
    // GET on the POST-only path is an empty 404.
    let r = get(&emu, "/users.list", &[]).await;
    assert_eq!((r.status, r.body.as_str()), (404, ""));
}

#[tokio::test]
async fn post_get_finds_the_record_by_the_id_in_the_body() {
    let emu = meridian().await;
    for i in [0, 9, 22] {
        let rec = emu.record("users", i).unwrap();
        let body = json!({"user": rec["id"]}).to_string();
        let r = post(&emu, "/users.info", &body, &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json(), json!({"user": rec, "ok": true}));
    }
    // Under the server's path prefix too.
    let rec = emu.record("users", 3).unwrap();
    let body = json!({"user": rec["id"]}).to_string();
    let r = post(&emu, "/api/v4/users.info", &body, &[]).await;
    assert_eq!((r.status, r.json()["user"].clone()), (200, rec));
    // An unknown id is a 404; a missing or null one a 400 naming the body property.
    let r = post(&emu, "/users.info", r#"{"user": "U404"}"#, &[]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    for body in ["{}", r#"{"user": null}"#, "", r#"{"other": 1}"#] {
        let r = post(&emu, "/users.info", body, &[]).await;
        assert_error(&r, 400, "missing_parameter", Some("user"));
    }
}

#[tokio::test]
async fn post_search_answers_like_a_list() {
    let emu = meridian().await;
    let body = json!({"query": "ada", "include_deleted": false}).to_string();
    let r = post(&emu, "/users.search", &body, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // No page-size property: pages of 25, so 23 users fit on one; no next cursor.
    assert_all_once(&emu, "users", &records_at(&r.json(), "/members"));
    assert!(r.json()["response_metadata"].get("next_cursor").is_none());
    // The required `query` is missing; a boolean property gets a string.
    let r = post(&emu, "/users.search", r#"{"include_deleted": false}"#, &[]).await;
    assert_error(&r, 400, "missing_parameter", Some("query"));
    let r = post(
        &emu,
        "/users.search",
        r#"{"query": "x", "include_deleted": "yes"}"#,
        &[],
    )
    .await;
    assert_error(&r, 400, "invalid_value", Some("include_deleted"));
}

#[tokio::test]
async fn operations_sharing_a_path_are_told_apart_by_body_defaults() {
    let emu = meridian().await;
    let rows = |r: &Resp| records_at(&r.json(), "/rows");
    // What a client sends for each operation: every body default.
    let weekly = json!({"period": "weekly", "granularity": "day", "ending": "2024-06-30"});
    let r = post(&emu, "/reports:run", &weekly.to_string(), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_all_once(&emu, "weekly_report", &rows(&r));
    let monthly = json!({"period": "monthly", "granularity": "week"});
    let r = post(&emu, "/reports:run", &monthly.to_string(), &[]).await;
    assert_all_once(&emu, "monthly_report", &rows(&r));
    // One agreeing default is enough when nothing contradicts it.
    let r = post(&emu, "/reports:run", r#"{"granularity": "week"}"#, &[]).await;
    assert_all_once(&emu, "monthly_report", &rows(&r));
    // Nothing agrees (or nothing sent): the first operation in spec order.
    for body in ["{}", r#"{"period": "daily"}"#] {
        let r = post(&emu, "/reports:run", body, &[]).await;
        assert_all_once(&emu, "weekly_report", &rows(&r));
    }
    // The virtual keys are not routes; GET on the real path is a 404.
    let r = post(&emu, "/reports:run:weekly", &weekly.to_string(), &[]).await;
    assert_eq!(r.status, 404);
    assert_eq!(get(&emu, "/reports:run", &[]).await.status, 404);
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_are_rejected() {
    let emu = meridian().await;
    for (raw, what) in [
        ("[1, 2]", "an array"),
        ("\"user\"", "a string"),
        ("42", "a number"),
        ("null", "null"),
    ] {
        let r = post(&emu, "/users.list", raw, &[]).await;
        assert_error(&r, 400, "invalid_body", None);
        let msg = r.at("/errors/0/message");
        assert!(
            msg.as_str().unwrap().contains("must be a JSON object")
                && msg.as_str().unwrap().contains(what),
            "{raw}: {msg}"
        );
    }
    let r = post(&emu, "/users.list", r#"{"limit": 5"#, &[]).await;
    assert_error(&r, 400, "invalid_body", None);
    assert!(r.body.contains("not valid JSON"), "{}", r.body);
    // A form body is not a JSON body.
    let r = post_raw(
        &emu,
        "/users.list",
        b"limit=5",
        &[("Content-Type", "application/x-www-form-urlencoded")],
    )
    .await;
    assert_error(&r, 415, "unsupported_media_type", None);
}

/// A POST list paged by page number in the body, with a bounded page size, an enum, an
/// array of enums, an object member, a record-property filter, and a POST get whose body
/// names the record as `order_id`.
fn orders_spec() -> Value {
    let order = json!({
        "type": "object",
        "required": ["id", "status"],
        "properties": {
            "id": {"type": "string"},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "total": {"type": "number"}
        }
    });
    let list_body = json!({
        "type": "object",
        "required": ["region"],
        "properties": {
            "region": {"type": "string", "enum": ["eu", "us"]},
            "page": {"type": "integer", "minimum": 1},
            "page_size": {"type": "integer", "maximum": 10, "default": 5},
            "status": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
            "options": {"type": "object", "properties": {"verbose": {"type": "boolean"}}}
        }
    });
    let json_body = |schema: Value| json!({"content": {"application/json": {"schema": schema}}});
    let ok = |schema: Value| json!({"200": {"description": "ok", "content": {"application/json": {"schema": schema}}}});
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Orders", "version": "1", "x-airbyte-connector-name": "orders",
                 "x-airbyte-connector-definition-id": "00000000-0000-4000-8000-000000000003"},
        "servers": [{"url": "https://orders.example.com/v1"}],
        "paths": {
            "/orders.list": {"post": {
                "x-airbyte-entity": "orders",
                "x-airbyte-action": "list",
                "x-airbyte-record-extractor": "$.orders",
                "x-airbyte-meta-extractor": {"next_page": "$.paging.next_page"},
                "requestBody": json_body(list_body),
                "responses": ok(json!({"type": "object", "properties": {
                    "orders": {"type": "array", "items": {"$ref": "#/components/schemas/Order"}},
                    "paging": {"type": "object", "properties": {"next_page": {"type": ["integer", "null"]}}}
                }}))
            }},
            "/orders.info": {"post": {
                "x-airbyte-entity": "orders",
                "x-airbyte-action": "get",
                "x-airbyte-record-extractor": "$.order",
                "requestBody": json_body(json!({"type": "object", "required": ["order_id"],
                    "properties": {"order_id": {"type": "string"}, "expand": {"type": "boolean", "default": false}}})),
                "responses": ok(json!({"type": "object", "properties": {
                    "order": {"$ref": "#/components/schemas/Order"}
                }}))
            }},
            "/orders.create": {"post": {
                "x-airbyte-entity": "orders",
                "x-airbyte-action": "create",
                "requestBody": json_body(json!({"type": "object", "properties": {"total": {"type": "number"}}})),
                "responses": ok(json!({"$ref": "#/components/schemas/Order"}))
            }}
        },
        "components": {"schemas": {"Order": order}}
    })
}

#[tokio::test]
async fn post_list_pages_by_number_with_checks_and_filters() {
    let emu = Emulator::builder(&orders_spec().to_string())
        .count("orders", 23)
        .start()
        .await
        .unwrap();
    // Page numbers in the body; a page size above the maximum (10) is clamped.
    let mut records = Vec::new();
    let mut page = 1;
    loop {
        let body = json!({"region": "eu", "page_size": 50, "page": page});
        let r = post(&emu, "/orders.list", &body.to_string(), &[]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let got = records_at(&r.json(), "/orders");
        assert!(got.len() <= 10);
        records.extend(got);
        match r.at("/paging/next_page").as_i64() {
            Some(n) => page = n,
            None => break,
        }
    }
    assert_eq!(page, 3);
    assert_all_once(&emu, "orders", &records);
    // The body's page-size default (5) without a page size.
    let r = post(&emu, "/v1/orders.list", r#"{"region": "us"}"#, &[]).await;
    assert_eq!(records_at(&r.json(), "/orders").len(), 5);
    assert_eq!(r.at("/paging/next_page"), json!(2));

    // Required, enum, array-item enum and object-member checks, naming the property.
    let list = |body: Value| {
        let emu = &emu;
        async move { post(emu, "/orders.list", &body.to_string(), &[]).await }
    };
    assert_error(
        &list(json!({})).await,
        400,
        "missing_parameter",
        Some("region"),
    );
    assert_error(
        &list(json!({"region": "asia"})).await,
        400,
        "invalid_value",
        Some("region"),
    );
    assert_error(
        &list(json!({"region": "eu", "tags": ["a", "c"]})).await,
        400,
        "invalid_value",
        Some("tags"),
    );
    assert_error(
        &list(json!({"region": "eu", "tags": "a"})).await,
        400,
        "invalid_value",
        Some("tags"),
    );
    assert_error(
        &list(json!({"region": "eu", "options": {"verbose": "yes"}})).await,
        400,
        "invalid_value",
        Some("options.verbose"),
    );
    let r = list(json!({"region": "eu", "tags": ["a", "b"], "options": {"verbose": true}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A page size that is no integer is the pagination's 422.
    assert_error(
        &list(json!({"region": "eu", "page_size": "ten"})).await,
        422,
        "invalid_value",
        Some("page_size"),
    );

    // A body property naming a record property filters by equality.
    let open: Vec<Value> = (0..23)
        .map(|i| emu.record("orders", i).unwrap())
        .filter(|r| r["status"] == json!("open"))
        .collect();
    assert!(!open.is_empty() && open.len() < 23);
    let r = list(json!({"region": "eu", "status": "open", "page_size": 10})).await;
    let first = records_at(&r.json(), "/orders");
    assert_eq!(first[..], open[..open.len().min(10)]);

    // The get finds the record by `order_id` in the body.
    let rec = emu.record("orders", 17).unwrap();
    let body = json!({"order_id": rec["id"], "expand": false}).to_string();
    let r = post(&emu, "/orders.info", &body, &[]).await;
    assert_eq!((r.status, r.json()["order"].clone()), (200, rec));
    // A create on POST beside the POST reads is a write (see `writes.rs`): the new order
    // is served after the synthesized ones, with the total sent.
    let r = post(&emu, "/orders.create", r#"{"total": 1}"#, &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["total"], json!(1));
    assert_eq!(emu.written("orders"), vec![r.json()]);
    let body = json!({"order_id": r.json()["id"]}).to_string();
    let got = post(&emu, "/orders.info", &body, &[]).await;
    assert_eq!(got.json()["order"], r.json());
}
