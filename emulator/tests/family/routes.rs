//! Routes: path overrides and virtual keys, singletons, skipped operations, server path
//! prefixes, operations sharing one real path, and the all-reads spec.

use connector_sdk_emulator::Emulator;
use serde_json::{json, Value};

use crate::common::{assert_all_once, get, qs, records_at, spec};

#[tokio::test]
async fn overrides_singletons_and_skipped_operations() {
    let emu = Emulator::builder(&spec("actions.yaml"))
        .count("tickets", 8)
        .start()
        .await
        .unwrap();
    // POST lists/gets/searches with JSON bodies are served; writes only for entities with
    // a read, so entities with only writes (ticket comments) are absent.
    assert_eq!(
        emu.entities(),
        [
            "monthly_report",
            "profile",
            "tickets",
            "users",
            "weekly_report"
        ]
    );
    assert_eq!(emu.record_count("ticket_comments"), None);

    // Singleton get: one stable record, under its extractor, with the error-check flag.
    let a = get(&emu, "/v3/me", &[]).await;
    assert_eq!(a.status, 200);
    assert_eq!(
        a.json(),
        json!({"user": emu.record("profile", 0).unwrap(), "ok": true})
    );
    assert_eq!(get(&emu, "/v3/me", &[]).await.body, a.body);
    // Also under the server's path prefix (/api).
    assert_eq!(get(&emu, "/api/v3/me", &[]).await.body, a.body);

    // The override `/v3/tickets/{ticket_id}.json` is the route, not the `/detail/` key; the
    // get answers with its own (full) schema, the list with the summary.
    let summary = emu.record("tickets", 5).unwrap();
    let id = summary["id"].as_str().unwrap();
    let r = get(&emu, &format!("/v3/tickets/{id}.json"), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let full = r.json()["ticket"].clone();
    assert_eq!(
        (full["id"].clone(), full["subject"].clone()),
        (summary["id"].clone(), summary["subject"].clone())
    );
    let full_keys: Vec<&str> = full
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert!(
        full_keys
            .iter()
            .any(|k| ["description", "priority", "history", "queue", "created_at"].contains(k)),
        "{full_keys:?}"
    );
    let r = get(&emu, &format!("/v3/tickets/{id}/detail/"), &[]).await;
    assert_eq!((r.status, r.body.as_str()), (404, ""));
    let list = get(&emu, "/v3/tickets", &[]).await;
    assert_all_once(&emu, "tickets", &records_at(&list.json(), "/tickets"));

    // The `?entity=tickets` key is served at its override, as a list (search).
    let r = get(&emu, "/v3/search?q=printer&kind=ticket", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["total"], json!(8));
    assert_all_once(&emu, "tickets", &records_at(&r.json(), "/results"));
    let r = get(&emu, "/v3/search?kind=ticket", &[]).await;
    assert_eq!(
        (r.status, r.at("/errors/0/source/field")),
        (400, json!("q"))
    );
    // The POST-only paths answer 404 to a GET.
    assert_eq!(get(&emu, "/v3/reports:run", &[]).await.status, 404);
    assert_eq!(get(&emu, "/v3/users.info", &[]).await.status, 404);
}

#[tokio::test]
async fn server_prefix_with_variables() {
    let emu = Emulator::builder(&spec("servers-variables.yaml"))
        .count("projects", 4)
        .start()
        .await
        .unwrap();
    let plain = get(&emu, "/projects", &[]).await;
    assert_eq!(plain.status, 200);
    // `https://{workspace}.example.com/api/{version}`: `/api/<any version>` prefixes work.
    for prefix in ["/api/v2", "/api/v1"] {
        let r = get(&emu, &format!("{prefix}/projects"), &[]).await;
        assert_eq!(r.body, plain.body, "{prefix}");
    }
    assert_eq!(get(&emu, "/api/projects", &[]).await.status, 404);
    assert_eq!(get(&emu, "/other/v2/projects", &[]).await.status, 404);
    // A record without `id` is found by the property its path parameter names.
    let rec = emu.record("projects", 2).unwrap();
    let slug = rec["slug"].as_str().unwrap();
    let r = get(&emu, &format!("/api/v2/projects/{slug}"), &[]).await;
    assert_eq!((r.status, r.json()["project"].clone()), (200, rec));
    // Cursor pagination on the builds of a project.
    let r = get(&emu, "/api/v2/projects/p/builds?branch=main", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// Two GET operations on one real path, told apart by a required query default.
fn shared_path_spec() -> Value {
    let op = |entity: &str, kind: &str| {
        let record = json!({
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "string"}, "label": {"type": "string"}}
        });
        let body =
            json!({"type": "object", "properties": {"hits": {"type": "array", "items": record}}});
        let param = json!({"name": "kind", "in": "query", "required": true,
                           "schema": {"type": "string", "default": kind}});
        json!({"get": {
            "x-airbyte-entity": entity,
            "x-airbyte-action": "list",
            "x-airbyte-path-override": {"path": "/v1/search"},
            "x-airbyte-record-extractor": "$.hits",
            "x-airbyte-no-pagination": "all at once",
            "parameters": [param],
            "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": body}}}}
        }})
    };
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Shared", "version": "1", "x-airbyte-connector-name": "shared",
                 "x-airbyte-connector-definition-id": "00000000-0000-4000-8000-000000000002"},
        "servers": [{"url": "https://shared.example.com"}],
        "paths": {
            "/v1/search?entity=apples": op("apples", "apple"),
            "/v1/search?entity=pears": op("pears", "pear")
        }
    })
}

#[tokio::test]
async fn operations_sharing_one_path() {
    let emu = Emulator::builder(&shared_path_spec().to_string())
        .count("apples", 3)
        .count("pears", 4)
        .start()
        .await
        .unwrap();
    let hits = |r: &crate::common::Resp| records_at(&r.json(), "/hits");
    assert_all_once(
        &emu,
        "pears",
        &hits(&get(&emu, "/v1/search?kind=pear", &[]).await),
    );
    assert_all_once(
        &emu,
        "apples",
        &hits(&get(&emu, "/v1/search?kind=apple", &[]).await),
    );
    // The key's `?entity=` counts too.
    let r = get(&emu, "/v1/search?entity=pears&kind=pear", &[]).await;
    assert_all_once(&emu, "pears", &hits(&r));
    // Neither agrees: the first operation in spec order.
    let r = get(&emu, "/v1/search?kind=fig", &[]).await;
    assert_all_once(&emu, "apples", &hits(&r));
}

#[tokio::test]
async fn all_reads_spec() {
    let emu = Emulator::builder(&spec("all-reads.yaml"))
        .default_count(12)
        .start()
        .await
        .unwrap();
    let entities = emu.entities();
    for e in [
        "profile",
        "tasks",
        "contacts",
        "segments",
        "board_items",
        "value_ranges",
        "archived_spaces",
        "analytics",
        "campaigns",
        "audiences",
    ] {
        assert!(entities.iter().any(|x| x == e), "{e} served: {entities:?}");
    }
    // POST-only entities (weekly/monthly reports, users) are served too
    // (`post_reads.rs` walks them).
    for e in ["weekly_report", "monthly_report", "users"] {
        assert!(entities.iter().any(|x| x == e), "{e} served: {entities:?}");
    }
    let h = [("X-Meridian-Profile", "p1")];
    type Case<'a> = (String, &'a [(&'a str, &'a str)], &'a str);
    let cases: Vec<Case<'_>> = vec![
        ("/api/v4/me".into(), &[], "/id"),
        ("/me".into(), &[], "/id"),
        (
            format!("/spaces/s1/tasks?{}", qs(&[("sort", "-updated_at")])),
            &h,
            "/tasks",
        ),
        ("/search?q=x&kind=task".into(), &[], "/results"),
        ("/spaces?status=archived".into(), &[], "/spaces"),
        (
            "/sheets/s1/values:batchGet?ranges=A1&ranges=B2".into(),
            &[],
            "/valueRanges",
        ),
        (
            format!(
                "/analytics?{}",
                qs(&[
                    ("projects", "List(urn:tf:project:10)"),
                    ("dateRange", "(start:(year:2024))")
                ])
            ),
            &[],
            "/elements",
        ),
        ("/segments/by-state".into(), &[], "/active"),
        ("/tags".into(), &[], ""),
    ];
    for (path, headers, pointer) in cases {
        let r = get(&emu, &path, headers).await;
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        assert!(
            r.json().pointer(pointer).is_some(),
            "{path}: {pointer} in {}",
            r.body
        );
    }
    // Integer task ids through the `.json` override; the list's required `sort` is missing.
    let r = get(&emu, "/spaces/s1/tasks/3.json", &[]).await;
    assert_eq!((r.status, r.json()["task"]["id"].clone()), (200, json!(3)));
    assert_eq!(
        get(&emu, "/spaces/s1/tasks", &[("X-Meridian-Profile", "p")])
            .await
            .status,
        400
    );
}
