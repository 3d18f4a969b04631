//! The writes of `spec/writes.yaml` against the spec-driven emulator, in both transports: a
//! created record read back with `get` and found exactly once by a paged `list`, changed and
//! deleted; and the same actions through Airbyte's `/execute` in hosted mode, where a failed
//! create is not repeated and a failed idempotent delete is.

use connector_conformance_writes::entities::{BoardsCreateBody, BoardsUpdateBody, CardsCreateBody};
use connector_conformance_writes::{
    AirbyteAuthConfig, Error, ExecuteOptions, QuillmarkAuthConfig, QuillmarkConnector, SPEC_JSON,
};
use connector_sdk_emulator::{Emulator, Fault};
use futures::TryStreamExt;
use serde_json::{json, Value};

const COUNT: usize = 5;

async fn emulator() -> Emulator {
    Emulator::builder(SPEC_JSON)
        .default_count(COUNT)
        .start()
        .await
        .expect("the emulator starts")
}

fn direct(emu: &Emulator) -> QuillmarkConnector {
    QuillmarkConnector::builder()
        .auth(QuillmarkAuthConfig::new(emu.api_key()))
        .base_url(&emu.base_url())
        .expect("a loopback URL")
        .build()
        .expect("the connector builds")
}

fn hosted(emu: &Emulator) -> QuillmarkConnector {
    QuillmarkConnector::builder()
        .auth(
            AirbyteAuthConfig::new(emu.airbyte_client_id(), emu.airbyte_client_secret())
                .workspace_name(emu.airbyte_workspace())
                .airbyte_api_url(emu.airbyte_api_url()),
        )
        .build()
        .expect("the hosted connector builds")
}

#[tokio::test]
async fn a_created_board_reads_back_changes_and_goes_away() {
    let emu = emulator().await;
    let c = direct(&emu);
    let made = c
        .boards()
        .create(BoardsCreateBody::new("Launch").color("green").tags(["a"]))
        .await
        .expect("the create succeeds");
    let id = made.id.clone().expect("the new board has an id");
    assert_eq!(made.name.as_deref(), Some("Launch"));
    // What went over the wire: the method, the path and the body (the default-free color
    // set by the caller).
    let sent = emu
        .requests()
        .into_iter()
        .find(|r| r.method == "POST")
        .expect("the create was sent");
    assert_eq!(sent.path, "/boards");
    assert_eq!(
        sent.body_json(),
        Some(json!({"name": "Launch", "color": "green", "tags": ["a"]}))
    );

    let back = c
        .boards()
        .get(id.clone())
        .await
        .expect("the board reads back");
    assert_eq!(back.name.as_deref(), Some("Launch"));
    // Listed exactly once, after the synthesized boards, across pages of two.
    let all: Vec<_> = c
        .boards()
        .list()
        .limit(2)
        .stream()
        .try_collect()
        .await
        .expect("the list pages");
    assert_eq!(all.len(), COUNT + 1);
    assert_eq!(
        all.iter().filter(|b| b.id.as_deref() == Some(&id)).count(),
        1
    );

    let changed = c
        .boards()
        .update(
            id.clone(),
            BoardsUpdateBody::new().name("Launched").archived(true),
        )
        .await
        .expect("the update succeeds");
    assert_eq!(changed.name.as_deref(), Some("Launched"));
    assert_eq!(changed.archived, Some(true));
    let back = c
        .boards()
        .get(id.clone())
        .await
        .expect("the board reads back");
    assert_eq!(back.name.as_deref(), Some("Launched"));

    c.boards()
        .delete(id.clone())
        .await
        .expect("the delete succeeds");
    let gone = c.boards().get(id.clone()).await;
    assert!(matches!(gone, Err(Error::NotFound(_))), "{gone:?}");
    let after: Vec<_> = c.boards().list().stream().try_collect().await.unwrap();
    assert_eq!(after.len(), COUNT);
}

#[tokio::test]
async fn a_card_is_created_under_its_board_and_archived_through_the_override() {
    let emu = emulator().await;
    let c = direct(&emu);
    let board = c.boards().list().await.unwrap().data[0].id.clone().unwrap();
    let card = c
        .cards()
        .create(board.clone(), CardsCreateBody::new("Ship it").points(5))
        .await
        .expect("the card is created");
    assert_eq!(card.board_id.as_deref(), Some(board.as_str()));
    assert_eq!(card.points, Some(5));
    let card_id = card.id.clone().unwrap();
    let archived = c.cards().delete(card_id.clone()).await.expect("archived");
    assert_eq!(archived.id.as_deref(), Some(card_id.as_str()));
    assert!(emu
        .requests()
        .iter()
        .any(|r| r.method == "POST" && r.path == format!("/cards/{card_id}/archive")));
}

#[tokio::test]
async fn a_failed_create_is_not_repeated_but_an_idempotent_update_is() {
    let emu = emulator().await;
    let c = direct(&emu);
    emu.faults().push(Fault::status(503));
    let err = c
        .boards()
        .create(BoardsCreateBody::new("Twice?"))
        .await
        .expect_err("the 503 comes back");
    assert_eq!(err.status(), Some(503));
    assert_eq!(emu.request_count(), 1);
    assert!(emu.written("boards").is_empty(), "nothing was created");
    // A PUT (replace a card) is idempotent: the 503 is retried and the second try lands.
    let card = c.cards().get("x").await.err();
    assert!(matches!(card, Some(Error::NotFound(_))));
    let board = c.boards().list().await.unwrap().data[0].id.clone().unwrap();
    let made = c
        .cards()
        .create(board, CardsCreateBody::new("Draft"))
        .await
        .unwrap();
    emu.clear_requests();
    emu.faults().push(Fault::status(503));
    let replaced = c
        .cards()
        .update(
            made.id.clone().unwrap(),
            connector_conformance_writes::entities::CardsUpdateBody::new("Final"),
        )
        .await
        .expect("the PUT lands on its second attempt");
    assert_eq!(replaced.title.as_deref(), Some("Final"));
    assert_eq!(emu.request_count(), 2);
}

#[tokio::test]
async fn hosted_mode_runs_the_same_writes_through_execute() {
    let emu = emulator().await;
    let c = hosted(&emu);
    // Warm up (token, connector lookup), so an injected fault meets the write itself.
    c.boards().list().await.expect("a hosted list");
    let made = c
        .boards()
        .create(BoardsCreateBody::new("Hosted"))
        .await
        .expect("a hosted create");
    let id = made.id.clone().expect("an id");
    let calls: Vec<Value> = emu
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/execute"))
        .filter_map(|r| r.body_json())
        .collect();
    let create = calls
        .iter()
        .find(|b| b["action"] == "create")
        .expect("the create went through /execute");
    assert_eq!(create["entity"], "boards");
    assert_eq!(create["params"]["name"], "Hosted");
    assert_eq!(
        create["params"]["color"], "blue",
        "body defaults travel too"
    );
    let back = c.boards().get(id.clone()).await.expect("reads back hosted");
    assert_eq!(back.name.as_deref(), Some("Hosted"));

    // Untyped, with writes allowed; a failed create is not repeated through Airbyte either.
    emu.clear_requests();
    emu.faults().push(Fault::status(503));
    let err = c
        .execute_with(
            "boards",
            "create",
            json!({"name": "Once"}),
            ExecuteOptions::new().allow_writes(true),
        )
        .await
        .expect_err("the 503 comes back");
    assert_eq!(err.status(), Some(503));
    assert_eq!(emu.request_count(), 1);
    // A delete over DELETE is idempotent: retried past the fault, and `{}` comes back.
    emu.faults().push(Fault::status(503));
    let gone = c
        .execute_with(
            "boards",
            "delete",
            json!({"board_id": id}),
            ExecuteOptions::new().allow_writes(true),
        )
        .await
        .expect("the delete lands on its second attempt");
    assert_eq!(gone, json!({}));
    assert!(matches!(c.boards().get(id).await, Err(Error::NotFound(_))));
}

async fn all_bytes(download: connector_conformance_writes::Download) -> Vec<u8> {
    let chunks: Vec<_> = download.try_collect().await.expect("the whole file");
    chunks.concat()
}

#[tokio::test]
async fn downloads_stream_the_same_bytes_directly_untyped_and_hosted() {
    let emu = emulator().await;
    let c = direct(&emu);
    let id = c.attachments().list().await.unwrap().data[0]
        .id
        .clone()
        .unwrap();
    let expected = emu
        .download_bytes("attachments", &id)
        .expect("the emulator serves this file");
    let typed = c.attachments().download(id.clone()).await.expect("opened");
    assert_eq!(typed.content_length(), Some(expected.len() as u64));
    assert_eq!(all_bytes(typed).await, expected);
    // The untyped twin (what the CLI's `download` uses), with a range.
    let part = c
        .client()
        .download(
            "attachments",
            json!({"attachment_id": id}),
            Some("bytes=0-99"),
        )
        .await
        .expect("opened");
    assert_eq!(all_bytes(part).await, expected[..100].to_vec());
    let err = c
        .client()
        .download("attachments", json!({"attachment": id}), None)
        .await
        .expect_err("an unknown param");
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    // Hosted: Airbyte's base64 chunks, one request each, reassembled in order.
    let h = hosted(&emu);
    emu.clear_requests();
    let hosted_file = h.attachments().download(id.clone()).await.expect("opened");
    assert_eq!(all_bytes(hosted_file).await, expected);
    let chunks = emu
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/execute"))
        .count();
    assert_eq!(chunks, expected.len().div_ceil(65_536));
}

#[tokio::test]
async fn graphql_reads_and_a_mutation_against_the_emulator() {
    let emu = emulator().await;
    let c = direct(&emu);
    let all: Vec<_> = c
        .comments()
        .list()
        .first(2)
        .stream()
        .try_collect()
        .await
        .expect("every page");
    assert_eq!(all.len(), COUNT);
    let mut ids: Vec<_> = all.iter().map(|m| m.id.clone().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), COUNT, "each comment once");
    let board = c.boards().list().await.unwrap().data[0].id.clone().unwrap();
    let made = c
        .comments()
        .create(connector_conformance_writes::entities::CommentsCreateBody::new("Nice", board))
        .await
        .expect("the mutation");
    let back = c
        .comments()
        .get(made.id.clone().unwrap())
        .await
        .expect("reads back");
    assert_eq!(back.body.as_deref(), Some("Nice"));
    let missing = c.comments().get("nope").await;
    assert!(matches!(missing, Err(Error::Api(_))), "{missing:?}");
}
