//! Downloads (§5.6) on the family's `downloads.yaml` (Lumenvault): one step on GET (sharing
//! its path with a get, picked by `alt=media`) and on POST, with `Range`; two steps with each
//! file-URL form (`revision.export_links[0].href` under the base URL, `[0].url` and
//! `files[{file_index}].href` pre-signed on the storage host); the error check on the
//! metadata; hosted `/execute` in chunk mode and as bytes. Also `all-mixed.yaml`'s.

use connector_sdk_emulator::Emulator;
use serde_json::{json, Value};

use crate::common::{airbyte_auth, execute, get, get_url, request, spec, Resp};

async fn lumenvault() -> Emulator {
    Emulator::builder(&spec("downloads.yaml"))
        .count("files", 12)
        .count("exports", 4)
        .start()
        .await
        .unwrap()
}

fn id_of(emu: &Emulator, entity: &str, i: usize) -> String {
    emu.record(entity, i).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Asserts a whole-file answer: 200, these bytes, `Content-Type` and `Content-Length`.
fn assert_file(r: &Resp, want: &[u8]) {
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    assert_eq!(
        r.header("content-length"),
        Some(want.len().to_string().as_str())
    );
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert!(
        r.bytes == want,
        "{} bytes, want {}",
        r.bytes.len(),
        want.len()
    );
}

#[tokio::test]
async fn one_step_get_download_serves_the_bytes() {
    let emu = lumenvault().await;
    // Downloads are not entities of their own; only those with reads are.
    assert_eq!(emu.entities(), ["exports", "files"]);
    let id = id_of(&emu, "files", 3);
    let want = emu.download_bytes("files", &id).unwrap();
    assert!((1024..256 * 1024).contains(&want.len()));
    assert_eq!(emu.download_bytes("files", &id).unwrap(), want);

    // `alt=media` (the download's optional default, which a download sends) picks the
    // download over the get sharing GET /files/{file_id}; with or without the /v1 prefix.
    let r = get(&emu, &format!("/files/{id}?alt=media"), &[]).await;
    assert_file(&r, &want);
    assert!(r
        .header("content-disposition")
        .is_some_and(|d| d.contains(&id)));
    assert_file(
        &get(&emu, &format!("/v1/files/{id}?alt=media"), &[]).await,
        &want,
    );
    // Without it (or with alt=json) the get answers, with the error-check flag.
    let r = get(&emu, &format!("/files/{id}"), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["file"], emu.record("files", 3).unwrap());
    assert_eq!(r.json()["result"], json!("success"));
    assert_eq!(
        get(&emu, &format!("/files/{id}?alt=json"), &[])
            .await
            .json()["file"]["id"],
        json!(id)
    );

    // Sizes depend on the id; every file of the list downloads.
    let lens: Vec<usize> = (0..12)
        .map(|i| {
            emu.download_bytes("files", &id_of(&emu, "files", i))
                .unwrap()
                .len()
        })
        .collect();
    assert!(
        lens.iter().collect::<std::collections::HashSet<_>>().len() > 6,
        "{lens:?}"
    );

    // An unknown file: 404 in the read envelope, and no bytes.
    let r = get(&emu, "/files/nope?alt=media", &[]).await;
    assert_eq!(
        (r.status, r.at("/errors/0/code")),
        (404, json!("not_found"))
    );
    assert_eq!(emu.download_bytes("files", "nope"), None);
    assert_eq!(emu.download_bytes("folders", &id), None);
    // Auth as for any route; faults too.
    let url = format!("{}/files/{id}?alt=media", emu.base_url());
    assert_eq!(get_url(&url, Vec::new()).await.status, 401);
    emu.faults()
        .push(connector_sdk_emulator::Fault::status(503));
    assert_eq!(
        get(&emu, &format!("/files/{id}?alt=media"), &[])
            .await
            .status,
        503
    );
    emu.faults()
        .push(connector_sdk_emulator::Fault::TruncatedBody);
    let r = get(&emu, &format!("/files/{id}?alt=media"), &[]).await;
    assert_eq!(r.bytes, want[..want.len() / 2]);
}

#[tokio::test]
async fn range_requests() {
    let emu = lumenvault().await;
    let id = id_of(&emu, "files", 0);
    let want = emu.download_bytes("files", &id).unwrap();
    let len = want.len();
    let path = format!("/files/{id}?alt=media");

    let r = get(&emu, &path, &[("Range", "bytes=10-99")]).await;
    assert_eq!(r.status, 206, "{}", r.body);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 10-99/{len}").as_str())
    );
    assert_eq!(r.header("content-length"), Some("90"));
    assert_eq!(r.bytes, want[10..100]);
    // Open-ended and suffix ranges; an end past the file is cut.
    let r = get(&emu, &path, &[("Range", &format!("bytes={}-", len - 7))]).await;
    assert_eq!((r.status, r.bytes.as_slice()), (206, &want[len - 7..]));
    let r = get(&emu, &path, &[("Range", "bytes=-16")]).await;
    assert_eq!((r.status, r.bytes.as_slice()), (206, &want[len - 16..]));
    let r = get(&emu, &path, &[("Range", &format!("bytes=0-{}", len + 500))]).await;
    assert_eq!((r.status, r.bytes.len()), (206, len));
    // Past the end: 416 naming the length.
    let r = get(&emu, &path, &[("Range", &format!("bytes={len}-"))]).await;
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    // Several ranges are not served as such: the whole file.
    assert_file(
        &get(&emu, &path, &[("Range", "bytes=0-1,4-5")]).await,
        &want,
    );
}

#[tokio::test]
async fn one_step_post_download() {
    let emu = lumenvault().await;
    let want = emu.download_bytes("report_renders", "rep-7").unwrap();
    let r = request(
        &emu,
        "POST",
        "/reports/rep-7/render",
        Some(&json!({"format": "csv"})),
        &[],
    )
    .await;
    assert_file(&r, &want);
    let r = request(
        &emu,
        "POST",
        "/v1/reports/rep-7/render",
        Some(&json!({})),
        &[],
    )
    .await;
    assert_file(&r, &want);
    // Any report id has a file (the entity has no records), its own.
    let other = emu.download_bytes("report_renders", "rep-8").unwrap();
    assert_ne!(other, want);
    // The body is checked like any JSON body.
    let r = request(
        &emu,
        "POST",
        "/reports/rep-7/render",
        Some(&json!({"format": "xls"})),
        &[],
    )
    .await;
    assert_eq!(
        (r.status, r.at("/errors/0/source/field")),
        (400, json!("format"))
    );
    let r = request(
        &emu,
        "POST",
        "/reports/rep-7/render",
        Some(&json!({"format": "pdf"})),
        &[("Range", "bytes=0-3")],
    )
    .await;
    assert_eq!((r.status, r.bytes.as_slice()), (206, &want[..4]));
}

#[tokio::test]
async fn two_steps_with_a_url_under_the_base_url() {
    let emu = lumenvault().await;
    let r = get(&emu, "/v1/files/f-1/revisions/rev-9", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let meta = r.json();
    // The error check's field carries its success value, the message null.
    assert_eq!(meta["result"], json!("success"), "{meta}");
    assert!(meta.get("reason").is_none_or(Value::is_null), "{meta}");
    let href = meta["revision"]["export_links"][0]["href"]
        .as_str()
        .unwrap();
    // Under the base URL as requested (with its /v1 prefix).
    assert!(
        href.starts_with(&format!("{}/v1/__downloads/", emu.base_url())),
        "{href}"
    );
    if let Some(m) = meta["revision"]["export_links"][0].get("mime_type") {
        assert_eq!(m, &json!("application/octet-stream"));
    }
    // It needs the API's auth.
    assert_eq!(get_url(href, Vec::new()).await.status, 401);
    let auth = vec![(
        "Authorization".to_string(),
        format!("Bearer {}", emu.api_key()),
    )];
    let want = emu.download_bytes("file_revisions", "rev-9").unwrap();
    assert_file(&get_url(href, auth.clone()).await, &want);
    let mut ranged = auth.clone();
    ranged.push(("Range".into(), "bytes=5-9".into()));
    let r = get_url(href, ranged).await;
    assert_eq!((r.status, r.bytes.as_slice()), (206, &want[5..10]));
    // Without the prefix, the URL has none either.
    let r = get(&emu, "/files/f-1/revisions/rev-9", &[]).await;
    let href = r.json()["revision"]["export_links"][0]["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        href.starts_with(&format!("{}/__downloads/", emu.base_url())),
        "{href}"
    );
    assert_file(&get_url(&href, auth).await, &want);
}

#[tokio::test]
async fn two_steps_with_pre_signed_urls() {
    let emu = lumenvault().await;
    assert_ne!(emu.storage_url(), emu.base_url());

    // `[0].url`: a bare array whose first element links to the storage host.
    let r = get(&emu, "/files/f-3/thumbnails", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let thumbs = r.json();
    let url = thumbs[0]["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/__files/", emu.storage_url())),
        "{url}"
    );
    // Fetched without credentials.
    let want = emu.download_bytes("thumbnails", "f-3").unwrap();
    assert_file(&get_url(&url, Vec::new()).await, &want);
    let logged = emu.requests().pop().unwrap();
    assert!(logged.path.starts_with("/__files/") && logged.header("authorization").is_none());
    // A forged signature is refused.
    let forged = format!("{}0", url);
    assert_eq!(get_url(&forged, Vec::new()).await.status, 403);

    // `files[{file_index}].href`: one pre-signed URL per part, the request's index among
    // them; sizes beside the URLs; the export's id.
    let id = id_of(&emu, "exports", 1);
    let r = get(&emu, &format!("/exports/{id}?file_index=1"), &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let meta = r.json();
    assert_eq!(
        (meta["id"].clone(), meta["result"].clone()),
        (json!(id), json!("success"))
    );
    let files = meta["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{meta}");
    let hrefs: Vec<&str> = files.iter().map(|f| f["href"].as_str().unwrap()).collect();
    assert!(hrefs.iter().all(|h| h.starts_with(&emu.storage_url())));
    assert!(hrefs[0] != hrefs[1] && hrefs[1] != hrefs[2]);
    for (k, href) in hrefs.iter().enumerate() {
        let want = emu.download_part_bytes("exports", &id, k).unwrap();
        assert_file(&get_url(href, Vec::new()).await, &want);
        if let Some(size) = files[k].get("size_bytes").filter(|s| !s.is_null()) {
            assert_eq!(size, &json!(want.len()));
        }
    }
    assert_eq!(
        emu.download_part_bytes("exports", &id, 0),
        emu.download_bytes("exports", &id)
    );
    // Without the index (default 0) the same three parts; a later index gets more.
    let r = get(&emu, &format!("/exports/{id}"), &[]).await;
    assert_eq!(r.json()["files"].as_array().unwrap().len(), 3);
    let r = get(&emu, &format!("/exports/{id}?file_index=5"), &[]).await;
    assert_eq!(r.json()["files"].as_array().unwrap().len(), 6);
    // The export must exist.
    let r = get(&emu, "/exports/nope", &[]).await;
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(emu.download_bytes("exports", "nope"), None);
}

#[tokio::test]
async fn hosted_download_in_chunks_and_as_bytes() {
    let emu = lumenvault().await;
    let auth = airbyte_auth(&emu).await;
    // A file longer than one chunk.
    let (id, want) = (0..12)
        .map(|i| id_of(&emu, "files", i))
        .map(|id| {
            let b = emu.download_bytes("files", &id).unwrap();
            (id, b)
        })
        .find(|(_, b)| b.len() > 65_536)
        .expect("a file over 64 KiB");

    let mut got = Vec::new();
    let mut range: Option<String> = None;
    let mut chunks = 0;
    loop {
        let mut params = json!({
            "file_id": id,
            "_airbyte_response_type": "json",
            "_airbyte_response_format": "base64",
        });
        if let Some(r) = &range {
            params["range_header"] = json!(r);
        }
        let r = execute(&emu, &auth, "files", "download", params).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let c = r.json()["result"].clone();
        assert_eq!(c["encoding"], json!("base64"));
        assert_eq!(c["content_type"], json!("application/octet-stream"));
        assert_eq!(
            c["range_requested"],
            range.clone().map_or(Value::Null, Value::from)
        );
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(c["content"].as_str().unwrap())
            .unwrap();
        assert_eq!(c["bytes_returned"], json!(bytes.len()));
        assert!(bytes.len() <= 65_536);
        got.extend(bytes);
        chunks += 1;
        if c["has_more"] == json!(true) {
            let next = c["next_range_header"].as_str().unwrap().to_string();
            assert_eq!(next, format!("bytes={}-{}", got.len(), got.len() + 65_535));
            range = Some(next);
        } else {
            assert_eq!(c["next_range_header"], Value::Null);
            break;
        }
        assert!(chunks < 10);
    }
    assert!(chunks >= 2);
    assert!(got == want);

    // `id` stands for the file's parameter; text format.
    let r = execute(
        &emu,
        &auth,
        "files",
        "download",
        json!({"id": id, "range_header": "bytes=0-9", "_airbyte_response_type": "json",
               "_airbyte_response_format": "text"}),
    )
    .await;
    assert_eq!(r.json()["result"]["encoding"], json!("text"));
    assert_eq!(r.json()["result"]["bytes_returned"], json!(10));
    // Past the end: 416.
    let r = execute(
        &emu,
        &auth,
        "files",
        "download",
        json!({"id": id, "range_header": format!("bytes={}-", want.len()),
               "_airbyte_response_type": "json"}),
    )
    .await;
    assert_eq!(r.status, 416, "{}", r.body);

    // Without the JSON response type: the bytes, both steps of a two-step download inside.
    let export = id_of(&emu, "exports", 2);
    let r = execute(
        &emu,
        &auth,
        "exports",
        "download",
        json!({"export_id": export, "file_index": 2}),
    )
    .await;
    assert_file(&r, &emu.download_part_bytes("exports", &export, 2).unwrap());
    let r = execute(
        &emu,
        &auth,
        "thumbnails",
        "download",
        json!({"file_id": "f-1", "range_header": "bytes=0-9"}),
    )
    .await;
    assert_eq!(r.status, 206, "{}", r.body);
    assert_eq!(
        r.bytes,
        emu.download_bytes("thumbnails", "f-1").unwrap()[..10]
    );
    // Unknown file, missing parameter, no download.
    let r = execute(&emu, &auth, "files", "download", json!({"file_id": "nope"})).await;
    assert_eq!(r.status, 404, "{}", r.body);
    let r = execute(&emu, &auth, "report_renders", "download", json!({})).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = execute(&emu, &auth, "files", "list", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

#[tokio::test]
async fn all_mixed_graphql_and_downloads() {
    let emu = Emulator::builder(&spec("all-mixed.yaml"))
        .count("tracking_events", 7)
        .start()
        .await
        .unwrap();
    assert!(emu.entities().contains(&"tracking_events".to_string()));
    let auth = airbyte_auth(&emu).await;
    let r = execute(
        &emu,
        &auth,
        "tracking_events",
        "list",
        json!({"shipment_id": "s1", "first": 5}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["result"].as_array().unwrap().len(), 5);
    assert_eq!(r.json()["connector_metadata"]["has_next_page"], json!(true));
    // One step (`format=pdf` default) and two steps under the base URL (`part`).
    let want = emu.download_bytes("labels", "s1").unwrap();
    assert_file(
        &get(&emu, "/v3/shipments/s1/label?format=pdf", &[]).await,
        &want,
    );
    let r = get(&emu, "/v3/customs-exports/x1?part=1", &[]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let url = r.json()["archive"]["parts"][1]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = vec![(
        "Authorization".to_string(),
        format!("Bearer {}", emu.api_key()),
    )];
    assert_file(
        &get_url(&url, auth).await,
        &emu.download_part_bytes("customs_exports", "x1", 1).unwrap(),
    );
}
