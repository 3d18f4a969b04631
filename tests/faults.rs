//! Fault injection over loopback, in both modes (direct to the emulator's incident.io routes,
//! and hosted through its Airbyte routes): every fault the emulator can inject, with the wait,
//! the number of requests and the outcome asserted.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use connector_sdk_emulator::{Emulator, Fault};
use futures::{StreamExt, TryStreamExt};
use incident_io_connector::{
    AirbyteAuthConfig, Error, IncidentIoAuthConfig, IncidentIoConnector, RetryPolicy,
};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Direct,
    Hosted,
}

const MODES: [Mode; 2] = [Mode::Direct, Mode::Hosted];

/// Fast retries so the suite runs in seconds; `Retry-After` still wins over backoff.
fn fast() -> RetryPolicy {
    RetryPolicy::new()
        .max_attempts(4)
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

async fn connector(
    emu: &Emulator,
    mode: Mode,
    configure: impl FnOnce(
        incident_io_connector::IncidentIoConnectorBuilder,
    ) -> incident_io_connector::IncidentIoConnectorBuilder,
) -> IncidentIoConnector {
    let builder = IncidentIoConnector::builder();
    let builder = match mode {
        Mode::Direct => builder
            .auth(IncidentIoAuthConfig::new(emu.api_key()))
            .base_url(&emu.base_url())
            .unwrap(),
        Mode::Hosted => builder.auth(
            AirbyteAuthConfig::new(emu.airbyte_client_id(), emu.airbyte_client_secret())
                .workspace_name(emu.airbyte_workspace())
                .airbyte_api_url(emu.airbyte_api_url()),
        ),
    };
    let c = configure(builder).build().unwrap();
    if mode == Mode::Hosted {
        // Token and connector lookup first, so injected faults hit the data calls.
        c.resolve_connector_id().await.unwrap();
    }
    emu.clear_requests();
    c
}

/// Requests that carried data (incident.io list/get, or Airbyte execute).
fn data_requests(emu: &Emulator) -> usize {
    emu.requests()
        .iter()
        .filter(|r| r.path.starts_with("/v") || r.path.ends_with("/execute"))
        .count()
}

#[tokio::test]
async fn rate_limited_then_ok_waits_for_retry_after() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    for mode in MODES {
        let c = connector(&emu, mode, |b| b.retry_policy(fast())).await;
        emu.faults().push(Fault::rate_limited(1));
        let start = Instant::now();
        let page = c.incidents().list().page_size(5).await.unwrap();
        let elapsed = start.elapsed();
        assert_eq!(page.data.len(), 5, "{mode:?}");
        assert!(
            elapsed >= Duration::from_secs(1),
            "{mode:?}: Retry-After honoured, waited {elapsed:?}"
        );
        assert!(
            elapsed < Duration::from_secs(3),
            "{mode:?}: no extra backoff, waited {elapsed:?}"
        );
        assert_eq!(emu.request_count(), 2, "{mode:?}: exactly one retry");
    }
}

#[tokio::test]
async fn rate_limited_forever_gives_up_after_the_configured_attempts() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    for mode in MODES {
        let c = connector(&emu, mode, |b| b.retry_policy(fast().max_attempts(3))).await;
        emu.faults().push_n(
            Fault::Status {
                status: 429,
                retry_after: Some("0".into()),
                body: None,
            },
            10,
        );
        let err = c.incidents().list().await.unwrap_err();
        assert!(
            matches!(err, Error::RateLimited { .. }),
            "{mode:?}: {err:?}"
        );
        assert_eq!(emu.request_count(), 3, "{mode:?}");
        emu.faults().clear();
    }
}

#[tokio::test]
async fn server_errors_then_ok() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    for mode in MODES {
        let c = connector(&emu, mode, |b| b.retry_policy(fast())).await;
        for status in [500, 502, 503] {
            emu.faults().push(Fault::status(status));
        }
        let one = c.users().list().page_size(1).await.unwrap();
        assert_eq!(one.data.len(), 1);
        assert_eq!(emu.request_count(), 4, "{mode:?}");

        // Without retries the first 5xx is the answer.
        let c = connector(&emu, mode, |b| b.no_retries()).await;
        emu.faults().push(Fault::status(503));
        let err = c.users().list().await.unwrap_err();
        assert_eq!(err.status(), Some(503), "{mode:?}");
        assert!(err.is_retryable());
        assert_eq!(emu.request_count(), 1);
    }
}

#[tokio::test]
async fn connection_reset_then_ok() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    for mode in MODES {
        let c = connector(&emu, mode, |b| b.retry_policy(fast())).await;
        emu.faults().push(Fault::ResetConnection);
        let page = c.severities().list().await.unwrap();
        assert!(!page.data.is_empty());
        assert_eq!(data_requests(&emu), 2, "{mode:?}");

        let c = connector(&emu, mode, |b| b.no_retries()).await;
        emu.faults().push(Fault::ResetConnection);
        let err = c.severities().list().await.unwrap_err();
        assert!(matches!(err, Error::Network { .. }), "{mode:?}: {err:?}");
    }
}

#[tokio::test]
async fn truncated_body_is_a_decode_error_and_is_retried() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    for mode in MODES {
        let c = connector(&emu, mode, |b| b.no_retries()).await;
        emu.faults().push(Fault::TruncatedBody);
        let err = c.incidents().list().await.unwrap_err();
        let Error::Decode {
            incomplete, entity, ..
        } = &err
        else {
            panic!("{mode:?}: {err:?}")
        };
        assert!(*incomplete, "{mode:?}");
        assert_eq!(entity, "incidents");

        let c = connector(&emu, mode, |b| b.retry_policy(fast())).await;
        emu.faults().push(Fault::TruncatedBody);
        assert_eq!(
            c.incidents().list().page_size(3).await.unwrap().data.len(),
            3
        );
        assert_eq!(emu.request_count(), 2, "{mode:?}");
    }
}

#[tokio::test]
async fn a_stalled_body_times_out_instead_of_hanging() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    for mode in MODES {
        let c = connector(&emu, mode, |b| {
            b.no_retries().timeout(Duration::from_millis(400))
        })
        .await;
        emu.faults().push(Fault::Stall(Duration::from_secs(5)));
        let start = Instant::now();
        let err = c.incidents().list().await.unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{mode:?}: {err:?}");
        assert!(
            start.elapsed() < Duration::from_secs(3),
            "{mode:?}: {:?}",
            start.elapsed()
        );
        assert!(err.is_retryable());
    }
}

#[tokio::test]
async fn html_error_page() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    for mode in MODES {
        let c = connector(&emu, mode, |b| b.no_retries()).await;
        emu.faults().push(Fault::Html { status: 502 });
        let err = c.incidents().list().await.unwrap_err();
        assert_eq!(err.status(), Some(502), "{mode:?}");
        assert!(err.to_string().contains("HTML page"), "{mode:?}: {err}");

        let c = connector(&emu, mode, |b| b.retry_policy(fast())).await;
        emu.faults().push(Fault::Html { status: 502 });
        c.incidents().list().await.unwrap();
        assert_eq!(emu.request_count(), 2);
    }
}

#[tokio::test]
async fn unauthorized_mid_stream() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 50)
        .start()
        .await
        .unwrap();
    for mode in MODES {
        let c = connector(&emu, mode, |b| b.retry_policy(fast())).await;
        let mut stream = std::pin::pin!(c.incidents().list().page_size(10).stream());
        let mut got = Vec::new();
        for _ in 0..20 {
            got.push(stream.next().await.unwrap().unwrap().id);
        }
        emu.faults().push(Fault::Status {
            status: 401,
            retry_after: None,
            body: None,
        });
        let rest: Vec<_> = stream.collect().await;
        match mode {
            Mode::Direct => {
                // Not retried: the stream ends with the auth error after every earlier record.
                assert_eq!(rest.len(), 1, "{mode:?}");
                let err = rest.into_iter().next().unwrap().unwrap_err();
                assert!(matches!(err, Error::Auth(_)), "{err:?}");
                assert_eq!(got.len(), 20);
            }
            Mode::Hosted => {
                // Airbyte 401: the token is dropped and the call replayed once; nothing is lost.
                let rest: Vec<_> = rest.into_iter().map(Result::unwrap).map(|i| i.id).collect();
                got.extend(rest);
                assert_eq!(got.len(), 50);
                assert_eq!(got.iter().collect::<HashSet<_>>().len(), 50);
            }
        }
    }
}

#[tokio::test]
async fn ten_thousand_incidents_with_ten_percent_faults_lose_and_duplicate_nothing() {
    let emu = Emulator::builder(incident_io_connector::SPEC_JSON)
        .count("incidents", 10_000)
        .start()
        .await
        .unwrap();
    let expected: Vec<String> = (0..10_000)
        .map(|i| {
            emu.record("incidents", i).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for mode in MODES {
        let policy = fast().max_attempts(10);
        let c = connector(&emu, mode, |b| b.retry_policy(policy)).await;
        emu.faults().set_random_failure_rate(0.10, 42);
        let ids: Vec<String> = c
            .incidents()
            .list()
            .page_size(250)
            .stream()
            .map_ok(|i| i.id)
            .try_collect()
            .await
            .unwrap();
        emu.faults().set_random_failure_rate(0.0, 0);
        assert_eq!(ids.len(), 10_000, "{mode:?}");
        assert_eq!(
            ids, expected,
            "{mode:?}: every record once, in server order"
        );
        let failures = emu.requests().len() - 40;
        assert!(failures > 0, "{mode:?}: faults were injected");
    }
}

#[tokio::test]
async fn client_side_rate_limit_spreads_calls_instead_of_collecting_429s() {
    let emu = Emulator::start(incident_io_connector::SPEC_JSON)
        .await
        .unwrap();
    // 60 per minute: a burst of 6, then one per second.
    let c = connector(&emu, Mode::Direct, |b| b.rate_limit(60)).await;
    let start = Instant::now();
    let calls = (0..8).map(|_| {
        let c = c.clone();
        async move { c.severities().list().await }
    });
    let results = futures::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    let elapsed = start.elapsed();
    assert!(
        elapsed >= Duration::from_millis(1500),
        "the 7th and 8th calls waited: {elapsed:?}"
    );
    assert_eq!(emu.request_count(), 8);

    let err = IncidentIoConnector::builder()
        .auth(IncidentIoAuthConfig::new("k"))
        .rate_limit(0)
        .build()
        .unwrap_err();
    assert!(err.to_string().starts_with("invalid rate_limit"), "{err}");
}
