//! Wire-level tests of the incident.io emulator (reqwest over 127.0.0.1).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use connector_sdk_emulator::{self as emu_api, Emulator, Fault};
use serde_json::{json, Value};

/// The upstream reference spec (read from `../shared/reference` at test time), as JSON.
/// The upstream reference spec as JSON, from the file `INCIDENT_IO_UPSTREAM_SPEC` names
/// (`.ci/run` sets it; the test that needs it is `#[ignore]`d and run by name there).
fn upstream() -> String {
    let path = std::env::var_os("INCIDENT_IO_UPSTREAM_SPEC").unwrap_or_else(|| {
        panic!("set INCIDENT_IO_UPSTREAM_SPEC to the upstream incident-io connector spec (.ci/run sets it to ../shared/reference/incident-io.connector.yaml)")
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", std::path::Path::new(&path).display()));
    let spec = connector_sdk_codegen::parse("incident-io.connector.yaml", &text).unwrap();
    serde_json::to_string(&spec.doc).unwrap()
}

fn client() -> reqwest::Client {
    // The SDK builds reqwest without a default TLS provider; plain http needs none, but
    // reqwest wants one installed to build a client.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("client")
}

async fn get(emu: &Emulator, path_and_query: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = client()
        .get(format!("{}{}", emu.base_url(), path_and_query))
        .bearer_auth(emu.api_key())
        .send()
        .await
        .expect("request");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

async fn get_json(emu: &Emulator, path_and_query: &str) -> (u16, Value) {
    let (status, _, body) = get(emu, path_and_query).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// Pages through a list endpoint; returns every record and the number of pages.
async fn collect(emu: &Emulator, path: &str, page_size: Option<u32>) -> (Vec<Value>, usize) {
    let field = path.rsplit('/').next().unwrap().to_string();
    let mut after: Option<String> = None;
    let mut out = Vec::new();
    let mut pages = 0;
    loop {
        let mut q = Vec::new();
        if let Some(n) = page_size {
            q.push(format!("page_size={n}"));
        }
        if let Some(a) = &after {
            q.push(format!("after={a}"));
        }
        let url = if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", q.join("&"))
        };
        let (status, body) = get_json(emu, &url).await;
        assert_eq!(status, 200, "{url}: {body}");
        pages += 1;
        let records = body[&field].as_array().expect("records array").clone();
        let meta = body
            .get("pagination_meta")
            .expect("pagination_meta always present");
        if let Some(n) = page_size {
            assert_eq!(meta["page_size"], json!(n));
        }
        out.extend(records);
        match meta.get("after").and_then(Value::as_str) {
            Some(a) => after = Some(a.to_string()),
            None => break,
        }
        assert!(pages < 10_000);
    }
    (out, pages)
}

fn assert_error(body: &Value, status: u16, ty: &str, code: &str) {
    assert_eq!(body["type"], json!(ty), "{body}");
    assert_eq!(body["status"], json!(status), "{body}");
    let rid = body["request_id"].as_str().expect("request_id");
    assert_eq!(rid.len(), 36, "uuid-like request id: {rid}");
    assert_eq!(body["errors"][0]["code"], json!(code), "{body}");
    assert!(body["errors"][0]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

#[test]
fn emulator_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Emulator>();
    check::<emu_api::Faults>();
    check::<emu_api::RecordedRequest>();
}

#[tokio::test]
async fn paginates_1000_incidents_in_4_pages() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 1000)
        .start()
        .await
        .unwrap();
    let (records, pages) = collect(&emu, "/v2/incidents", Some(250)).await;
    assert_eq!(pages, 4);
    assert_eq!(records.len(), 1000);
    let ids: Vec<&str> = records.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), 1000);
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "ids increase with server order");
    for (i, r) in records.iter().enumerate().step_by(97) {
        assert_eq!(Some(r.clone()), emu.record("incidents", i));
        assert_eq!(r["reference"], json!(format!("INC-{}", i + 1)));
    }
    for id in &ids {
        assert_eq!(id.len(), 26);
        assert!(id
            .bytes()
            .all(|b| b"0123456789ABCDEFGHJKMNPQRSTVWXYZ".contains(&b)));
    }
    // created_at increases with the index.
    let created: Vec<&str> = records
        .iter()
        .map(|r| r["created_at"].as_str().unwrap())
        .collect();
    assert!(created.windows(2).all(|w| w[0] < w[1]));
    // The wire: the second request carried the last id of page 1.
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[1].query_param("after"), Some(ids[249]));
    assert_eq!(reqs[1].query_param("page_size"), Some("250"));
    assert_eq!(reqs[0].path, "/v2/incidents");
    assert_eq!(reqs[0].query.as_deref(), Some("page_size=250"));
    assert_eq!(
        reqs[0].header("authorization"),
        Some("Bearer emulator-api-key")
    );
    assert!(reqs[0]
        .headers
        .iter()
        .all(|(k, _)| *k == k.to_ascii_lowercase()));
    assert_eq!(emu.request_count(), 4);
    emu.clear_requests();
    assert_eq!(emu.request_count(), 0);
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn last_page_meta_and_defaults() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    assert_eq!(emu.record_count("incidents"), Some(50));
    assert_eq!(emu.record_count("severities"), Some(5));
    assert_eq!(emu.record_count("nope"), None);
    let (status, body) = get_json(&emu, "/v2/incidents").await;
    assert_eq!(status, 200);
    assert_eq!(body["incidents"].as_array().unwrap().len(), 25);
    assert_eq!(body["pagination_meta"]["page_size"], json!(25));
    assert_eq!(body["pagination_meta"]["total_record_count"], json!(50));
    let after = body["pagination_meta"]["after"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(after, body["incidents"][24]["id"].as_str().unwrap());
    let (_, body) = get_json(&emu, &format!("/v2/incidents?after={after}")).await;
    assert_eq!(body["incidents"].as_array().unwrap().len(), 25);
    assert!(
        body["pagination_meta"].get("after").is_none(),
        "last page: no after"
    );
    assert_eq!(body["pagination_meta"]["page_size"], json!(25));
    // After the very last record: an empty page.
    let last = emu.record("incidents", 49).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = get_json(&emu, &format!("/v2/incidents?after={last}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["incidents"], json!([]));
    assert!(body["pagination_meta"].get("after").is_none());
    // Exact multiple: 50 at 25 = 2 pages, not 3.
    let (records, pages) = collect(&emu, "/v2/incidents", None).await;
    assert_eq!((records.len(), pages), (50, 2));
}

#[tokio::test]
async fn page_size_bounds_are_422() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    for bad in ["0", "251", "-1", "abc", "1.5", "", "99999999999999999999"] {
        let (status, body) = get_json(&emu, &format!("/v2/incidents?page_size={bad}")).await;
        assert_eq!(status, 422, "page_size={bad}");
        assert_error(&body, 422, "validation_error", "invalid_value");
        assert_eq!(body["errors"][0]["source"]["field"], json!("page_size"));
    }
    for ok in ["1", "250"] {
        let (status, _) = get_json(&emu, &format!("/v2/incidents?page_size={ok}")).await;
        assert_eq!(status, 200);
    }
    // alerts: page_size is required and at most 50.
    let (status, body) = get_json(&emu, "/v2/alerts").await;
    assert_eq!(status, 422);
    assert_eq!(body["errors"][0]["source"]["field"], json!("page_size"));
    let (status, _) = get_json(&emu, "/v2/alerts?page_size=51").await;
    assert_eq!(status, 422);
    let (status, body) = get_json(&emu, "/v2/alerts?page_size=50").await;
    assert_eq!(status, 200);
    assert!(body["pagination_meta"].get("after").is_none());
    // users allow 10000.
    let (status, _) = get_json(&emu, "/v2/users?page_size=10000").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn bad_cursor_is_422() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let alert_id = emu.record("alerts", 3).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in [
        "nope",
        "01HK1572QZ6X10000001SD6DT3",
        alert_id.as_str(),
        "%2F..%2F",
    ] {
        let (status, body) = get_json(&emu, &format!("/v2/incidents?after={bad}")).await;
        assert_eq!(status, 422, "after={bad}: {body}");
        assert_error(&body, 422, "validation_error", "invalid_value");
        assert_eq!(body["errors"][0]["source"]["field"], json!("after"));
    }
}

#[tokio::test]
async fn auth_errors() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .api_key("sekrit")
        .start()
        .await
        .unwrap();
    assert_eq!(emu.api_key(), "sekrit");
    let url = format!("{}/v2/incidents", emu.base_url());
    let resp = client().get(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let body: Value = resp.json().await.unwrap();
    assert_error(
        &body,
        401,
        "authentication_error",
        "missing_authorization_material",
    );
    assert_eq!(
        body["errors"][0]["message"],
        json!("No authorization material provided in request")
    );

    for header in ["Bearer wrong", "Basic c2Vrcml0", "sekrit", "Bearer sekrit2"] {
        let resp = client()
            .get(&url)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 401, "{header}");
        let body: Value = resp.json().await.unwrap();
        assert_error(&body, 401, "authentication_error", "access_token_invalid");
        assert!(body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid"));
    }
    let resp = client()
        .get(&url)
        .header("authorization", "bearer sekrit")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    // Get routes are authenticated too.
    let resp = client().get(format!("{url}/1")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[tokio::test]
async fn get_by_id_reference_and_404() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let rec = emu.record("incidents", 41).unwrap();
    let id = rec["id"].as_str().unwrap();
    let (status, body) = get_json(&emu, &format!("/v2/incidents/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["incident"], rec);
    let (status, body) = get_json(&emu, "/v2/incidents/42").await;
    assert_eq!(status, 200);
    assert_eq!(body["incident"]["reference"], json!("INC-42"));
    assert_eq!(body["incident"], rec);
    for missing in [
        "51",
        "0",
        "01HK1572QZ6X10000001SD6DT3",
        "INC-42",
        "..%2Fv1%2Fx%3Fy",
        "%00",
        "%ZZ",
    ] {
        let (status, body) = get_json(&emu, &format!("/v2/incidents/{missing}")).await;
        assert_eq!(status, 404, "{missing}");
        assert_error(&body, 404, "not_found", "not_found");
    }
    assert_eq!(emu.requests().last().unwrap().path, "/v2/incidents/%ZZ");
    let encoded = emu
        .requests()
        .into_iter()
        .find(|r| r.path.contains("%2F"))
        .unwrap();
    assert_eq!(encoded.path, "/v2/incidents/..%2Fv1%2Fx%3Fy");
    // Other entities by id; numeric ids only where there is a reference.
    let sev = emu.record("severities", 2).unwrap();
    let (status, body) = get_json(
        &emu,
        &format!("/v1/severities/{}", sev["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!((status, &body["severity"]), (200, &sev));
    let (status, _) = get_json(&emu, "/v1/severities/1").await;
    assert_eq!(status, 404);
    // An alert id is not an incident id.
    let alert = emu.record("alerts", 0).unwrap();
    let (status, _) = get_json(
        &emu,
        &format!("/v2/incidents/{}", alert["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn unknown_routes_are_empty_404s() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let c = client();
    for path in [
        "/",
        "/v2",
        "/v2/incidentz",
        "/v3/incidents",
        "/v2/incidents/",
        "/v2/incidents/x/y",
        "/v2/incident_updates/abc",
        "/v2/incidents?x=%2F",
    ] {
        for auth in [true, false] {
            let mut req = c.get(format!("{}{path}", emu.base_url()));
            if auth {
                req = req.bearer_auth(emu.api_key());
            }
            let resp = req.send().await.unwrap();
            if path == "/v2/incidents?x=%2F" {
                assert_eq!(resp.status().as_u16(), if auth { 200 } else { 401 });
                continue;
            }
            assert_eq!(resp.status().as_u16(), 404, "{path}");
            assert_eq!(resp.text().await.unwrap(), "", "{path}");
        }
    }
    for method in ["POST", "PUT", "DELETE", "PATCH", "HEAD"] {
        let resp = c
            .request(
                method.parse().unwrap(),
                format!("{}/v2/incidents", emu.base_url()),
            )
            .bearer_auth(emu.api_key())
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{method}");
        assert_eq!(resp.text().await.unwrap(), "");
    }
    let post = emu
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .unwrap();
    assert_eq!(&post.body[..], b"{}");
}

#[tokio::test]
async fn unpaginated_lists_and_headers() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("severities", 7)
        .start()
        .await
        .unwrap();
    let (status, headers, body) = get(&emu, "/v1/severities").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(headers["x-ratelimit-limit"], "1200");
    let remaining: u64 = headers["x-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(remaining <= 1200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        body.as_object().unwrap().len(),
        1,
        "no pagination_meta: {body}"
    );
    assert_eq!(body["severities"].as_array().unwrap().len(), 7);
    // page_size on an unpaginated list is ignored.
    let (status, body) = get_json(&emu, "/v1/severities?page_size=2").await;
    assert_eq!(status, 200);
    assert_eq!(body["severities"].as_array().unwrap().len(), 7);
}

#[tokio::test]
async fn incident_updates_filter_by_incident() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 10)
        .count("incident_updates", 200)
        .start()
        .await
        .unwrap();
    let all = collect(&emu, "/v2/incident_updates", Some(250)).await.0;
    assert_eq!(all.len(), 200);
    let target = all[0]["incident_id"].as_str().unwrap().to_string();
    let expected: Vec<&Value> = all
        .iter()
        .filter(|u| u["incident_id"] == json!(target))
        .collect();
    assert!(expected.len() > 1);
    let mut got = Vec::new();
    let mut after = String::new();
    loop {
        let (status, body) = get_json(
            &emu,
            &format!("/v2/incident_updates?incident_id={target}&page_size=3&after={after}"),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            body["pagination_meta"]["total_record_count"],
            json!(expected.len())
        );
        got.extend(body["incident_updates"].as_array().unwrap().clone());
        match body["pagination_meta"]["after"].as_str() {
            Some(a) => after = a.to_string(),
            None => break,
        }
    }
    assert_eq!(got.iter().collect::<Vec<_>>(), expected);
    // Every incident_id is a real incident.
    let incident_ids: HashSet<String> = (0..10)
        .map(|i| {
            emu.record("incidents", i).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(all.iter().all(|u| u
        .get("incident_id")
        .is_none_or(|v| v.is_null() || incident_ids.contains(v.as_str().unwrap()))));
}

#[tokio::test]
async fn deterministic_by_seed() {
    let a = Emulator::builder(incident_io_connector::SPEC_JSON)
        .seed(9)
        .start()
        .await
        .unwrap();
    let b = Emulator::builder(incident_io_connector::SPEC_JSON)
        .seed(9)
        .start()
        .await
        .unwrap();
    let c = Emulator::builder(incident_io_connector::SPEC_JSON)
        .seed(10)
        .start()
        .await
        .unwrap();
    for e in a.entities() {
        for i in 0..a.record_count(&e).unwrap() {
            assert_eq!(a.record(&e, i), b.record(&e, i));
        }
        assert_ne!(
            a.record(&e, 0).unwrap()["id"],
            c.record(&e, 0).unwrap()["id"]
        );
    }
    assert_eq!(
        get_json(&a, "/v2/incidents").await,
        get_json(&b, "/v2/incidents").await
    );
}

// ───────────────────────────── faults ─────────────────────────────

#[tokio::test]
async fn fault_429_and_5xx_bodies() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    emu.faults().push(Fault::rate_limited(1));
    emu.faults().push(Fault::status(500));
    emu.faults().push(Fault::Status {
        status: 503,
        retry_after: Some("Wed, 21 Oct 2015 07:28:00 GMT".into()),
        body: Some("{\"x\":1}".into()),
    });
    assert_eq!(emu.faults().pending(), 3);

    let (status, headers, body) = get(&emu, "/v2/incidents").await;
    assert_eq!(status, 429);
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(headers["content-type"], "application/json");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_error(&body, 429, "too_many_requests", "too_many_requests");
    assert_eq!(body["rate_limit"]["limit"], json!(1200));
    assert_eq!(body["rate_limit"]["remaining"], json!(0));
    let ra = body["rate_limit"]["retry_after"].as_str().unwrap();
    assert!(
        ra.len() == 20 && ra.ends_with('Z') && ra.as_bytes()[10] == b'T',
        "{ra}"
    );
    assert!(body["rate_limit"]["name"].is_string());

    let (status, headers, body) = get(&emu, "/v2/incidents").await;
    assert_eq!(status, 500);
    assert!(headers.get("retry-after").is_none());
    assert_error(
        &serde_json::from_str(&body).unwrap(),
        500,
        "api_error",
        "internal_error",
    );

    let (status, headers, body) = get(&emu, "/v2/incidents").await;
    assert_eq!(status, 503);
    assert_eq!(headers["retry-after"], "Wed, 21 Oct 2015 07:28:00 GMT");
    assert_eq!(body, "{\"x\":1}");

    assert_eq!(emu.faults().pending(), 0);
    let (status, _, _) = get(&emu, "/v2/incidents").await;
    assert_eq!(status, 200);
    assert_eq!(emu.request_count(), 4, "faulted requests are logged too");
}

#[tokio::test]
async fn fault_push_n_and_unknown_routes() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    emu.faults().push_n(Fault::status(502), 3);
    for _ in 0..3 {
        assert_eq!(get(&emu, "/nope").await.0, 502);
    }
    assert_eq!(get(&emu, "/nope").await.0, 404);
    emu.faults().push_n(Fault::status(502), 5);
    emu.faults().clear();
    assert_eq!(get(&emu, "/v2/incidents").await.0, 200);
    // The control path is never faulted or logged.
    emu.faults().push(Fault::status(500));
    let before = emu.request_count();
    let resp = client()
        .get(format!("{}/__emulator/health", emu.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(emu.request_count(), before);
    assert_eq!(emu.faults().pending(), 1);
}

#[tokio::test]
async fn fault_html_and_empty() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    emu.faults().push(Fault::Html { status: 502 });
    emu.faults().push(Fault::EmptyBody { status: 503 });
    let (status, headers, body) = get(&emu, "/v2/incidents").await;
    assert_eq!(status, 502);
    assert_eq!(headers["content-type"], "text/html");
    assert!(body.contains("<html>") && body.contains("502 Bad Gateway"));
    let (status, headers, body) = get(&emu, "/v2/incidents").await;
    assert_eq!(status, 503);
    assert_eq!(body, "");
    assert_eq!(headers["content-length"], "0");
}

#[tokio::test]
async fn fault_truncated_body() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let (_, _, full) = get(&emu, "/v2/incidents?page_size=10").await;
    emu.faults().push(Fault::TruncatedBody);
    let (status, headers, body) = get(&emu, "/v2/incidents?page_size=10").await;
    assert_eq!(status, 200);
    assert_eq!(body.len(), full.len() / 2);
    assert_eq!(
        headers["content-length"].to_str().unwrap(),
        body.len().to_string()
    );
    assert!(full.starts_with(&body));
    assert!(serde_json::from_str::<Value>(&body).is_err());
}

#[tokio::test]
async fn fault_delay_and_latency() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    emu.faults().push(Fault::Delay(Duration::from_millis(300)));
    let t = Instant::now();
    assert_eq!(get(&emu, "/v2/incidents").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(300));
    let t = Instant::now();
    assert_eq!(get(&emu, "/v2/incidents").await.0, 200);
    assert!(t.elapsed() < Duration::from_millis(250));
    emu.faults().set_latency(Duration::from_millis(150));
    let t = Instant::now();
    assert_eq!(get(&emu, "/v2/incidents").await.0, 200);
    assert!(t.elapsed() >= Duration::from_millis(150));
    emu.faults().reset();
    let t = Instant::now();
    assert_eq!(get(&emu, "/v2/incidents").await.0, 200);
    assert!(t.elapsed() < Duration::from_millis(140));
}

#[tokio::test]
async fn fault_stall_sends_headers_first() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    emu.faults().push(Fault::Stall(Duration::from_millis(700)));
    let t = Instant::now();
    let resp = client()
        .get(format!("{}/v2/incidents", emu.base_url()))
        .bearer_auth(emu.api_key())
        .send()
        .await
        .unwrap();
    let headers_at = t.elapsed();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(
        headers_at < Duration::from_millis(400),
        "headers took {headers_at:?}"
    );
    let body: Value = resp.json().await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(700));
    assert_eq!(body["incidents"].as_array().unwrap().len(), 25);

    // A client read timeout shorter than the stall fails while reading the body.
    emu.faults().push(Fault::Stall(Duration::from_secs(5)));
    let c = reqwest::Client::builder()
        .read_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let resp = c
        .get(format!("{}/v2/incidents", emu.base_url()))
        .bearer_auth(emu.api_key())
        .send()
        .await
        .unwrap();
    let err = resp.bytes().await.unwrap_err();
    assert!(
        err.is_timeout() || err.is_body() || err.is_decode(),
        "{err:?}"
    );
}

#[tokio::test]
async fn fault_reset_connection() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    let c = client();
    let url = format!("{}/v2/incidents", emu.base_url());
    // Warm a pooled connection first, so the reset hits a reused one.
    assert_eq!(
        c.get(&url)
            .bearer_auth(emu.api_key())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    emu.faults().push(Fault::ResetConnection);
    let err = c
        .get(&url)
        .bearer_auth(emu.api_key())
        .send()
        .await
        .unwrap_err();
    assert!(err.is_request() || err.is_connect(), "{err:?}");
    assert!(err.status().is_none());
    assert_eq!(
        c.get(&url)
            .bearer_auth(emu.api_key())
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(emu.faults().pending(), 0);
    // Fresh connection too.
    emu.faults().push(Fault::ResetConnection);
    let err = client()
        .get(&url)
        .bearer_auth(emu.api_key())
        .send()
        .await
        .unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
}

#[tokio::test]
async fn random_failures_are_deterministic() {
    async fn run(seed: u64) -> Vec<u16> {
        let emu = Emulator::start(incident_io_connector::SPEC_JSON)
            .await
            .unwrap();
        emu.faults().set_random_failure_rate(0.3, seed);
        let mut out = Vec::new();
        for _ in 0..60 {
            let (status, headers, _) = get(&emu, "/v2/incidents?page_size=1").await;
            if status == 429 {
                assert_eq!(headers["retry-after"], "0");
            }
            out.push(status);
        }
        out
    }
    let a = run(7).await;
    assert_eq!(a, run(7).await);
    assert_ne!(a, run(8).await);
    let failed = a.iter().filter(|&&s| s != 200).count();
    assert!((5..=35).contains(&failed), "{failed} of 60 failed");
    assert!(a.iter().all(|s| [200, 429, 500, 502, 503].contains(s)));
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    emu.faults().set_random_failure_rate(0.0, 1);
    assert_eq!(get(&emu, "/v2/incidents").await.0, 200);
}

// ───────────────────────────── specs ─────────────────────────────

#[tokio::test]
#[ignore = "needs the upstream reference spec: INCIDENT_IO_UPSTREAM_SPEC (run by .ci/run)"]
async fn upstream_spec_serves() {
    let upstream = upstream();
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .spec_json(&upstream)
        .count("incidents", 300)
        .start()
        .await
        .unwrap();
    let mut entities = emu.entities();
    entities.sort();
    assert!(entities.contains(&"incidents".to_string()));
    assert_eq!(entities.len(), 12);
    let (records, pages) = collect(&emu, "/v2/incidents", Some(100)).await;
    assert_eq!((records.len(), pages), (300, 3));
    let (status, body) = get_json(&emu, "/v2/incidents/7").await;
    assert_eq!(status, 200);
    assert_eq!(body["incident"], records[6]);
    // upstream alerts: page_size optional.
    let (status, _) = get_json(&emu, "/v2/alerts").await;
    assert_eq!(status, 200);
    validate_all(&emu, &upstream).await;
}

#[tokio::test]
async fn bad_spec_is_invalid_data() {
    let err = Emulator::builder(incident_io_connector::SPEC_JSON)
        .spec_json("{")
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    let err = Emulator::builder(incident_io_connector::SPEC_JSON)
        .spec_json("{\"paths\":{}}")
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
}

#[tokio::test]
async fn added_entity_is_served_without_code_changes() {
    let mut spec: Value = serde_json::from_str(incident_io_connector::SPEC_JSON).unwrap();
    spec["paths"]["/v2/workflows"] = json!({"get": {
        "operationId": "listWorkflows",
        "x-airbyte-entity": "workflows", "x-airbyte-action": "list",
        "x-airbyte-record-extractor": "$.workflows",
        "x-airbyte-meta-extractor": {"next_cursor": "$.pagination_meta.after"},
        "parameters": [
            {"name": "page_size", "in": "query", "required": false,
             "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
            {"name": "after", "in": "query", "required": false, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
            "type": "object", "properties": {
                "workflows": {"type": "array", "items": {"$ref": "#/components/schemas/Workflow"}},
                "pagination_meta": {"$ref": "#/components/schemas/PaginationMeta"}}}}}}}}});
    spec["paths"]["/v2/workflows/{id}"] = json!({"get": {
        "operationId": "getWorkflow",
        "x-airbyte-entity": "workflows", "x-airbyte-action": "get",
        "x-airbyte-record-extractor": "$.workflow",
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
            "type": "object", "properties": {"workflow": {"$ref": "#/components/schemas/Workflow"}}}}}}}}});
    spec["components"]["schemas"]["Workflow"] = json!({
        "type": "object", "required": ["id", "name"],
        "properties": {
            "id": {"type": "string"}, "name": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "member_ids": {"type": ["array", "null"], "items": {"type": "string"}},
            "lead": {"$ref": "#/components/schemas/UserRef"},
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "parent": {"$ref": "#/components/schemas/Workflow"}}});
    let text = spec.to_string();
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .spec_json(&text)
        .count("workflows", 45)
        .start()
        .await
        .unwrap();
    assert!(emu.entities().contains(&"workflows".to_string()));
    let (records, pages) = collect(&emu, "/v2/workflows", None).await;
    assert_eq!((records.len(), pages), (45, 3));
    assert!(
        records[0]["name"]
            .as_str()
            .unwrap()
            .starts_with("Workflow 1: "),
        "{}",
        records[0]["name"]
    );
    let id = records[44]["id"].as_str().unwrap();
    let (status, body) = get_json(&emu, &format!("/v2/workflows/{id}")).await;
    assert_eq!((status, &body["workflow"]), (200, &records[44]));
    let (status, _) = get_json(&emu, "/v2/workflows?page_size=101").await;
    assert_eq!(status, 422);
    // Foreign ids point at records of the entity they name: incident team_ids at teams.
    let teams = collect(&emu, "/v3/teams", Some(250)).await.0;
    let team_ids: HashSet<&str> = teams.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let incidents = collect(&emu, "/v2/incidents", Some(250)).await.0;
    let referenced: Vec<&str> = incidents
        .iter()
        .filter_map(|i| i["team_ids"].as_array())
        .flatten()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(!referenced.is_empty());
    assert!(referenced.iter().all(|id| team_ids.contains(id)));
    validate_all(&emu, &text).await;
}

#[tokio::test]
async fn large_uncached_entity() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 30_000)
        .start()
        .await
        .unwrap();
    let id = emu.record("incidents", 29_997).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = get_json(&emu, &format!("/v2/incidents?page_size=250&after={id}")).await;
    assert_eq!(status, 200);
    let recs = body["incidents"].as_array().unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[1], emu.record("incidents", 29_999).unwrap());
    assert!(body["pagination_meta"].get("after").is_none());
    let (status, body) = get_json(&emu, "/v2/incidents/30000").await;
    assert_eq!(status, 200);
    assert_eq!(body["incident"]["reference"], json!("INC-30000"));
}

#[tokio::test]
async fn served_records_match_the_spec() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .default_count(60)
        .start()
        .await
        .unwrap();
    validate_all(&emu, incident_io_connector::SPEC_JSON).await;
}

// ───────────────────────────── schema check ─────────────────────────────

/// Fetches every record of every entity over HTTP and validates it against the spec.
async fn validate_all(emu: &Emulator, spec_text: &str) {
    let spec: Value = serde_json::from_str(spec_text).unwrap();
    let mut checked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        let op = &item["get"];
        if op["x-airbyte-action"] != json!("list") {
            continue;
        }
        let field = op["x-airbyte-record-extractor"]
            .as_str()
            .unwrap()
            .trim_start_matches("$.");
        let schema = &op["responses"]["200"]["content"]["application/json"]["schema"]["properties"]
            [field]["items"];
        let paginated = op.get("x-airbyte-meta-extractor").is_some();
        let max = op["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == json!("page_size")))
            .and_then(|p| p["schema"]["maximum"].as_u64())
            .unwrap_or(100)
            .min(250) as u32;
        let records = if paginated {
            collect(emu, path, Some(max)).await.0
        } else {
            let (status, body) = get_json(emu, path).await;
            assert_eq!(status, 200, "{path}");
            body[field].as_array().unwrap().clone()
        };
        let entity = op["x-airbyte-entity"].as_str().unwrap();
        assert_eq!(records.len(), emu.record_count(entity).unwrap(), "{entity}");
        let mut seen = HashSet::new();
        for r in &records {
            validate(&spec, schema, r, &format!("{entity}[{}]", r["id"]), 0);
            assert!(seen.insert(r["id"].as_str().unwrap().to_string()));
            checked += 1;
        }
    }
    assert!(checked > 0);
}

fn resolve<'a>(spec: &'a Value, mut s: &'a Value) -> &'a Value {
    while let Some(r) = s.get("$ref").and_then(Value::as_str) {
        s = spec.pointer(r.trim_start_matches('#')).unwrap();
    }
    s
}

fn validate(spec: &Value, schema: &Value, v: &Value, at: &str, depth: usize) {
    let s = resolve(spec, schema);
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().map(|t| t.as_str().unwrap()).collect(),
        _ => vec![],
    };
    if v.is_null() {
        assert!(
            types.contains(&"null") || s["nullable"] == json!(true),
            "{at}: null not allowed"
        );
        return;
    }
    if let Some(e) = s.get("enum").and_then(Value::as_array) {
        assert!(e.contains(v), "{at}: {v} not in enum");
    }
    let ok = types.is_empty()
        || types.iter().any(|t| match *t {
            "string" => v.is_string(),
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "boolean" => v.is_boolean(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            _ => false,
        });
    assert!(ok, "{at}: {v} is not {types:?}");
    if s.get("format") == Some(&json!("date-time")) {
        let t = v.as_str().unwrap();
        assert!(
            t.len() == 27 && t.ends_with('Z') && &t[10..11] == "T",
            "{at}: {t}"
        );
    }
    if let (Some(min), Some(n)) = (s.get("minimum").and_then(Value::as_f64), v.as_f64()) {
        assert!(n >= min, "{at}");
    }
    if let Some(obj) = v.as_object() {
        let props = s.get("properties").and_then(Value::as_object);
        for req in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if depth < 5 {
                assert!(
                    obj.contains_key(req.as_str().unwrap()),
                    "{at}: missing required {req}"
                );
            }
        }
        for (k, child) in obj {
            match props.and_then(|p| p.get(k)) {
                Some(cs) => validate(spec, cs, child, &format!("{at}.{k}"), depth + 1),
                None => match s.get("additionalProperties") {
                    Some(ap) if ap.is_object() => {
                        validate(spec, ap, child, &format!("{at}.{k}"), depth + 1)
                    }
                    _ => panic!("{at}: unexpected property {k}"),
                },
            }
        }
    }
    if let (Some(arr), Some(items)) = (v.as_array(), s.get("items")) {
        assert!(arr.len() <= 2, "{at}: {} items", arr.len());
        for (i, item) in arr.iter().enumerate() {
            validate(spec, items, item, &format!("{at}[{i}]"), depth + 1);
        }
    }
}
