//! Each write construct of `spec/writes.yaml` on the wire, against a wiremock server on
//! 127.0.0.1: the method, path, headers and JSON body the generated client sends, what it
//! makes of the answer (an envelope, the whole body, no body), which failed writes are
//! repeated and which never are, and the untyped `execute` path with its write switch.

use std::time::Duration;

use connector_conformance_writes::entities::{
    BoardFieldsUpdateBody, BoardTagsCreateBody, BoardsCreateBody, BoardsUpdateBody,
    CardsCreateBody, CardsUpdateBody, CommentsCreateBody, LabelsCreateBody, UploadsCreateBody,
};
use connector_conformance_writes::{
    Error, ExecuteOptions, QuillmarkAuthConfig, QuillmarkConnector,
};
use connector_sdk_runtime::RetryPolicy;
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn board(id: &str, name: &str) -> Value {
    json!({"id": id, "name": name, "color": "blue", "tags": [], "archived": false,
           "created_at": "2026-11-29T10:00:00.000000Z"})
}

fn card(id: &str, title: &str) -> Value {
    json!({"id": id, "board_id": "b_1", "title": title, "points": null, "due": null,
           "created_at": "2026-11-29T10:00:00.000000Z"})
}

/// A connector that retries quickly (three attempts), so the tests can tell repeated
/// requests from single ones.
async fn connector(server: &MockServer) -> QuillmarkConnector {
    QuillmarkConnector::builder()
        .auth(QuillmarkAuthConfig::new("key_1"))
        .base_url(&server.uri())
        .expect("a local base URL")
        .retry_policy(
            RetryPolicy::new()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(1))
                .max_backoff(Duration::from_millis(5)),
        )
        .build()
        .expect("the connector builds")
}

async fn requests(server: &MockServer) -> Vec<Request> {
    server.received_requests().await.unwrap_or_default()
}

fn body_of(r: &Request) -> Value {
    serde_json::from_slice(&r.body).expect("a JSON body")
}

#[tokio::test]
async fn create_sends_the_typed_body_with_defaults_and_reads_the_enveloped_record() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/boards"))
        .and(header("authorization", "Bearer key_1"))
        .and(header("idempotency-key", "k-42"))
        .and(header("content-type", "application/json"))
        .respond_with(
            ResponseTemplate::new(201).set_body_json(json!({"board": board("b_9", "Roadmap")})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let made = c
        .boards()
        .create(BoardsCreateBody::new("Roadmap").tags(["q1", "ops"]))
        .idempotency_key("k-42")
        .await
        .expect("the create succeeds");
    assert_eq!(made.id.as_deref(), Some("b_9"));
    assert_eq!(made.name.as_deref(), Some("Roadmap"));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    // The required property, the set one, and the spec's default (always sent); nothing
    // that was not set.
    assert_eq!(
        body_of(&sent[0]),
        json!({"name": "Roadmap", "tags": ["q1", "ops"], "color": "blue"})
    );
}

#[tokio::test]
async fn update_patches_only_what_was_set_and_reads_the_whole_body() {
    let server = MockServer::start().await;
    Mock::given(method("PATCH"))
        .and(path("/boards/b%2F1"))
        .and(body_json(json!({"archived": true})))
        .respond_with(ResponseTemplate::new(200).set_body_json(board("b/1", "Old")))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let changed = c
        .boards()
        .update("b/1", BoardsUpdateBody::new().archived(true))
        .await
        .expect("the update succeeds");
    assert_eq!(changed.id.as_deref(), Some("b/1"));
}

#[tokio::test]
async fn delete_without_a_body_answers_unit_and_a_post_delete_goes_to_the_override() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path("/boards/b_1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/cards/c_1/archive"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"archived": true, "id": "c_1"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let (): () = c.boards().delete("b_1").await.expect("the delete succeeds");
    let archived = c.cards().delete("c_1").await.expect("the archive succeeds");
    assert_eq!(archived.archived, Some(true));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    // No body and no JSON content type on a delete that declares no body.
    assert!(
        sent.iter().all(|r| r.body.is_empty()),
        "no body on either delete"
    );
    assert!(sent[0].headers.get("content-type").is_none());
}

#[tokio::test]
async fn a_create_or_patch_is_never_repeated_after_a_server_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/boards/b_1/cards"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/boards/b_1"))
        .respond_with(ResponseTemplate::new(502))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let err = c
        .cards()
        .create("b_1", CardsCreateBody::new("Write the docs").points(3))
        .await
        .expect_err("the 503 comes back");
    assert_eq!(err.status(), Some(503));
    let err = c
        .boards()
        .update("b_1", BoardsUpdateBody::new().name("New"))
        .await
        .expect_err("the 502 comes back");
    assert_eq!(err.status(), Some(502));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2, "one attempt each: a repeat could act twice");
    assert_eq!(
        body_of(&sent[0]),
        json!({"title": "Write the docs", "points": 3})
    );
}

#[tokio::test]
async fn a_create_is_not_repeated_after_a_timeout_either() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/boards"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"board": board("b_2", "Slow")}))
                .set_delay(Duration::from_millis(600)),
        )
        .mount(&server)
        .await;
    let c = QuillmarkConnector::builder()
        .auth(QuillmarkAuthConfig::new("key_1"))
        .base_url(&server.uri())
        .expect("a local base URL")
        .timeout(Duration::from_millis(150))
        .retry_policy(
            RetryPolicy::new()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(1)),
        )
        .build()
        .expect("the connector builds");
    let err = c
        .boards()
        .create(BoardsCreateBody::new("Slow"))
        .await
        .expect_err("the timeout comes back");
    assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
    assert_eq!(
        requests(&server).await.len(),
        1,
        "the server may have acted: no repeat"
    );
}

#[tokio::test]
async fn put_and_delete_are_idempotent_so_they_are_retried() {
    let server = MockServer::start().await;
    // The first attempt of each fails; the second succeeds.
    Mock::given(method("PUT"))
        .and(path("/cards/c_1"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path("/cards/c_1"))
        .and(body_json(json!({"title": "Renamed", "due": "2026-12-01"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(card("c_1", "Renamed")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/boards/b_1"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/boards/b_1"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let replaced = c
        .cards()
        .update("c_1", CardsUpdateBody::new("Renamed").due("2026-12-01"))
        .await
        .expect("the PUT succeeds on its second attempt");
    assert_eq!(replaced.title.as_deref(), Some("Renamed"));
    c.boards()
        .delete("b_1")
        .await
        .expect("the DELETE succeeds on its second attempt");
    let sent = requests(&server).await;
    let count = |m: &str| sent.iter().filter(|r| r.method.as_str() == m).count();
    assert_eq!((count("PUT"), count("DELETE")), (2, 2));
}

#[tokio::test]
async fn execute_runs_writes_only_when_allowed_and_checks_the_body_first() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/boards"))
        .and(body_json(json!({"name": "From an agent", "color": "red"})))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"board": board("b_7", "From an agent")})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/boards/b_7"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let params = json!({"name": "From an agent", "color": "red"});
    // Read-only by default: refused before any request, saying how to allow it.
    let err = c
        .execute("boards", "create", params.clone())
        .await
        .expect_err("writes are off by default");
    assert!(err.to_string().contains("allow_writes"), "{err}");
    assert!(requests(&server).await.is_empty());
    let allow = ExecuteOptions::new().allow_writes(true);
    // A missing required property, a wrong type and an unknown key: refused before any
    // request, naming the problem.
    for (bad, says) in [
        (json!({"color": "red"}), "name"),
        (json!({"name": 5}), "name"),
        (json!({"name": "x", "colour": "red"}), "colour"),
        (json!({"name": "x", "color": "purple"}), "purple"),
    ] {
        let err = c
            .execute_with("boards", "create", bad.clone(), allow.clone())
            .await
            .expect_err("bad params are refused");
        assert!(matches!(err, Error::InvalidInput { .. }), "{bad}: {err:?}");
        assert!(err.to_string().contains(says), "{bad}: {err}");
    }
    assert!(requests(&server).await.is_empty());
    let made = c
        .execute_with("boards", "create", params, allow.clone())
        .await
        .expect("the create runs");
    // The record as the server sent it, out of its envelope.
    assert_eq!(made["id"], "b_7");
    assert_eq!(made["created_at"], "2026-11-29T10:00:00.000000Z");
    // An answer with no body is `{}`.
    let gone = c
        .execute_with("boards", "delete", json!({"board_id": "b_7"}), allow)
        .await
        .expect("the delete runs");
    assert_eq!(gone, json!({}));
}

#[tokio::test]
async fn the_tool_surface_marks_writes() {
    let text = QuillmarkConnector::tool_description();
    assert!(text.contains("create("), "{text}");
    assert!(text.contains("(write)"), "{text}");
    assert!(
        text.contains("only when the operator allows writes"),
        "{text}"
    );
    let create = QuillmarkConnector::entities()
        .into_iter()
        .find(|e| e.entity == "boards")
        .and_then(|e| e.actions.into_iter().find(|a| a.action == "create"))
        .expect("boards.create is described");
    assert!(create.writes);
    assert!(create.param("name").is_some_and(|p| p.required));
}

fn comment(id: &str) -> Value {
    json!({"id": id, "body": format!("text of {id}"), "author": {"id": "u_1", "name": "Ada"}})
}

fn comments_page(ids: &[&str], end: Option<&str>) -> Value {
    json!({"data": {"comments": {
        "pageInfo": {"hasNextPage": end.is_some(), "endCursor": end},
        "nodes": ids.iter().map(|i| comment(i)).collect::<Vec<_>>(),
    }}})
}

#[tokio::test]
async fn graphql_lists_send_the_query_and_typed_variables_and_page_by_end_cursor() {
    let server = MockServer::start().await;
    // Page 1: no cursor yet (`after` kept as null: it is nullable), `first` typed as a
    // number (a stream asks for the largest page, 20), the default selection; `board`
    // dropped as null.
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_json(json!({
            "query": "query Comments($board: String, $first: Int, $after: String) { comments(board: $board, first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { id body author { name id } } } }",
            "variables": {"first": 20, "after": null},
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(comments_page(&["m1", "m2"], Some("c2"))))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_json(json!({
            "query": "query Comments($board: String, $first: Int, $after: String) { comments(board: $board, first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { id body author { name id } } } }",
            "variables": {"first": 20, "after": "c2"},
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(comments_page(&["m3"], None)))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let all: Vec<_> = futures::TryStreamExt::try_collect(c.comments().list().stream())
        .await
        .expect("both pages");
    let ids: Vec<_> = all.iter().map(|m| m.id.clone().unwrap()).collect();
    assert_eq!(ids, ["m1", "m2", "m3"]);
    // The query params travel in the URL too, as the reference runtime sends them.
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].url.query(), Some("after=c2&first=20"));
}

#[tokio::test]
async fn graphql_fields_pick_the_selection_and_bad_names_never_reach_the_server() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(comments_page(&["m1"], None)))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let raw = c
        .execute(
            "comments",
            "list",
            json!({"fields": ["id", "author.name"], "first": 3, "board_id": "b_1"}),
        )
        .await
        .expect("a page");
    assert_eq!(raw["data"][0]["id"], "m1");
    let sent = requests(&server).await;
    let b = body_of(&sent[0]);
    assert!(
        b["query"]
            .as_str()
            .unwrap()
            .contains("nodes { id author { name } }"),
        "{b}"
    );
    assert_eq!(
        b["variables"],
        json!({"board": "b_1", "first": 3, "after": null})
    );
    let err = c
        .execute("comments", "list", json!({"fields": ["id } mutation { x"]}))
        .await
        .expect_err("an injected selection is refused");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    assert_eq!(requests(&server).await.len(), 1, "nothing more was sent");
}

#[tokio::test]
async fn graphql_errors_are_a_typed_error_even_on_200() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"comment": null},
            "errors": [{"message": "Comment not found", "path": ["comment"]}],
        })))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let err = c
        .comments()
        .get("m404")
        .await
        .expect_err("errors are an error");
    let Error::Api(api) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(api.status, 200);
    assert_eq!(api.error_type.as_deref(), Some("graphql"));
    assert!(err.to_string().contains("Comment not found"), "{err}");
    // The get's default selection is one verbatim text.
    let b = body_of(&requests(&server).await[0]);
    assert_eq!(
        b,
        json!({"query": "query Comment($id: ID!) { comment(id: $id) { id body author { name id } } }",
               "variables": {"id": "m404"}})
    );
}

#[tokio::test]
async fn a_graphql_mutation_binds_its_typed_body_into_nested_variables_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/graphql"))
        .and(body_json(json!({
            "query": "mutation CreateComment($input: CommentInput!) { commentCreate(input: $input) { comment { id body author { name id } } } }",
            "variables": {"input": {"body": "Looks good", "boardId": "b_1", "pinned": true, "note": "posted by sdk"}},
            "operationName": "CreateComment",
        })))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let err = c
        .comments()
        .create(CommentsCreateBody::new("Looks good", "b_1").pinned(true))
        .await
        .expect_err("the 503 comes back");
    assert_eq!(err.status(), Some(503));
    // A mutation over POST is not idempotent: sent once.
    assert_eq!(requests(&server).await.len(), 1);
}

/// A repeatable file of `n` bytes.
fn file_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

async fn collect(download: connector_conformance_writes::Download) -> Vec<u8> {
    use futures::TryStreamExt;
    let chunks: Vec<_> = download.try_collect().await.expect("the whole file");
    chunks.concat()
}

#[tokio::test]
async fn a_one_step_download_streams_the_bytes_with_accept_any_and_an_optional_range() {
    let server = MockServer::start().await;
    let file = file_bytes(300_000);
    Mock::given(method("GET"))
        .and(path("/attachments/a%201/content"))
        .and(header("accept", "*/*"))
        .and(header("authorization", "Bearer key_1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(file.clone(), "application/pdf"))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let download = c.attachments().download("a 1").await.expect("opened");
    assert_eq!(download.content_type(), Some("application/pdf"));
    assert_eq!(download.content_length(), Some(300_000));
    assert_eq!(collect(download).await, file);
    // A range travels as the Range header.
    c.attachments()
        .download("a 1")
        .range("bytes=0-9")
        .await
        .expect("opened");
    let sent = requests(&server).await;
    assert_eq!(
        sent[1].headers.get("range").and_then(|v| v.to_str().ok()),
        Some("bytes=0-9")
    );
}

#[tokio::test]
async fn a_failed_download_is_an_error_before_any_bytes() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/attachments/gone/content"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "no such file"})))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let err = c.attachments().download("gone").await.expect_err("404");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn a_two_step_download_reads_the_url_and_sends_credentials_only_under_the_base_url() {
    let api = MockServer::start().await;
    let storage = MockServer::start().await;
    let file = file_bytes(70_000);
    // The metadata names two links: one under the API, one pre-signed elsewhere.
    Mock::given(method("GET"))
        .and(path("/attachments/a1/export"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"export": {"links": [
                {"href": format!("{}/files/a1.bin", api.uri())},
                {"href": format!("{}/signed/a1.bin?sig=abc", storage.uri())},
            ]}})),
        )
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/files/a1.bin"))
        .and(header("authorization", "Bearer key_1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(file.clone(), "application/octet-stream"),
        )
        .expect(1)
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/signed/a1.bin"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(file.clone(), "application/octet-stream"),
        )
        .expect(1)
        .mount(&storage)
        .await;
    let c = connector(&api).await;
    // `link_index` defaults to 0: the API's own link, with credentials.
    let ours = c.exports().download("a1").await.expect("opened");
    assert_eq!(collect(ours).await, file);
    let signed = c
        .exports()
        .download("a1")
        .link_index(1)
        .await
        .expect("opened");
    assert_eq!(collect(signed).await, file);
    let at_storage = requests(&storage).await;
    assert_eq!(at_storage.len(), 1);
    assert!(
        at_storage[0].headers.get("authorization").is_none(),
        "a pre-signed URL on another host gets no credentials"
    );
}

#[tokio::test]
async fn execute_returns_a_download_in_base64_chunks() {
    use base64::Engine as _;
    let server = MockServer::start().await;
    let file = file_bytes(100_000);
    // The server ignores the range and sends the whole file: the first chunk is cut at
    // 64 KiB and says where the next starts.
    Mock::given(method("GET"))
        .and(path("/attachments/a1/content"))
        .and(header("range", "bytes=0-65535"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(file.clone(), "image/png"))
        .mount(&server)
        .await;
    // A server that honours ranges answers 206 with the total.
    Mock::given(method("GET"))
        .and(path("/attachments/a1/content"))
        .and(header("range", "bytes=65536-131071"))
        .respond_with(
            ResponseTemplate::new(206)
                .insert_header("content-range", "bytes 65536-99999/100000")
                .set_body_raw(file[65_536..].to_vec(), "image/png"),
        )
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let first = c
        .execute("attachments", "download", json!({"attachment_id": "a1"}))
        .await
        .expect("the first chunk");
    assert_eq!(first["bytes_returned"], 65_536);
    assert_eq!(first["has_more"], true);
    assert_eq!(first["encoding"], "base64");
    assert_eq!(first["content_type"], "image/png");
    let next = first["next_range_header"]
        .as_str()
        .expect("a next range")
        .to_string();
    assert_eq!(next, "bytes=65536-131071");
    let second = c
        .execute(
            "attachments",
            "download",
            json!({"attachment_id": "a1", "range_header": next}),
        )
        .await
        .expect("the second chunk");
    assert_eq!(second["has_more"], false);
    assert_eq!(second["next_range_header"], Value::Null);
    let mut got = base64::engine::general_purpose::STANDARD
        .decode(first["content"].as_str().unwrap())
        .unwrap();
    got.extend(
        base64::engine::general_purpose::STANDARD
            .decode(second["content"].as_str().unwrap())
            .unwrap(),
    );
    assert_eq!(got, file);
    // An undeclared param is still refused.
    let err = c
        .execute(
            "attachments",
            "download",
            json!({"attachment_id": "a1", "rnage": "x"}),
        )
        .await
        .expect_err("a typo");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
}

#[tokio::test]
async fn chunks_follow_the_servers_answer_when_it_ignores_a_range_or_redirects() {
    use base64::Engine as _;
    let api = MockServer::start().await;
    let storage = MockServer::start().await;
    let file = file_bytes(150_000);
    // The API ignores ranges (200, the whole file) and, for the export, redirects to
    // storage on another host, which honours them (206 with the total).
    Mock::given(method("GET"))
        .and(path("/attachments/a1/content"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(file.clone(), "image/png"))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/attachments/a2/content"))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "location",
            format!("{}/blob/a2?sig=s", storage.uri()).as_str(),
        ))
        .mount(&api)
        .await;
    Mock::given(method("GET"))
        .and(path("/blob/a2"))
        .and(header("range", "bytes=65536-131071"))
        .respond_with(
            ResponseTemplate::new(206)
                .insert_header("content-range", "bytes 65536-131071/150000")
                .set_body_raw(file[65_536..131_072].to_vec(), "image/png"),
        )
        .mount(&storage)
        .await;
    let c = connector(&api).await;
    let decode = |v: &Value| {
        base64::engine::general_purpose::STANDARD
            .decode(v["content"].as_str().unwrap())
            .unwrap()
    };
    // The second chunk of a server that ignores the range: the bytes before it are
    // dropped, so the chunk is the right part of the file.
    let second = c
        .execute(
            "attachments",
            "download",
            json!({"attachment_id": "a1", "range_header": "bytes=65536-131071"}),
        )
        .await
        .unwrap();
    assert_eq!(decode(&second), file[65_536..131_072].to_vec());
    assert_eq!(second["has_more"], true);
    assert_eq!(second["next_range_header"], "bytes=131072-196607");
    // Through a cross-origin redirect: followed without credentials, the 206 read.
    let part = c
        .execute(
            "attachments",
            "download",
            json!({"attachment_id": "a2", "range_header": "bytes=65536-131071"}),
        )
        .await
        .unwrap();
    assert_eq!(decode(&part), file[65_536..131_072].to_vec());
    assert_eq!(part["has_more"], true);
    let at_storage = requests(&storage).await;
    assert_eq!(at_storage.len(), 1);
    assert!(at_storage[0].headers.get("authorization").is_none());
    // The typed stream says whether the range was honoured.
    let whole = c
        .attachments()
        .download("a1")
        .range("bytes=0-9")
        .await
        .unwrap();
    assert_eq!(whole.content_range(), None, "the API ignored the range");
}

#[tokio::test]
async fn form_array_and_free_form_bodies_go_out_as_the_spec_says() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/labels"))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(json!({"id": "l_1", "name": "Urgent & new", "color": "grey"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/boards/b_1/tags"))
        .and(body_json(json!([{"tag": "q1", "weight": 2}])))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"tags": ["q1"]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/boards/b_1/fields"))
        .and(body_json(json!({"priority": "high", "estimate": 3})))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let label = c
        .labels()
        .create(
            LabelsCreateBody::new("Urgent & new")
                .meta(json!({"owner": "ops", "level": 2}))
                .aliases(["hot", "now"]),
        )
        .await
        .expect("the form create");
    assert_eq!(label.id.as_deref(), Some("l_1"));
    let sent = requests(&server).await;
    // In the spec's order: nested values bracket-flattened, the default sent.
    assert_eq!(
        String::from_utf8_lossy(&sent[0].body),
        "name=Urgent+%26+new&color=grey&meta%5Bowner%5D=ops&meta%5Blevel%5D=2&aliases%5B0%5D=hot&aliases%5B1%5D=now"
    );
    let tags = c
        .board_tags()
        .create("b_1", BoardTagsCreateBody::new("q1").weight(2))
        .await
        .expect("the array create");
    assert_eq!(tags.tags, Some(vec!["q1".to_string()]));
    c.board_fields()
        .update(
            "b_1",
            BoardFieldsUpdateBody::new()
                .field("priority", "high")
                .field("estimate", 3),
        )
        .await
        .expect("the free-form update");
    // A body field named like the path id stays in the body; the URL keeps the id given.
    Mock::given(method("PATCH"))
        .and(path("/boards/b_2/fields"))
        .and(body_json(json!({"board_id": "elsewhere", "note": null})))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    c.board_fields()
        .update(
            "b_2",
            BoardFieldsUpdateBody::new()
                .field("board_id", "elsewhere")
                .field("note", Value::Null),
        )
        .await
        .expect("the free-form update with a colliding name");
    // Untyped, any key is a body field; the path id stays out of the body.
    c.execute_with(
        "board_fields",
        "update",
        json!({"board_id": "b_1", "priority": "high", "estimate": 3}),
        ExecuteOptions::new().allow_writes(true),
    )
    .await
    .expect("the untyped free-form update");
}

#[tokio::test]
async fn an_upload_goes_as_multipart_related_with_the_file_decoded() {
    use base64::Engine as _;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/uploads"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"id": "u_1", "size": 5})))
        .expect(3)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let file = b"\x00PDF\xff";
    let made = c
        .uploads()
        .create(
            UploadsCreateBody::new("a.pdf")
                .content_base64(base64::engine::general_purpose::STANDARD.encode(file))
                .file_mime_type("application/pdf"),
        )
        .await
        .expect("the upload");
    assert_eq!(made.id.as_deref(), Some("u_1"));
    // Without a file: plain JSON.
    c.uploads()
        .create(UploadsCreateBody::new("empty.txt"))
        .await
        .expect("a JSON create");
    // Not base64: refused before the request.
    let err = c
        .uploads()
        .create(UploadsCreateBody::new("x").content_base64("not base64!"))
        .await
        .expect_err("bad base64");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    // An execute with a bad media type: refused too.
    let err = c
        .execute_with(
            "uploads",
            "create",
            json!({"file_name": "x", "content_base64": "AAAA", "file_mime_type": "text/plain\r\nX: 1"}),
            ExecuteOptions::new().allow_writes(true),
        )
        .await
        .expect_err("a header-breaking media type");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    c.execute_with(
        "uploads",
        "create",
        json!({"file_name": "b.bin", "content_base64": "AAEC"}),
        ExecuteOptions::new().allow_writes(true),
    )
    .await
    .expect("an untyped upload");
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    let ct = sent[0]
        .headers
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let boundary = ct
        .strip_prefix("multipart/related; boundary=")
        .expect("multipart/related")
        .to_string();
    let mut expected = format!(
        "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{{\"file_name\":\"a.pdf\"}}\r\n--{boundary}\r\nContent-Type: application/pdf\r\n\r\n"
    )
    .into_bytes();
    expected.extend_from_slice(file);
    expected.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    assert_eq!(sent[0].body, expected);
    assert_eq!(body_of(&sent[1]), json!({"file_name": "empty.txt"}));
    // No media type given: the file part is application/octet-stream.
    assert!(
        String::from_utf8_lossy(&sent[2].body).contains("Content-Type: application/octet-stream")
    );
}
