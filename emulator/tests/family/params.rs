//! Parameters on the wire (`params.yaml`): verbatim names, header params, array styles,
//! deepObject, enums and types, required parameters.

use connector_sdk_emulator::Emulator;
use serde_json::json;

use crate::common::{get, qs, records_at, spec, Resp};

const TASKS: &str = "/v2/spaces/s1/tasks";

async fn forge() -> Emulator {
    Emulator::builder(&spec("params.yaml"))
        .count("tasks", 150)
        .start()
        .await
        .unwrap()
}

async fn tasks(emu: &Emulator, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Resp {
    get(emu, &format!("{TASKS}?{}", qs(pairs)), headers).await
}

fn assert_400(r: &Resp, field: &str) {
    assert_eq!(r.status, 400, "{}", r.body);
    let b = r.json();
    assert_eq!(b["type"], json!("validation_error"));
    assert_eq!(b["status"], json!(400));
    assert_eq!(b["errors"][0]["source"]["field"], json!(field), "{b}");
    assert!(
        b["errors"][0]["message"].as_str().unwrap().contains(field),
        "the message names {field}: {b}"
    );
}

const PROFILE: (&str, &str) = ("X-Tally-Profile", "ops");
const SORT: (&str, &str) = ("sort", "-updated_at");

#[tokio::test]
async fn header_params() {
    let emu = forge().await;
    // The required header without a default is missing: 400 naming it.
    let r = tasks(&emu, &[SORT], &[]).await;
    assert_400(&r, "X-Tally-Profile");
    assert_eq!(r.at("/errors/0/code"), json!("missing_parameter"));
    // The defaulted one may be absent; both are recorded as received.
    let r = tasks(&emu, &[SORT], &[PROFILE]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = tasks(&emu, &[SORT], &[PROFILE, ("X-Tally-Version", "2024-10")]).await;
    assert_eq!(r.status, 200);
    let last = emu.requests().pop().unwrap();
    assert_eq!(last.header("x-tally-version"), Some("2024-10"));
    assert_eq!(last.header("X-Tally-Profile"), Some("ops"));
    // Header params of another operation: the comments list needs its operation header
    // only when it has no default (it has one), and its required `limit` query param.
    let r = get(&emu, "/v2/tasks/3/comments?limit=20", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A missing required page size is the pagination's 422, as incident.io answers.
    let r = get(&emu, "/v2/tasks/3/comments", &[]).await;
    assert_eq!(
        (r.status, r.at("/errors/0/source/field")),
        (422, json!("limit"))
    );
}

#[tokio::test]
async fn required_query_params_and_enums() {
    let emu = forge().await;
    assert_400(&tasks(&emu, &[], &[PROFILE]).await, "sort");
    assert_400(&tasks(&emu, &[("sort", "")], &[PROFILE]).await, "sort");
    assert_400(&tasks(&emu, &[("sort", "name")], &[PROFILE]).await, "sort");
    assert_400(
        &tasks(&emu, &[SORT, ("type", "epic")], &[PROFILE]).await,
        "type",
    );
    assert_400(
        &tasks(&emu, &[SORT, ("match", "some")], &[PROFILE]).await,
        "match",
    );
    assert_400(
        &tasks(&emu, &[SORT, ("include_archived", "yes")], &[PROFILE]).await,
        "include_archived",
    );
    for ok in [
        vec![SORT, ("match", "any")],
        vec![SORT, ("include_archived", "true")],
        vec![SORT, ("due.before", "2024-09-01"), ("ref", "main")],
        vec![SORT, ("unknown_param", "whatever")],
    ] {
        let r = tasks(&emu, &ok, &[PROFILE]).await;
        assert_eq!(r.status, 200, "{ok:?}: {}", r.body);
    }
    let log = emu.requests().pop().unwrap();
    assert_eq!(log.query_param("unknown_param"), Some("whatever"));
}

#[tokio::test]
async fn arrays_by_style_and_explode() {
    let emu = forge().await;
    // No style (form, explode true): repeated, the name kept verbatim.
    let r = tasks(&emu, &[SORT, ("tags[]", "a"), ("tags[]", "b")], &[PROFILE]).await;
    assert_eq!(r.status, 200);
    let last = emu.requests().pop().unwrap();
    let tags: Vec<&str> = last
        .query_pairs
        .iter()
        .filter(|(k, _)| k == "tags[]")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(tags, ["a", "b"]);
    // form + explode true with items.enum: each repetition is checked.
    let r = tasks(
        &emu,
        &[SORT, ("statuses", "open"), ("statuses", "done")],
        &[PROFILE],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_400(
        &tasks(
            &emu,
            &[SORT, ("statuses", "open"), ("statuses", "bogus")],
            &[PROFILE],
        )
        .await,
        "statuses",
    );
    // Comma-joined under explode true is one item, not in the enum.
    assert_400(
        &tasks(&emu, &[SORT, ("statuses", "open,done")], &[PROFILE]).await,
        "statuses",
    );
    // form + explode false: comma-separated items, each an integer.
    let r = tasks(&emu, &[SORT, ("assignee_ids", "11,12")], &[PROFILE]).await;
    assert_eq!(r.status, 200);
    assert_400(
        &tasks(&emu, &[SORT, ("assignee_ids", "11,x")], &[PROFILE]).await,
        "assignee_ids",
    );
    // An array of enums with no style on another list.
    let members = "/v2/members?workspace_id=w1";
    assert_eq!(
        get(&emu, &format!("{members}&roles=owner&roles=guest"), &[])
            .await
            .status,
        200
    );
    assert_400(
        &get(&emu, &format!("{members}&roles=king"), &[]).await,
        "roles",
    );
    assert_400(
        &get(&emu, "/v2/members?roles=owner", &[]).await,
        "workspace_id",
    );
}

#[tokio::test]
async fn deep_object() {
    let emu = forge().await;
    let r = tasks(
        &emu,
        &[
            SORT,
            ("filter[priority_gte]", "2"),
            ("filter[label]", "ops"),
        ],
        &[PROFILE],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_400(
        &tasks(&emu, &[SORT, ("filter[priority_gte]", "high")], &[PROFILE]).await,
        "filter[priority_gte]",
    );
}

#[tokio::test]
async fn bracketed_page_size_and_integer_ids() {
    let emu = forge().await;
    // `page[size]` (maximum 100) with the `after` cursor.
    let r = tasks(&emu, &[SORT, ("page[size]", "500")], &[PROFILE]).await;
    let body = r.json();
    assert_eq!(records_at(&body, "/tasks").len(), 100);
    let cursor = body["meta"]["next_cursor"].as_str().unwrap().to_string();
    let r = tasks(
        &emu,
        &[SORT, ("page[size]", "100"), ("after", &cursor)],
        &[PROFILE],
    )
    .await;
    assert_eq!(records_at(&r.json(), "/tasks").len(), 50);
    assert!(r.json()["meta"].get("next_cursor").is_none());
    // Integer ids: the ordinal; the get takes it as an int64 path param.
    assert_eq!(body["tasks"][0]["id"], json!(1));
    let r = get(&emu, "/v2/spaces/s1/tasks/42", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["task"], emu.record("tasks", 41).unwrap());
    for missing in ["0", "151", "x"] {
        assert_eq!(
            get(&emu, &format!("/v2/spaces/s1/tasks/{missing}"), &[])
                .await
                .status,
            404
        );
    }
}
