//! GraphQL (§5.5) on the family's `graphql.yaml` (Veltrack): several operations sharing
//! `POST /graphql`, told apart by their query text; parameters from `variables` (and the
//! URL's query); Relay pageInfo pagination; a get by id, an unknown id, the `viewer`
//! singleton, a mutation read back; GraphQL-shaped errors; faults; hosted `/execute`.

use std::collections::HashSet;

use connector_sdk_emulator::{Emulator, Fault};
use serde_json::{json, Value};

use crate::common::{airbyte_auth, assert_all_once, execute, qs, request, spec, spec_value, Resp};

async fn veltrack() -> Emulator {
    Emulator::builder(&spec("graphql.yaml"))
        .count("issues", 23)
        .start()
        .await
        .unwrap()
}

/// The query template of the operation at this path key.
fn template(key: &str) -> String {
    let spec = spec_value("graphql.yaml");
    spec["paths"][key]["post"]["requestBody"]["x-airbyte-body-type"]["query"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The query a client sends: the template with `{{ fields }}` replaced.
fn query(key: &str, fields: &str) -> String {
    template(key).replace("{{ fields }}", fields)
}

const LIST_FIELDS: &str = "id identifier title priority state { name } assignee { name } updatedAt";

/// `POST /graphql` (with `url_query` in the URL, as the runtime sends the query params).
async fn gql(emu: &Emulator, url_query: &str, body: Value) -> Resp {
    let path = if url_query.is_empty() {
        "/graphql".to_string()
    } else {
        format!("/graphql?{url_query}")
    };
    request(
        emu,
        "POST",
        &path,
        Some(&body),
        &[("GraphQL-Features", "sub_issues")],
    )
    .await
}

/// Walks the issues list to the end with pages of `first`; returns the records and pages.
async fn walk_issues(
    emu: &Emulator,
    first: usize,
    send_url_query: bool,
) -> (Vec<Value>, Vec<Value>) {
    let q = query("/graphql:issues:list", LIST_FIELDS);
    let mut after: Option<String> = None;
    let mut records = Vec::new();
    let mut pages = Vec::new();
    for _ in 0..50 {
        let first_s = first.to_string();
        let mut url = vec![("team_key", "ENG"), ("first", first_s.as_str())];
        if let Some(a) = &after {
            url.push(("after", a.as_str()));
        }
        let url = if send_url_query {
            qs(&url)
        } else {
            String::new()
        };
        let body = json!({
            "query": q,
            "variables": {"team": "ENG", "first": first, "after": after},
        });
        let r = gql(emu, &url, body).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let page = r.json();
        assert!(page.get("errors").is_none(), "{page}");
        let nodes = page["data"]["team"]["issues"]["nodes"]
            .as_array()
            .unwrap()
            .clone();
        assert!(nodes.len() <= first);
        records.extend(nodes);
        let info = page["data"]["team"]["issues"]["pageInfo"].clone();
        // Exactly Relay's two members.
        let keys: HashSet<&str> = info
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, HashSet::from(["hasNextPage", "endCursor"]), "{info}");
        pages.push(page.clone());
        if info["hasNextPage"] == json!(true) {
            let c = info["endCursor"]
                .as_str()
                .expect("a cursor while more follow");
            after = Some(c.to_string());
        } else {
            assert_eq!(info["endCursor"], Value::Null, "endCursor on the last page");
            return (records, pages);
        }
    }
    panic!("too many pages");
}

#[tokio::test]
async fn list_pages_to_the_end_with_relay_page_info() {
    let emu = veltrack().await;
    assert_eq!(emu.entities(), ["issues", "viewer"]);
    let (records, pages) = walk_issues(&emu, 10, true).await;
    assert_eq!(pages.len(), 3);
    assert_all_once(&emu, "issues", &records);
    // The cursor is the last node's id.
    assert_eq!(
        pages[0]["data"]["team"]["issues"]["pageInfo"]["endCursor"],
        records[9]["id"]
    );
    // Parameters travel in `variables` alone too (URL query parameters are optional).
    let (again, _) = walk_issues(&emu, 10, false).await;
    assert_eq!(again, records);
    // `first` from its default (50) when neither carries it: one page.
    let r = gql(
        &emu,
        "",
        json!({"query": query("/graphql:issues:list", "id"), "variables": {"team": "ENG"}}),
    )
    .await;
    assert_eq!(
        r.at("/data/team/issues/nodes").as_array().unwrap().len(),
        23
    );
    assert_eq!(r.at("/data/team/issues/pageInfo/hasNextPage"), json!(false));
    // Whitespace and the selection set do not matter to matching.
    let squashed = query("/graphql:issues:list", "id title")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("  \n ");
    let r = gql(
        &emu,
        "",
        json!({"query": squashed, "variables": {"team": "ENG", "first": 5}}),
    )
    .await;
    assert_eq!(
        r.at("/data/team/issues/nodes").as_array().unwrap().len(),
        5,
        "{}",
        r.body
    );
    // The request was logged with its body, the URL query and the header.
    let logged = emu.requests().pop().unwrap();
    assert_eq!(
        (logged.method.as_str(), logged.path.as_str()),
        ("POST", "/graphql")
    );
    assert_eq!(logged.body_json().unwrap()["variables"]["first"], json!(5));
}

#[tokio::test]
async fn get_by_id_unknown_id_and_viewer() {
    let emu = veltrack().await;
    let rec = emu.record("issues", 4).unwrap();
    let id = rec["id"].as_str().unwrap();
    let q = query(
        "/graphql:issues:get",
        "id identifier title description priority state { name } assignee { name } updatedAt",
    );
    let r = gql(
        &emu,
        &qs(&[("id", id)]),
        json!({"query": q, "variables": {"id": id}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"data": {"issue": rec}}));

    // Unknown id: HTTP 200, the root field null and an error naming it.
    let r = gql(&emu, "", json!({"query": q, "variables": {"id": "nope"}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.at("/data/issue"), Value::Null);
    assert_eq!(r.at("/errors/0/path"), json!(["issue"]));
    assert_eq!(r.at("/errors/0/extensions/code"), json!("NOT_FOUND"));
    assert!(r
        .at("/errors/0/message")
        .as_str()
        .unwrap()
        .contains("issue"));

    // The viewer singleton: no variables, no fields placeholder.
    let r = gql(&emu, "", json!({"query": template("/graphql:viewer")})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"data": {"viewer": emu.record("viewer", 0).unwrap()}})
    );
}

#[tokio::test]
async fn mutation_updates_the_issue_and_reads_back() {
    let emu = veltrack().await;
    let rec = emu.record("issues", 2).unwrap();
    let id = rec["id"].as_str().unwrap();
    let m = template("/graphql:issues:update");
    let body = json!({
        "query": m,
        "operationName": "UpdateIssue",
        "variables": {
            "id": id,
            "input": {"title": "Renamed", "priority": 1, "auditNote": "Edited via airbyte-agent"},
        },
    });
    let r = gql(&emu, "", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.at("/data/issueUpdate/success"), json!(true));
    let issue = r.at("/data/issueUpdate/issue");
    assert_eq!(
        (
            issue["id"].clone(),
            issue["title"].clone(),
            issue["priority"].clone()
        ),
        (json!(id), json!("Renamed"), json!(1))
    );
    // Arguments that name no issue field (`source`, `state_id`) are not stored.
    assert!(
        issue.get("source").is_none() && issue.get("state_id").is_none(),
        "{issue}"
    );
    // The get (and the list) see the change; everything else is as it was.
    let q = query("/graphql:issues:get", "id title priority");
    let r = gql(&emu, "", json!({"query": q, "variables": {"id": id}})).await;
    let mut want = rec.clone();
    want["title"] = json!("Renamed");
    want["priority"] = json!(1);
    assert_eq!(r.at("/data/issue"), want);
    assert_eq!(emu.current_records("issues").unwrap()[2], want);

    // Unknown id: the root field null with an error.
    let body = json!({"query": m, "variables": {"id": "nope", "input": {"title": "x"}}});
    let r = gql(&emu, "", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["data"], json!({"issueUpdate": null}));
    assert_eq!(r.at("/errors/0/extensions/code"), json!("NOT_FOUND"));
    // A wrong input type is a GraphQL error too, naming the input.
    let body = json!({"query": m, "variables": {"id": id, "input": {"priority": "high"}}});
    let r = gql(&emu, "", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["data"], Value::Null);
    assert_eq!(r.at("/errors/0/extensions/code"), json!("BAD_USER_INPUT"));
    assert_eq!(r.at("/errors/0/extensions/field"), json!("priority"));
}

#[tokio::test]
async fn errors_auth_and_faults() {
    let emu = veltrack().await;
    // A query matching no operation: HTTP 200 with data null.
    let r = gql(&emu, "", json!({"query": "query { teams { id } }"})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["data"], Value::Null);
    assert_eq!(
        r.at("/errors/0/extensions/code"),
        json!("GRAPHQL_VALIDATION_FAILED")
    );
    // No query, or a body that is not JSON: 400.
    let r = gql(&emu, "", json!({"variables": {}})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.at("/errors/0/message").is_string());
    // A required variable missing (team) is a GraphQL error naming the parameter.
    let q = query("/graphql:issues:list", "id");
    let r = gql(&emu, "", json!({"query": q, "variables": {"first": 2}})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.at("/errors/0/extensions/field"), json!("team_key"));
    // A bad cursor too.
    let r = gql(
        &emu,
        "",
        json!({"query": q, "variables": {"team": "ENG", "after": "bogus"}}),
    )
    .await;
    assert_eq!(
        r.at("/errors/0/extensions/field"),
        json!("after"),
        "{}",
        r.body
    );
    // Auth is the API's (the key in Authorization, no prefix needed).
    let url = format!("{}/graphql", emu.base_url());
    let body = json!({"query": template("/graphql:viewer")})
        .to_string()
        .into_bytes();
    let ct = ("Content-Type".to_string(), "application/json".to_string());
    let r = crate::common::request_url("POST", &url, vec![ct.clone()], Some(body.clone())).await;
    assert_eq!(r.status, 401, "{}", r.body);
    let key = ("Authorization".to_string(), emu.api_key().to_string());
    let r = crate::common::request_url("POST", &url, vec![ct, key], Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);

    // Faults apply; a 200 carrying GraphQL errors can be injected as is.
    let errors = r#"{"data":null,"errors":[{"message":"rate limited","extensions":{"code":"RATELIMITED"}}]}"#;
    emu.faults().push(Fault::Status {
        status: 200,
        retry_after: None,
        body: Some(errors.to_string()),
    });
    let r = gql(&emu, "", json!({"query": template("/graphql:viewer")})).await;
    assert_eq!((r.status, r.body.as_str()), (200, errors));
    emu.faults().push(Fault::status(503));
    let r = gql(&emu, "", json!({"query": template("/graphql:viewer")})).await;
    assert_eq!(r.status, 503);
    let r = gql(&emu, "", json!({"query": template("/graphql:viewer")})).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn hosted_execute_runs_graphql_operations() {
    let emu = veltrack().await;
    let auth = airbyte_auth(&emu).await;
    let mut records = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut params = json!({"team_key": "ENG", "first": 10});
        if let Some(a) = &after {
            params["after"] = json!(a);
        }
        let r = execute(&emu, &auth, "issues", "list", params).await;
        assert_eq!(r.status, 200, "{}", r.body);
        pages += 1;
        records.extend(r.json()["result"].as_array().unwrap().clone());
        let meta = r.json()["connector_metadata"].clone();
        if meta["has_next_page"] == json!(true) {
            after = Some(meta["end_cursor"].as_str().unwrap().to_string());
        } else {
            assert_eq!(meta["end_cursor"], Value::Null);
            break;
        }
        assert!(pages < 10);
    }
    assert_eq!(pages, 3);
    assert_all_once(&emu, "issues", &records);

    let id = records[7]["id"].as_str().unwrap().to_string();
    let r = execute(&emu, &auth, "issues", "get", json!({"id": id})).await;
    assert_eq!(r.json()["result"], records[7]);
    let r = execute(&emu, &auth, "viewer", "get", json!({})).await;
    assert_eq!(r.json()["result"], emu.record("viewer", 0).unwrap());
    let r = execute(
        &emu,
        &auth,
        "issues",
        "update",
        json!({"id": id, "title": "Hosted"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["result"]["title"], json!("Hosted"));
    // Both transports share the store.
    let q = query("/graphql:issues:get", "id title");
    let r = gql(&emu, "", json!({"query": q, "variables": {"id": id}})).await;
    assert_eq!(r.at("/data/issue/title"), json!("Hosted"));
}
