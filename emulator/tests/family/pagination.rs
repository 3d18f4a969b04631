//! Every pagination form of `pagination.yaml`, walked page by page as a client following
//! the form would; each walk must see every record exactly once.

use connector_sdk_emulator::Emulator;
use serde_json::{json, Value};

use crate::common::{assert_all_once, get, link_next, qs, query_param, records_at, spec};
use crate::walk;

async fn pinecrest() -> Emulator {
    Emulator::builder(&spec("pagination.yaml"))
        .count("employees", 23)
        .count("departments", 41)
        .count("time_off", 17)
        .count("locations", 13)
        .count("teams", 30)
        .count("documents", 60)
        .count("report_records", 55)
        .count("audit_events", 31)
        .count("payslips", 23)
        .count("holidays", 9)
        .count("job_titles", 7)
        .start()
        .await
        .unwrap()
}

fn at(v: &Value, p: &str) -> Vec<Value> {
    records_at(v, p)
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

#[tokio::test]
async fn body_cursor_into_after() {
    let emu = pinecrest().await;
    let (records, pages) = walk(
        &emu,
        "/employees?limit=5",
        &[],
        |b| at(b, "/employees"),
        |r| {
            text(r.json().pointer("/paging/after"))
                .map(|c| format!("/employees?{}", qs(&[("limit", "5"), ("after", &c)])))
        },
    )
    .await;
    assert_eq!(pages.len(), 5);
    assert_all_once(&emu, "employees", &records);
    // The cursor is the id of the page's last record; absent on the last page, beside
    // page_size and total_record_count.
    let first = pages[0].json();
    assert_eq!(first["paging"]["after"], first["employees"][4]["id"]);
    assert_eq!(first["paging"]["page_size"], json!(5));
    assert_eq!(first["paging"]["total_record_count"], json!(23));
    assert!(pages[4].json()["paging"].get("after").is_none());
    assert_eq!(pages[4].json()["employees"].as_array().unwrap().len(), 3);
    // Default page size (25) and the maximum (100) clamps; below the minimum is a 422.
    let r = get(&emu, "/employees", &[]).await;
    assert_eq!(r.json()["employees"].as_array().unwrap().len(), 23);
    let big = Emulator::builder(&spec("pagination.yaml"))
        .count("employees", 230)
        .start()
        .await
        .unwrap();
    let r = get(&big, "/employees?limit=1000", &[]).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["employees"].as_array().unwrap().len(), 100);
    for bad in ["0", "-3", "x", "1.5"] {
        let r = get(&big, &format!("/employees?limit={bad}"), &[]).await;
        assert_eq!(r.status, 422, "limit={bad}");
        assert_eq!(r.at("/errors/0/source/field"), json!("limit"));
    }
    let strict = Emulator::builder(&spec("pagination.yaml"))
        .reject_oversized_pages(true)
        .start()
        .await
        .unwrap();
    assert_eq!(get(&strict, "/employees?limit=101", &[]).await.status, 422);
    // A cursor that names no record of this entity is a 422 naming the parameter.
    let r = get(&emu, "/employees?after=nope", &[]).await;
    assert_eq!(
        (r.status, r.at("/errors/0/source/field")),
        (422, json!("after"))
    );
}

#[tokio::test]
async fn body_cursor_into_bracketed_param() {
    let emu = pinecrest().await;
    let (records, pages) = walk(
        &emu,
        "/departments?page%5Bsize%5D=10",
        &[],
        |b| at(b, "/data"),
        |r| {
            text(r.json().pointer("/meta/page/next_cursor")).map(|c| {
                format!(
                    "/departments?{}",
                    qs(&[("page[size]", "10"), ("page[cursor]", &c)])
                )
            })
        },
    )
    .await;
    assert_eq!(pages.len(), 5);
    assert_all_once(&emu, "departments", &records);
    let log = emu.requests();
    assert_eq!(log[1].query_param("page[size]"), Some("10"));
    assert!(log[1].query_param("page[cursor]").is_some());
    // page[size] maximum 100 clamps.
    let r = get(&emu, "/departments?page%5Bsize%5D=500", &[]).await;
    assert_eq!(r.json()["data"].as_array().unwrap().len(), 41);
}

#[tokio::test]
async fn page_numbers_with_has_more() {
    let emu = pinecrest().await;
    let (records, pages) = walk(
        &emu,
        "/time_off?per_page=4",
        &[],
        |b| at(b, "/requests"),
        |r| {
            let b = r.json();
            (b["has_more"] == json!(true)).then(|| {
                let next = b["page"].as_i64().unwrap() + 1;
                format!("/time_off?per_page=4&page={next}")
            })
        },
    )
    .await;
    assert_eq!(pages.len(), 5);
    assert_all_once(&emu, "time_off", &records);
    let pages: Vec<Value> = pages.iter().map(|p| p.json()).collect();
    assert_eq!(pages[0]["page"], json!(1));
    assert_eq!(pages[4]["page"], json!(5));
    assert_eq!(pages[4]["has_more"], json!(false));
    // Past the end: an empty page without more; page 0 is below the minimum.
    let r = get(&emu, "/time_off?per_page=4&page=9", &[]).await;
    assert_eq!(
        (r.json()["requests"].clone(), r.json()["has_more"].clone()),
        (json!([]), json!(false))
    );
    assert_eq!(get(&emu, "/time_off?page=0", &[]).await.status, 422);
}

#[tokio::test]
async fn link_header_with_declared_page_param() {
    let emu = pinecrest().await;
    // Requested under the server's path prefix (/v2): the links keep it.
    let (records, pages) = walk(
        &emu,
        "/v2/locations?per_page=5",
        &[],
        |b| at(b, "/locations"),
        |r| r.header("link").and_then(link_next),
    )
    .await;
    assert_eq!(pages.len(), 3);
    assert_all_once(&emu, "locations", &records);
    let link = pages[0].header("link").unwrap();
    assert_eq!(
        link,
        format!(
            "<{}/v2/locations?per_page=5&page=2>; rel=\"next\"",
            emu.base_url()
        )
    );
    assert!(
        pages[2].header("link").is_none(),
        "no Link on the last page"
    );
    // Following by the declared param works as well as following the URL.
    let url = link_next(link).unwrap();
    assert_eq!(query_param(&url, "page").as_deref(), Some("2"));
    let r = get(&emu, "/locations?per_page=5&page=2", &[]).await;
    assert_eq!(r.json()["locations"], pages[1].json()["locations"]);
}

#[tokio::test]
async fn link_header_with_undeclared_param() {
    let emu = pinecrest().await;
    let (records, pages) = walk(
        &emu,
        "/teams",
        &[],
        |b| at(b, "/teams"),
        |r| r.header("link").and_then(link_next),
    )
    .await;
    // No page-size parameter: pages of 25.
    assert_eq!(pages.len(), 2);
    assert_all_once(&emu, "teams", &records);
    // Integer ids are the records' ordinals.
    assert_eq!(records[0]["id"], json!(1));
    assert_eq!(records[29]["id"], json!(30));
}

#[tokio::test]
async fn next_page_url_in_the_body() {
    let emu = pinecrest().await;
    let (records, pages) = walk(
        &emu,
        "/documents",
        &[],
        |b| at(b, "/documents"),
        |r| text(r.json().get("next_page_url")),
    )
    .await;
    assert_eq!(pages.len(), 3);
    assert_all_once(&emu, "documents", &records);
    let url = pages[0].json()["next_page_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        url.starts_with(&format!("{}/documents?page_token=", emu.base_url())),
        "{url}"
    );
    assert_eq!(pages[2].json()["next_page_url"], Value::Null);
    // The declared page_token can be echoed instead of fetching the URL.
    let token = query_param(&url, "page_token").unwrap();
    let r = get(
        &emu,
        &format!("/documents?{}", qs(&[("page_token", &token)])),
        &[],
    )
    .await;
    assert_eq!(r.json()["documents"], pages[1].json()["documents"]);
}

#[tokio::test]
async fn api_path_in_the_body() {
    let emu = pinecrest().await;
    let (records, pages) = walk(
        &emu,
        "/v2/reports/headcount",
        &[],
        |b| at(b, "/records"),
        |r| {
            let b = r.json();
            // An API path: resolved against the origin.
            text(b.get("nextRecordsUrl")).map(|p| {
                assert!(p.starts_with("/v2/reports/headcount?"), "{p}");
                p
            })
        },
    )
    .await;
    assert_eq!(pages.len(), 3);
    assert_all_once(&emu, "report_records", &records);
    let bodies: Vec<Value> = pages.iter().map(|p| p.json()).collect();
    assert_eq!(bodies[0]["done"], json!(false));
    assert_eq!(bodies[0]["totalSize"], json!(55));
    assert_eq!(bodies[2]["done"], json!(true));
    assert_eq!(bodies[2]["nextRecordsUrl"], Value::Null);
}

#[tokio::test]
async fn cursor_in_a_response_header() {
    let emu = pinecrest().await;
    let (records, pages) = walk(
        &emu,
        "/audit_events",
        &[],
        |b| at(b, "/events"),
        |r| {
            r.header("x-next-cursor")
                .map(|c| format!("/audit_events?{}", qs(&[("cursor", c)])))
        },
    )
    .await;
    assert_eq!(pages.len(), 2);
    assert_all_once(&emu, "audit_events", &records);
    assert!(pages[1].header("x-next-cursor").is_none());
}

#[tokio::test]
async fn offset_and_limit_with_a_total() {
    let emu = pinecrest().await;
    let (records, pages) = walk(
        &emu,
        "/payslips?limit=10",
        &[],
        |b| at(b, "/items"),
        |r| {
            let b = r.json();
            let next = b["offset"].as_u64().unwrap() + b["items"].as_array().unwrap().len() as u64;
            (next < b["total"].as_u64().unwrap())
                .then(|| format!("/payslips?limit=10&offset={next}"))
        },
    )
    .await;
    assert_eq!(pages.len(), 3);
    assert_all_once(&emu, "payslips", &records);
    let b = pages[1].json();
    assert_eq!(
        (b["offset"].clone(), b["limit"].clone(), b["total"].clone()),
        (json!(10), json!(10), json!(23))
    );
    assert_eq!(get(&emu, "/payslips?offset=-1", &[]).await.status, 422);
}

#[tokio::test]
async fn no_pagination_returns_everything() {
    let emu = pinecrest().await;
    let r = get(&emu, "/holidays?year=2024", &[]).await;
    assert_eq!(r.status, 200);
    assert_all_once(&emu, "holidays", &at(&r.json(), "/holidays"));
    assert_eq!(r.json().as_object().unwrap().len(), 1, "no paging meta");
    // Page params are accepted but the whole list comes back (a short page: the last).
    let r = get(&emu, "/job_titles?page=1&limit=2", &[]).await;
    assert_all_once(&emu, "job_titles", &at(&r.json(), "/job_titles"));
    // Default record counts: 50 for paginated lists, 5 for the others.
    let d = Emulator::start(&spec("pagination.yaml")).await.unwrap();
    assert_eq!(d.record_count("employees"), Some(50));
    assert_eq!(d.record_count("holidays"), Some(5));
}
