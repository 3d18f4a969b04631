//! The SDK at work in one minute: `cargo run --example quickstart`.
//!
//! With `INCIDENT_IO_API_KEY` set, it reads your incident.io account (read-only). Without it, it
//! starts the in-process emulator (a stand-in incident.io server on 127.0.0.1) and says so.
//! The last part shows hosted mode (calls through Airbyte's API) against the emulator's Airbyte
//! endpoints.

use connector_sdk_emulator::Emulator;
use futures::TryStreamExt;
use incident_io_connector::entities::IncidentsSearchField;
use incident_io_connector::search::{Condition, SearchQuery, SortOrder};
use incident_io_connector::{AirbyteAuthConfig, Error, IncidentIoAuthConfig, IncidentIoConnector};

fn emulator_error(e: std::io::Error) -> Error {
    Error::Network {
        context: "emulator".into(),
        message: e.to_string(),
        source: None,
    }
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Keep the emulator alive for the whole run (it stops when dropped).
    let mut _emulator = None;
    let connector = match std::env::var("INCIDENT_IO_API_KEY") {
        Ok(key) if !key.trim().is_empty() => {
            println!("Using the real incident.io API (INCIDENT_IO_API_KEY is set).");
            IncidentIoConnector::builder()
                .auth(IncidentIoAuthConfig::new(key))
                .build()?
        }
        _ => {
            let emulator = Emulator::builder(incident_io_connector::SPEC_JSON)
                .count("incidents", 120)
                .count("users", 300)
                .start()
                .await
                .map_err(emulator_error)?;
            println!(
                "INCIDENT_IO_API_KEY is not set: using the in-process emulator at {} (synthetic data).",
                emulator.base_url()
            );
            let connector = IncidentIoConnector::builder()
                .auth(IncidentIoAuthConfig::new(emulator.api_key()))
                .base_url(&emulator.base_url())?
                .build()?;
            _emulator = Some(emulator);
            connector
        }
    };

    // 1. The first page of incidents.
    let page = connector.incidents().list().page_size(5).await?;
    println!("\nFirst page of incidents ({} shown):", page.data.len());
    for incident in &page.data {
        let status = incident
            .incident_status
            .as_ref()
            .and_then(|s| s.category.as_ref())
            .map(|c| c.to_string())
            .unwrap_or_else(|| "-".into());
        println!(
            "  {:<10} {:<10} {}",
            incident.reference.as_deref().unwrap_or("-"),
            status,
            incident.name
        );
    }
    println!("  next cursor: {:?}", page.next_cursor);

    // 2. One incident by id.
    if let Some(first) = page.data.first() {
        let one = connector.incidents().get(first.id.clone()).await?;
        println!(
            "\nIncident {} created {} ({:?} mode)",
            one.id,
            one.created_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
            one.mode.as_ref().map(|m| m.as_str()).unwrap_or("-")
        );
    }

    // 3. Every user, streamed page by page.
    let users = connector
        .users()
        .list()
        .page_size(100)
        .stream()
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await?;
    println!("\nUsers, counted by streaming every page: {users}");

    // 4. Severities (not paginated: the whole set in one response).
    let severities = connector.severities().list().await?;
    println!("\nSeverities:");
    for s in severities.data {
        println!("  rank {:>3}  {}", s.rank.unwrap_or_default(), s.name);
    }

    // 5. The untyped tool an agent calls.
    let raw = connector
        .execute("incidents", "list", serde_json::json!({"page_size": 2}))
        .await?;
    println!(
        "\nexecute(\"incidents\", \"list\", {{\"page_size\": 2}}) → {} records, meta {}",
        raw["data"].as_array().map(Vec::len).unwrap_or(0),
        raw["meta"]
    );

    // 6. Hosted mode: the same typed calls through Airbyte's API (here the emulator's), with
    //    the incident.io key stored on the Airbyte side.
    let emulator = match _emulator.take() {
        Some(e) => e,
        None => Emulator::start(incident_io_connector::SPEC_JSON)
            .await
            .map_err(emulator_error)?,
    };
    println!(
        "\nHosted mode through the emulator's Airbyte API at {}:",
        emulator.airbyte_api_url()
    );
    let hosted = IncidentIoConnector::builder()
        .auth(
            AirbyteAuthConfig::new(
                emulator.airbyte_client_id(),
                emulator.airbyte_client_secret(),
            )
            .workspace_name(emulator.airbyte_workspace())
            .airbyte_api_url(emulator.airbyte_api_url()),
        )
        .build()?;
    let page = hosted.incidents().list().page_size(3).await?;
    println!(
        "  {} incidents via /execute; connector {} found by workspace lookup",
        page.data.len(),
        hosted.connector_id().unwrap_or("?")
    );
    let query = SearchQuery::new()
        .filter(Condition::eq(IncidentsSearchField::Mode, "standard"))
        .sort(IncidentsSearchField::CreatedAt, SortOrder::Desc)
        .limit(3);
    let hits = hosted.incidents().search(query).await?;
    println!("  context-store search (mode = standard, newest first):");
    for hit in hits.data {
        println!(
            "    {} {}",
            hit.reference.as_deref().unwrap_or("-"),
            hit.name.as_deref().unwrap_or("-")
        );
    }
    println!("  health check: {:?}", hosted.check().await.status);
    Ok(())
}
