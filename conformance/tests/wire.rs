//! Each read construct of `spec/reads.yaml` on the wire, against a wiremock server on
//! 127.0.0.1: the request the generated client sends (path, query, headers) and the records
//! it reads back, across every page, each exactly once.

use connector_conformance::{models, Error, TidewaterAuthConfig, TidewaterConnector};
use futures::{StreamExt, TryStreamExt};
use serde_json::{json, Value};
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

async fn connector(server: &MockServer) -> TidewaterConnector {
    TidewaterConnector::builder()
        .auth(TidewaterAuthConfig::new("tok_1"))
        .base_url(&server.uri())
        .expect("a local base URL")
        .harbour("kb")
        .no_retries()
        .build()
        .expect("the connector builds")
}

fn ids<T>(records: &[T], id: impl Fn(&T) -> &str) -> Vec<String> {
    records.iter().map(|r| id(r).to_string()).collect()
}

/// The query of every request the server saw on `path`, in order.
async fn queries(server: &MockServer, on: &str) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == on)
        .map(|r| r.url.query().unwrap_or_default().to_string())
        .collect()
}

fn header_of(r: &Request, name: &str) -> Option<String> {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[tokio::test]
async fn link_header_pages_a_whole_body_array_with_headers_and_array_params() {
    let server = MockServer::start().await;
    let next = |q: &str| {
        format!(
            "<{}/vessels?{q}>; rel=\"next\", <{}/vessels?page=9>; rel=\"last\"",
            server.uri(),
            server.uri()
        )
    };
    // Page 1: the client's own request. Page 2 and 3: the URLs the Link header named.
    Mock::given(method("GET"))
        .and(path("/vessels"))
        .and(query_param("page[size]", "3"))
        .and(query_param_is_missing("page"))
        .and(header("X-Tide-Version", "2026-01"))
        .and(header("authorization", "Bearer tok_1"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", next("page=2&page%5Bsize%5D=3").as_str())
                .set_body_json(json!([{"id": "v1", "type": "tug"}, {"id": "v2", "name": null}, {"id": "v3", "type": "dredger"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/vessels"))
        .and(query_param("page", "2"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Link", next("page=3&page%5Bsize%5D=3").as_str())
                .set_body_json(json!([{"id": "v4"}, {"id": "v5"}, {"id": "v6"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/vessels"))
        .and(query_param("page", "3"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{"id": "v7"}])))
        .expect(1)
        .mount(&server)
        .await;

    let c = connector(&server).await;
    let all: Vec<models::Vessel> = c
        .vessels()
        .list()
        .page_size(3)
        .tags(["north quay", "fuel"])
        .status(["moored", "underway"])
        .type_("tug")
        .x_harbour("Kestrel Bay")
        .stream()
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(
        ids(&all, |v| &v.id),
        ["v1", "v2", "v3", "v4", "v5", "v6", "v7"]
    );
    // An enum value the spec does not list still decodes (kept as Unknown).
    assert_eq!(
        all[2].type_.as_ref().map(|t| t.to_string()).as_deref(),
        Some("dredger")
    );

    let got = server.received_requests().await.unwrap();
    assert_eq!(got.len(), 3);
    // The first request: names verbatim, arrays as declared (tags[] repeated, status joined
    // with commas), the keyword parameter under its wire name, sorted by name.
    assert_eq!(
        got[0].url.query(),
        Some("page%5Bsize%5D=3&status=moored%2Cunderway&tags%5B%5D=north+quay&tags%5B%5D=fuel&type=tug")
    );
    assert_eq!(
        header_of(&got[0], "x-harbour").as_deref(),
        Some("Kestrel Bay")
    );
    // Later requests are the server's URLs as given, with the same headers and credentials.
    assert_eq!(got[1].url.query(), Some("page=2&page%5Bsize%5D=3"));
    for r in &got {
        assert_eq!(header_of(r, "x-tide-version").as_deref(), Some("2026-01"));
        assert_eq!(
            header_of(r, "authorization").as_deref(),
            Some("Bearer tok_1")
        );
    }
}

#[tokio::test]
async fn a_link_to_another_origin_is_not_followed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/vessels"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header(
                    "Link",
                    "<https://collector.example.net/vessels?page=2>; rel=\"next\"",
                )
                .set_body_json(json!([{"id": "v1"}])),
        )
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let got: Vec<Result<models::Vessel, Error>> = c.vessels().list().stream().collect().await;
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0].as_ref().unwrap().id, "v1");
    let e = got[1].as_ref().unwrap_err();
    assert!(matches!(e, Error::Pagination { .. }), "{e}");
    assert!(
        e.to_string().contains("https://collector.example.net"),
        "{e}"
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn headers_and_parameters_are_checked_before_any_request() {
    let server = MockServer::start().await;
    let c = connector(&server).await;
    let e = c
        .vessels()
        .list()
        .status(["moored", "sunk"])
        .send()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("sunk"), "{e}");
    let e = c
        .vessels()
        .list()
        .x_harbour("a\r\nX-Injected: 1")
        .send()
        .await
        .unwrap_err();
    assert!(e.to_string().contains("X-Harbour"), "{e}");
    // Untyped: a scalar where the spec says array is refused, naming the type.
    let e = c
        .execute("vessels", "list", json!({"tags[]": "fuel"}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("array"), "{e}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_hyphenated_path_parameter_and_a_whole_body_record() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/vessels/v%2F9"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"id": "v/9", "name": "Puffin"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let v = c.vessels().get("v/9").await.unwrap();
    assert_eq!((v.id.as_str(), v.name.as_deref()), ("v/9", Some("Puffin")));
}

#[tokio::test]
async fn nested_records_with_a_cursor_into_a_bracketed_parameter_and_a_deep_object() {
    let server = MockServer::start().await;
    let page = |voyages: Value, next: Value| {
        ResponseTemplate::new(200).set_body_json(
            json!({"data": {"paging": {"next": next, "total": 3}, "voyages": voyages}}),
        )
    };
    Mock::given(method("GET"))
        .and(path("/voyages"))
        .and(query_param_is_missing("page[cursor]"))
        .respond_with(page(json!([{"id": "a"}, {"id": "b"}]), json!("c2")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/voyages"))
        .and(query_param("page[cursor]", "c2"))
        .respond_with(page(
            json!([{"id": "c", "departed_at": "2026-11-02T08:00:00Z"}]),
            Value::Null,
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let mut departed = std::collections::BTreeMap::new();
    departed.insert("gte".to_string(), json!("2026-11-01"));
    departed.insert("lt".to_string(), Value::Null);
    let mut req = c.voyages().list();
    req = req.departed(departed);
    let all: Vec<models::Voyage> = req.stream().try_collect().await.unwrap();
    // Without `page[size]`, streams ask for the most the spec allows (100).
    assert_eq!(ids(&all, |v| &v.id), ["a", "b", "c"]);
    assert!(all[2].departed_at.is_some());
    let q = queries(&server, "/voyages").await;
    assert_eq!(
        q,
        [
            "departed%5Bgte%5D=2026-11-01&page%5Bsize%5D=100",
            "departed%5Bgte%5D=2026-11-01&page%5Bcursor%5D=c2&page%5Bsize%5D=100"
        ]
    );
}

#[tokio::test]
async fn a_get_by_query_parameter_takes_the_first_element() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/voyages/lookup"))
        .and(query_param("code", "KB-12"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [{"id": "v12", "code": "KB-12"}, {"id": "other"}]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/voyages/lookup"))
        .and(query_param("code", "none"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let v = c.voyages().get("KB-12").await.unwrap();
    assert_eq!(v.id, "v12");
    // Untyped: the record as the server sent it.
    let raw = c
        .execute("voyages", "get", json!({"code": "KB-12"}))
        .await
        .unwrap();
    assert_eq!(raw, json!({"id": "v12", "code": "KB-12"}));
    // No element: a typed error, not a panic or a default record.
    let e = c.voyages().get("none").await.unwrap_err();
    assert!(matches!(e, Error::Decode { .. }), "{e}");
}

#[tokio::test]
async fn each_element_field_with_a_next_page_url_in_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crew"))
        .and(query_param("limit", "2"))
        .and(query_param_is_missing("after"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"rank": "master", "member": {"id": "m1", "name": "Ada"}},
                        {"rank": "mate", "member": {"id": "m2"}},
                        {"rank": "vacant"}],
            "links": {"next": "/crew?after=m2&limit=2"}
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/crew"))
        .and(query_param("after", "m2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "results": [{"member": {"id": "m3"}}],
            "links": {"next": null}
        })))
        .expect(2)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    // The inline record schema became `models::Crew` (named from the entity).
    // Without a `limit`, the first request asks for the most a page may hold (2).
    let all: Vec<models::Crew> = c.crew().list().stream().try_collect().await.unwrap();
    assert_eq!(ids(&all, |m| &m.id), ["m1", "m2", "m3"]);
    assert_eq!(all[0].name.as_deref(), Some("Ada"));

    // Untyped, the agent way: the next page comes back as `next_page`.
    let first = c
        .execute("crew", "list", json!({"limit": 2}))
        .await
        .unwrap();
    assert_eq!(first["data"].as_array().unwrap().len(), 2);
    let next = first["meta"]["next_cursor"].as_str().unwrap().to_string();
    assert_eq!(next, "/crew?after=m2&limit=2");
    let second = c
        .execute("crew", "list", json!({"next_page": next}))
        .await
        .unwrap();
    assert_eq!(second["data"], json!([{"id": "m3"}]));
}

#[tokio::test]
async fn page_numbers_count_up_while_has_more() {
    let server = MockServer::start().await;
    for (page, ports, more, times) in [
        ("1", json!([{"id": "p1"}, {"id": "p2"}]), true, 1),
        ("2", json!([{"id": "p3"}, {"id": "p4"}]), true, 2),
        ("3", json!([{"id": "p5"}]), false, 1),
    ] {
        Mock::given(method("GET"))
            .and(path("/ports"))
            .and(query_param("page", page))
            .and(query_param("per_page", "2"))
            .respond_with(
                ResponseTemplate::new(200).set_body_json(json!({"ports": ports, "has_more": more})),
            )
            .expect(times)
            .mount(&server)
            .await;
    }
    let c = connector(&server).await;
    let all: Vec<models::Port> = c
        .ports()
        .list()
        .page(1)
        .per_page(2)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&all, |p| &p.id), ["p1", "p2", "p3", "p4", "p5"]);
    // The first page without `page`: the default (1) is where counting starts.
    let raw = c
        .execute("ports", "list", json!({"per_page": 2}))
        .await
        .unwrap_err();
    // (No mock answers a request without `page`: the client sent none, as the spec says an
    // optional default is not sent.)
    assert!(matches!(raw, Error::NotFound(_) | Error::Api(_)), "{raw}");
    let page2 = c
        .execute("ports", "list", json!({"page": "2", "per_page": 2}))
        .await
        .unwrap();
    assert_eq!(page2["meta"]["next_cursor"], "3");
}

#[tokio::test]
async fn a_cursor_in_a_response_header() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/alerts"))
        .and(query_param("harbour_id", "kb"))
        .and(query_param_is_missing("cursor"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("X-Next-Cursor", "k-2")
                .set_body_json(json!({"alerts": [{"id": "a1"}]})),
        )
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/alerts"))
        .and(query_param("cursor", "k-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"alerts": [{"id": "a2"}]})))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let all: Vec<models::Alert> = c.alerts().list().stream().try_collect().await.unwrap();
    assert_eq!(ids(&all, |a| &a.id), ["a1", "a2"]);
    let page = c.alerts().list().send().await.unwrap();
    assert_eq!(page.next_cursor.as_deref(), Some("k-2"));
}

#[tokio::test]
async fn next_page_numbers_from_the_body() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/tides"))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"readings": [{"at": "06:00", "metres": 1.5}], "next_page": 2}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/tides"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"readings": [{"at": "12:00", "metres": 3.25}], "next_page": null}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    // The inline item schema is named from its title.
    let all: Vec<models::TideReading> = c.tides().list().stream().try_collect().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[1].metres, Some(3.25));
}

#[tokio::test]
async fn a_singleton_get_a_virtual_path_and_a_one_object_list() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/me"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"user_id": "u1", "harbour": "Kestrel"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // The key `/ports/{port_id}/berths:active` goes to its override, with the required
    // default sent.
    Mock::given(method("GET"))
        .and(path("/ports/p1/berths"))
        .and(query_param("state", "active"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"berths": [{"id": "b1"}, {"id": "b2", "state": "active"}]})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/harbour/summary"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"arrivals": 4, "departures": 2})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let me: models::Profile = c.profile().get().await.unwrap();
    assert_eq!(me.user_id.as_deref(), Some("u1"));
    let berths: Vec<models::Berth> = c.berths().list("p1").stream().try_collect().await.unwrap();
    assert_eq!(ids(&berths, |b| &b.id), ["b1", "b2"]);
    let summaries = c.summaries().list().send().await.unwrap();
    assert_eq!(summaries.data.len(), 1);
    assert_eq!(summaries.data[0].arrivals, Some(4));
    assert_eq!(summaries.next_cursor, None);
}

#[tokio::test]
async fn configuration_fills_the_base_url_and_scoped_and_injected_parameters() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/alerts"))
        .and(query_param("harbour_id", "kb"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"alerts": [{"id": "a1"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/alerts"))
        .and(query_param("harbour_id", "other"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"alerts": []})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v1/ports"))
        .and(query_param("region", "eu-1"))
        .and(query_param("team", "north"))
        .and(query_param("per_page", "2"))
        .and(header("x-port-zone", "cet"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ports": [], "has_more": false})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // No base_url: the spec's `{origin}/v1` with the origin from the configuration.
    let c = TidewaterConnector::builder()
        .auth(TidewaterAuthConfig::new("tok_1"))
        .origin(server.uri())
        .harbour("kb")
        .region("eu")
        .team_path("north/quay")
        .zone("cet")
        .page_cap("2")
        .no_retries()
        .build()
        .unwrap();
    assert_eq!(c.base_url(), format!("{}/v1", server.uri()));
    // `harbour_id` is required by the API but scoped: the configuration fills it, and an
    // explicit value wins.
    let page = c.alerts().list().send().await;
    let seen: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.to_string())
        .collect();
    let page = page.unwrap_or_else(|e| panic!("{e}: {seen:?}"));
    assert_eq!(page.data[0].id, "a1");
    let other = c
        .execute("alerts", "list", json!({"harbour_id": "other"}))
        .await
        .unwrap();
    assert_eq!(other["data"], json!([]));
    // `region` is injected from the configuration through the spec's map (`eu` → `EU` →
    // `eu-1`); `team` is scoped through `value.split('/')[0]`.
    c.ports().list().send().await.unwrap();

    // Without the scoped value the API's requirement stands, before any request.
    let unscoped = TidewaterConnector::builder()
        .auth(TidewaterAuthConfig::new("tok_1"))
        .origin(server.uri())
        .build()
        .unwrap();
    let before = server.received_requests().await.unwrap().len();
    let e = unscoped.alerts().list().send().await.unwrap_err();
    assert!(e.to_string().contains("harbour_id"), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), before);

    // Unknown keys and a base URL that does not check out are refused at build.
    let e = TidewaterConnector::builder()
        .auth(TidewaterAuthConfig::new("tok_1"))
        .origin("http://harbour.example.com")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("https"), "{e}");
}

#[tokio::test]
async fn a_200_that_says_it_failed_is_an_error() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ports"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"ok": false, "error": "the harbour master's office is closed", "ports": []}),
        ))
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let e = c.ports().list().send().await.unwrap_err();
    assert!(matches!(e, Error::Api(_)), "{e}");
    assert!(e.to_string().contains("office is closed"), "{e}");
    // `ok: true` (or no `ok`) is a normal page.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/ports"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "ports": [{"id": "p1"}], "has_more": false})),
        )
        .mount(&server)
        .await;
    assert_eq!(c.ports().list().send().await.unwrap().data.len(), 1);
}

#[tokio::test]
async fn the_vendors_search_is_a_collection_like_list() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/crew/search"))
        .and(query_param("q", "ada lovelace"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"hits": [{"id": "m1", "name": "Ada", "score": 0.93}], "took_ms": 3}),
        ))
        .expect(3)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let hits: Vec<models::CrewHit> = c
        .crew()
        .search("ada lovelace")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].score, Some(0.93));
    // Untyped, under its name and its deprecated alias.
    for action in ["search", "api_search"] {
        let raw = c
            .execute("crew", action, json!({"q": "ada lovelace"}))
            .await
            .unwrap();
        assert_eq!(raw["data"][0]["id"], "m1", "{action}");
    }
    let e = c.execute("crew", "search", json!({})).await.unwrap_err();
    assert!(e.to_string().contains("requires `q`"), "{e}");
}

#[tokio::test]
async fn members_of_an_object_and_arrays_inside_elements_are_joined() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/moorings/by-state"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "free": [{"id": "m1"}, {"id": "m2"}],
            "as_of": "2026-11-28",
            "taken": [{"id": "m3", "state": "taken"}],
            "unknown_group": null
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/holds/v1/items"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": {"holds": [
            {"hold": "fore", "items_page": {"cursor": "c2", "items": [{"id": "i1", "kg": 10.5}, {"id": "i2"}]}},
            {"hold": "aft", "items_page": {"items": [{"id": "i3"}]}},
            {"hold": "empty"}
        ]}})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/holds/v1/items"))
        .and(query_param("cursor", "c2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"data": {"holds": [
                {"hold": "fore", "items_page": {"cursor": null, "items": [{"id": "i4"}]}}
            ]}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    let moorings: Vec<models::Berth> = c.moorings().list().stream().try_collect().await.unwrap();
    assert_eq!(ids(&moorings, |b| &b.id), ["m1", "m2", "m3"]);
    let raw = c.execute("moorings", "list", json!({})).await.unwrap();
    assert_eq!(raw["data"].as_array().unwrap().len(), 3);
    // The cursor sits in the first hold: `$.data.holds[0].items_page.cursor`.
    let items: Vec<models::CargoItem> = c
        .cargo_items()
        .list("v1")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&items, |i| &i.id), ["i1", "i2", "i3", "i4"]);
    assert_eq!(items[0].kg, Some(10.5));
}

#[tokio::test]
async fn reads_over_post_send_their_parameters_as_a_json_body() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/deckhands.list"))
        .and(header("content-type", "application/json"))
        .and(body_json(
            json!({"limit": 2, "shift": "day", "filter": {"vessel": "v1"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"members": [{"id": "d1"}, {"id": "d2"}], "meta": {"next_cursor": "c2"}}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/deckhands.list"))
        .and(body_json(
            json!({"cursor": "c2", "limit": 2, "shift": "day", "filter": {"vessel": "v1"}}),
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"members": [{"id": "d3"}], "meta": {"next_cursor": null}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/deckhands.info"))
        .and(body_json(json!({"member": "d2"})))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"member": {"id": "d2", "name": "Wren"}})),
        )
        .expect(2)
        .mount(&server)
        .await;
    let c = connector(&server).await;
    // Without `limit`, the most a page may hold (2); the default `shift` always travels; a
    // nested body value passes through.
    let all: Vec<models::Deckhand> = c
        .deckhands()
        .list()
        .filter(json!({"vessel": "v1"}))
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(ids(&all, |d| &d.id), ["d1", "d2", "d3"]);
    let one = c.deckhands().get("d2").await.unwrap();
    assert_eq!(one.name.as_deref(), Some("Wren"));
    let raw = c
        .execute("deckhands", "get", json!({"member": "d2"}))
        .await
        .unwrap();
    assert_eq!(raw["id"], "d2");
    // Body values are checked like any parameter, before any request.
    let before = server.received_requests().await.unwrap().len();
    let e = c
        .execute("deckhands", "list", json!({"shift": "dusk"}))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("dusk"), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

#[tokio::test]
async fn configuration_values_are_typed_and_defaults_stand_in_for_them() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ports"))
        .and(header("x-port-zone", "utc"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"ports": [], "has_more": false})),
        )
        .expect(1)
        .mount(&server)
        .await;
    // Without a `zone`, the header's own default is sent.
    let c = connector(&server).await;
    c.ports().list().send().await.unwrap();
    // A value that does not fit the parameter's type fails before any request.
    let c = TidewaterConnector::builder()
        .auth(TidewaterAuthConfig::new("tok_1"))
        .base_url(&server.uri())
        .unwrap()
        .page_cap("lots")
        .build()
        .unwrap();
    let e = c.ports().list().send().await.unwrap_err();
    assert!(e.to_string().contains("page_cap"), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn record_transforms_and_filters_apply_before_records_are_returned() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/ports/refs"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"ok": true, "ports": ["ports/rotterdam", "ports/kiel"]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/notices"))
        .and(query_param_is_missing("cursor"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true,
            "notices": [
                {"id": "n1", "text": "Buoy moved", "retracted": false, "author": {"name": "Ada"}},
                {"id": "n2", "text": "Wrong", "retracted": true, "author": {"name": "Bo"}},
            ],
            "next": "c2",
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/notices"))
        .and(query_param("cursor", "c2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true,
            "notices": [{"id": "n3", "text": "Dredging", "author": null}],
            "next": null,
        })))
        .mount(&server)
        .await;
    let c = TidewaterConnector::builder()
        .auth(TidewaterAuthConfig::new("tok_1"))
        .base_url(&server.uri())
        .expect("a local base URL")
        .harbour("kb")
        .zone("north")
        .no_retries()
        .build()
        .expect("the connector builds");
    // Bare names become objects of the transform's outputs.
    let refs = c.port_refs().list().await.expect("the refs");
    let keys: Vec<&str> = refs.data.iter().map(|r| r.port_key.as_str()).collect();
    assert_eq!(keys, ["rotterdam", "kiel"]);
    // Outputs are merged over object records; the retracted notice is gone; paging goes on
    // from the unfiltered page's cursor.
    let all: Vec<models::NoticesListRecord> =
        c.notices().list().stream().try_collect().await.unwrap();
    let ids: Vec<&str> = all.iter().map(|n| n.id.as_str()).collect();
    assert_eq!(ids, ["n1", "n3"]);
    assert_eq!(all[0].author_upper.as_deref(), Some("ADA"));
    assert_eq!(all[0].zone.as_deref(), Some("zone north"));
    assert_eq!(
        all[1].author_upper.as_deref(),
        Some("NONE"),
        "a missing value renders as None"
    );
    // The untyped path returns the same records.
    let raw = c.execute("notices", "list", json!({})).await.unwrap();
    assert_eq!(raw["data"].as_array().unwrap().len(), 1);
    assert_eq!(raw["data"][0]["zone"], "zone north");
    assert_eq!(raw["meta"]["next_cursor"], "c2");
}
