//! No API key, client secret or access token ever appears in any `Display`, `Debug` or
//! `tracing` output, on any error path, in either mode. Tracing is captured at TRACE level for
//! every crate (reqwest, hyper and the emulator included) while every error path is driven.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connector_sdk_emulator::{Emulator, Fault};
use incident_io_connector::{
    AirbyteAuthConfig, IncidentIoAuthConfig, IncidentIoConnector, RetryPolicy,
};
use serde_json::json;

const API_KEY: &str = "inc_live_TOPSECRETKEY_1234567890";
const CLIENT_SECRET: &str = "ab_client_TOPSECRET_0987654321";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy::new()
        .max_attempts(2)
        .initial_backoff(Duration::from_millis(1))
}

#[tokio::test]
async fn secrets_never_leak() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .try_init()
        .expect("the only subscriber in this test binary");

    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .api_key(API_KEY)
        .airbyte_credentials("client-id", CLIENT_SECRET)
        .count("incidents", 30)
        .start()
        .await
        .unwrap();
    let mut outputs: Vec<String> = Vec::new();
    let mut record = |label: &str, text: String| outputs.push(format!("{label}: {text}"));

    // Direct mode.
    let direct = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new(API_KEY))
        .base_url(&emu.base_url())
        .unwrap()
        .retry_policy(policy())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    record("direct connector", format!("{direct:?}"));
    record(
        "auth config",
        format!("{:?}", IncidentIoAuthConfig::new(API_KEY)),
    );
    let ok = direct.incidents().list().page_size(2).await.unwrap();
    record("page", format!("{ok:?}"));
    let errors = vec![
        direct.incidents().get("01NOPE").await.unwrap_err(),
        direct
            .execute("incidents", "list", json!({"after": "not-a-cursor"}))
            .await
            .unwrap_err(),
        direct.incidents().get("a/b").await.unwrap_err(),
        {
            emu.faults().push_n(Fault::rate_limited(0), 2);
            direct.incidents().list().await.unwrap_err()
        },
        {
            emu.faults().push_n(Fault::status(500), 2);
            direct.incidents().list().await.unwrap_err()
        },
        {
            emu.faults().push_n(Fault::TruncatedBody, 2);
            direct.incidents().list().await.unwrap_err()
        },
        {
            emu.faults().push_n(Fault::Stall(Duration::from_secs(2)), 2);
            direct.incidents().list().await.unwrap_err()
        },
        {
            emu.faults().push_n(Fault::ResetConnection, 2);
            direct.incidents().list().await.unwrap_err()
        },
        IncidentIoConnector::builder()
            .auth(IncidentIoAuthConfig::new(format!("{API_KEY} ")))
            .build()
            .unwrap_err(),
        IncidentIoConnector::builder()
            .auth(IncidentIoAuthConfig::new("wrong-key"))
            .base_url(&emu.base_url())
            .unwrap()
            .build()
            .unwrap()
            .incidents()
            .list()
            .await
            .unwrap_err(),
        IncidentIoConnector::builder()
            .auth(IncidentIoAuthConfig::new(API_KEY))
            .base_url("http://127.0.0.1:9")
            .unwrap()
            .no_retries()
            .build()
            .unwrap()
            .incidents()
            .list()
            .await
            .unwrap_err(),
    ];
    for e in &errors {
        record("direct error", format!("{e} | {e:?}"));
    }

    // Hosted mode.
    let airbyte = AirbyteAuthConfig::new("client-id", CLIENT_SECRET)
        .workspace_name(emu.airbyte_workspace())
        .airbyte_api_url(emu.airbyte_api_url());
    record("airbyte config", format!("{airbyte:?}"));
    let hosted = IncidentIoConnector::builder()
        .auth(airbyte.clone())
        .retry_policy(policy())
        .build()
        .unwrap();
    record("hosted connector", format!("{hosted:?}"));
    hosted.incidents().list().await.unwrap();
    let hosted_errors = vec![
        hosted.incidents().get("01NOPE").await.unwrap_err(),
        {
            emu.faults().push(Fault::Status {
                status: 401,
                retry_after: None,
                body: None,
            });
            emu.faults().push(Fault::Status {
                status: 401,
                retry_after: None,
                body: None,
            });
            emu.faults().push(Fault::Status {
                status: 401,
                retry_after: None,
                body: None,
            });
            hosted.incidents().list().await.unwrap_err()
        },
        IncidentIoConnector::builder()
            .auth(
                AirbyteAuthConfig::new("client-id", "wrong-secret")
                    .workspace_name("default")
                    .airbyte_api_url(emu.airbyte_api_url()),
            )
            .no_retries()
            .build()
            .unwrap()
            .incidents()
            .list()
            .await
            .unwrap_err(),
        IncidentIoConnector::builder()
            .auth(airbyte.clone().workspace_name("nowhere"))
            .build()
            .unwrap()
            .incidents()
            .list()
            .await
            .unwrap_err(),
    ];
    let empty_name =
        IncidentIoConnector::create(airbyte.clone(), IncidentIoAuthConfig::new(API_KEY))
            .name("")
            .await;
    record(
        "create with an empty name",
        match &empty_name {
            Ok(c) => format!("{c:?}"),
            Err(e) => format!("{e} | {e:?}"),
        },
    );
    let created = IncidentIoConnector::create(airbyte, IncidentIoAuthConfig::new(API_KEY))
        .await
        .unwrap();
    record("created", format!("{created:?}"));
    for e in &hosted_errors {
        record("hosted error", format!("{e} | {e:?}"));
    }
    record("check", format!("{:?}", direct.check().await));

    // Every bearer token the emulator saw on Airbyte routes is a secret too.
    let mut secrets = vec![API_KEY.to_string(), CLIENT_SECRET.to_string()];
    for r in emu.requests() {
        if let Some(auth) = r.header("authorization") {
            if let Some(token) = auth.strip_prefix("Bearer ") {
                if token != API_KEY {
                    secrets.push(token.to_string());
                }
            }
        }
    }
    assert!(secrets.len() > 2, "tokens were issued and used");
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("incident_io.call"), "spans were captured");
    assert!(logs.len() > 1000, "plenty of trace output to check");
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "secret leaked in tracing output"
        );
        for out in &outputs {
            assert!(!out.contains(secret.as_str()), "secret leaked in: {out}");
        }
    }
}
