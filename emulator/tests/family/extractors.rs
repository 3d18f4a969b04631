//! Every record-extractor form of `extractors.yaml`: where the records sit in the body, and
//! the meta values around them.

use connector_sdk_emulator::Emulator;
use serde_json::{json, Value};

use crate::common::{assert_all_once, get, link_next, qs, records_at, spec};
use crate::walk;

async fn marlin() -> Emulator {
    Emulator::builder(&spec("extractors.yaml"))
        .count("campaigns", 12)
        .count("tags", 6)
        .count("report_rows", 27)
        .count("contacts", 60)
        .count("list_members", 33)
        .count("segments", 10)
        .count("board_items", 29)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn nested_field_and_absent_extractor() {
    let emu = marlin().await;
    // `$.campaigns` with `$.paging.cursors.after`.
    let (records, _) = walk(
        &emu,
        "/campaigns",
        &[],
        |b| records_at(b, "/campaigns"),
        |r| {
            r.json()
                .pointer("/paging/cursors/after")
                .and_then(Value::as_str)
                .map(|c| format!("/campaigns?after={c}"))
        },
    )
    .await;
    assert_all_once(&emu, "campaigns", &records);
    // Absent extractor on a get: the body is the record.
    let rec = emu.record("campaigns", 7).unwrap();
    let r = get(
        &emu,
        &format!("/campaigns/{}", rec["id"].as_str().unwrap()),
        &[],
    )
    .await;
    assert_eq!((r.status, r.json()), (200, rec));
    assert_eq!(get(&emu, "/campaigns/nope", &[]).await.status, 404);
}

#[tokio::test]
async fn root_array() {
    let emu = marlin().await;
    let r = get(&emu, "/tags", &[]).await;
    assert_eq!(r.status, 200);
    let body = r.json();
    assert!(body.is_array(), "{body}");
    assert_all_once(&emu, "tags", body.as_array().unwrap());
}

#[tokio::test]
async fn three_levels_with_a_header_cursor() {
    let emu = marlin().await;
    let (records, pages) = walk(
        &emu,
        "/reports/r1/rows",
        &[],
        |b| records_at(b, "/result/report/rows"),
        |r| {
            r.header("x-next-cursor")
                .map(|c| format!("/reports/r1/rows?{}", qs(&[("cursor", c)])))
        },
    )
    .await;
    assert_eq!(pages.len(), 2);
    assert_all_once(&emu, "report_rows", &records);
    // The six-level body meta holds the total.
    assert_eq!(
        pages[0].at("/result/report/meta/totals/rows/count"),
        json!(27)
    );
}

#[tokio::test]
async fn first_element_for_a_get_without_path_id() {
    let emu = marlin().await;
    let rec = emu.record("contacts", 3).unwrap();
    let email = rec["email"].as_str().unwrap();
    let r = get(
        &emu,
        &format!("/contacts/lookup?{}", qs(&[("email", email)])),
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({ "data": [rec] }));
    // No match: an empty list, as the API answers.
    let r = get(&emu, "/contacts/lookup?email=nobody%40example.org", &[]).await;
    assert_eq!((r.status, r.json()), (200, json!({ "data": [] })));
    // The email is required.
    let r = get(&emu, "/contacts/lookup", &[]).await;
    assert_eq!(
        (r.status, r.at("/errors/0/source/field")),
        (400, json!("email"))
    );
    // `@link.next` with the declared page/per_page.
    let (records, pages) = walk(
        &emu,
        "/contacts?per_page=25",
        &[],
        |b| records_at(b, "/data"),
        |r| r.header("link").and_then(link_next),
    )
    .await;
    assert_eq!(pages.len(), 3);
    assert_all_once(&emu, "contacts", &records);
}

#[tokio::test]
async fn member_of_each_element() {
    let emu = marlin().await;
    let (records, pages) = walk(
        &emu,
        "/lists/l1/memberships",
        &[],
        |b| {
            records_at(b, "/memberships")
                .iter()
                .map(|m| m["member"].clone())
                .collect()
        },
        |r| {
            r.json()
                .get("next_cursor")
                .and_then(Value::as_str)
                .map(|c| format!("/lists/l1/memberships?{}", qs(&[("cursor", c)])))
        },
    )
    .await;
    assert_eq!(pages.len(), 2);
    assert_all_once(&emu, "list_members", &records);
    // Each element holds exactly the member.
    let first = pages[0].json();
    assert_eq!(first["memberships"][0], json!({ "member": records[0] }));
}

#[tokio::test]
async fn arrays_of_every_root_member() {
    let emu = marlin().await;
    let r = get(&emu, "/segments/by-state", &[]).await;
    let body = r.json();
    let obj = body.as_object().unwrap();
    assert_eq!(
        obj.keys().collect::<Vec<_>>(),
        ["active", "paused", "archived"],
        "{body}"
    );
    // `$[*][*]`: the elements of every array-valued member, concatenated.
    let all: Vec<Value> = obj
        .values()
        .filter_map(Value::as_array)
        .flatten()
        .cloned()
        .collect();
    assert!(obj.values().all(|v| !v.as_array().unwrap().is_empty()));
    assert_all_once(&emu, "segments", &all);
}

#[tokio::test]
async fn list_of_lists_with_a_cursor_inside_an_element() {
    let emu = marlin().await;
    let (records, pages) = walk(
        &emu,
        "/boards/b1/items",
        &[],
        |b| {
            records_at(b, "/data/groups")
                .iter()
                .flat_map(|g| g["items_page"]["items"].as_array().unwrap().clone())
                .collect()
        },
        |r| {
            r.json()
                .pointer("/data/groups/0/items_page/cursor")
                .and_then(Value::as_str)
                .map(|c| format!("/boards/b1/items?{}", qs(&[("cursor", c)])))
        },
    )
    .await;
    assert_eq!(pages.len(), 2);
    assert_all_once(&emu, "board_items", &records);
}
