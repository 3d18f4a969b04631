//! Downloads (`x-airbyte-action: download`): a file's bytes as a stream, never buffered whole.
//!
//! - **One step**: the operation itself answers with the bytes (sent with `Accept: */*`).
//! - **Two steps** (`x-airbyte-file-url`): the operation answers with JSON metadata; the
//!   file's URL sits in it at the spec's path (dotted fields, `name[0]`, `name[{param}]`
//!   filled from the params, a root `[0]`), and is fetched with a `GET`. Credentials go with
//!   that request only when the URL lies under the API's base URL: a pre-signed storage URL
//!   on another host gets none.
//! - **Hosted**: Airbyte's `/execute` returns the file in base64 chunks of at most 64 KiB
//!   (`range_header`, `has_more`, `next_range_header`); the stream asks for one chunk at a
//!   time.
//!
//! The status is checked before the stream is handed over (an error answer is an
//! [`Error`]); a failure while streaming ends the stream with its error. Retries cover
//! reaching a successful answer, not a stream cut halfway (ask again with a `Range`).
//!
//! `execute(entity, "download", params)` returns one chunk as JSON, like the reference:
//! `{content (base64), encoding, bytes_returned, range_requested, next_range_header,
//! has_more, content_type}`; pass `range_header` (`bytes=65536-131071`) for the next one.

use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use futures::Stream;
use serde_json::{Map, Value};

use crate::error::Context;
use crate::http::from_reqwest;
use crate::Error;

/// The largest chunk `execute` returns for a download (and hosted mode asks Airbyte for).
pub const CHUNK_BYTES: u64 = 65_536;

/// Params of a download that are not the spec's: the byte range, and the hosted chunk
/// format.
pub(crate) const RANGE_PARAM: &str = "range_header";
pub(crate) const EXTRA_PARAMS: &[&str] = &[
    RANGE_PARAM,
    "_airbyte_response_type",
    "_airbyte_response_format",
];

/// A download in progress: a stream of the file's bytes, in the order they arrive. Dropping
/// it closes the connection.
///
/// ```no_run
/// # async fn demo(download: connector_sdk_runtime::Download) -> Result<(), connector_sdk_runtime::Error> {
/// use futures::TryStreamExt;
/// let mut download = download;
/// let mut total = 0;
/// while let Some(chunk) = download.try_next().await? {
///     total += chunk.len(); // write it somewhere
/// }
/// # let _ = total; Ok(()) }
/// ```
pub struct Download {
    content_type: Option<String>,
    content_length: Option<u64>,
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// The file's media type, as the server declared it.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The number of bytes to come, when the server declared it (one-step and two-step
    /// downloads; not hosted ones).
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// Streams a successful response's body.
    pub(crate) fn from_response(ctx: Context, resp: reqwest::Response) -> Download {
        let content_type = crate::http::header_text(resp.headers(), "content-type");
        let content_length = resp.content_length();
        let stream = futures::stream::unfold(Some(resp), move |state| {
            let ctx = ctx.clone();
            async move {
                let mut resp = state?;
                match resp.chunk().await {
                    Ok(Some(bytes)) => Some((Ok(bytes), Some(resp))),
                    Ok(None) => None,
                    // The error ends the stream.
                    Err(e) => Some((Err(from_reqwest(&ctx, e)), None)),
                }
            }
        });
        Download {
            content_type,
            content_length,
            inner: Box::pin(stream),
        }
    }

    /// A download from a stream of chunks (hosted mode).
    pub(crate) fn from_stream(
        content_type: Option<String>,
        stream: impl Stream<Item = Result<Bytes, Error>> + Send + 'static,
    ) -> Download {
        Download {
            content_type,
            content_length: None,
            inner: Box::pin(stream),
        }
    }
}

impl Stream for Download {
    type Item = Result<Bytes, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// A download of `op`: direct through the transport; hosted as a stream that asks
/// Airbyte for one chunk at a time (it holds a clone of `client`).
pub(crate) async fn open(
    client: &crate::Client,
    op: &'static crate::meta::OperationMeta,
    params: Map<String, Value>,
    range: Option<String>,
) -> Result<Download, Error> {
    if !client.is_hosted() {
        return client
            .transport()
            .download(op, &params, range.as_deref())
            .await;
    }
    let first = range.unwrap_or_else(|| format!("bytes=0-{}", CHUNK_BYTES - 1));
    let client = client.clone();
    let stream = futures::stream::unfold(Some(first), move |next| {
        let client = client.clone();
        let params = params.clone();
        async move {
            let range = next?;
            let ctx = Context::new(op.entity, op.action.as_str());
            let step = async {
                let chunk = client.transport().hosted_chunk(op, &params, &range).await?;
                let bytes = chunk.bytes(&ctx)?;
                let next = if chunk.has_more {
                    chunk.next_range_header.clone()
                } else {
                    None
                };
                Ok::<_, Error>((bytes, next))
            };
            match step.await {
                Ok((bytes, next)) => Some((Ok(bytes), next)),
                Err(e) => Some((Err(e), None)),
            }
        }
    });
    Ok(Download::from_stream(None, stream))
}

/// One hosted chunk, as Airbyte's `/execute` returns it.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct Chunk {
    #[serde(default)]
    pub(crate) content: String,
    #[serde(default)]
    pub(crate) encoding: Option<String>,
    #[serde(default)]
    pub(crate) has_more: bool,
    #[serde(default)]
    pub(crate) next_range_header: Option<String>,
}

impl Chunk {
    /// The chunk's bytes (base64, or text).
    pub(crate) fn bytes(&self, ctx: &Context) -> Result<Bytes, Error> {
        use base64::Engine as _;
        match self.encoding.as_deref() {
            None | Some("base64") => base64::engine::general_purpose::STANDARD
                .decode(self.content.as_bytes())
                .map(Bytes::from)
                .map_err(|e| {
                    Error::decode(ctx, format!("a download chunk is not base64 ({e})"), b"")
                }),
            Some(_) => Ok(Bytes::from(self.content.clone().into_bytes())),
        }
    }
}

/// The absolute URL of a two-step download's file: `path` (the spec's
/// `x-airbyte-file-url`) walked through the metadata `meta`, `{param}` indexes filled from
/// `params`.
pub(crate) fn locate_file_url(
    ctx: &Context,
    op: Option<&crate::meta::OperationMeta>,
    path: &str,
    meta: &Value,
    params: &Map<String, Value>,
) -> Result<String, Error> {
    let missing = |what: String| {
        Error::decode(
            ctx,
            format!("the download's metadata has no file URL at `{path}` ({what})"),
            meta.to_string().as_bytes(),
        )
    };
    let mut node = meta;
    for segment in path.split('.') {
        let (name, mut rest) = match segment.find('[') {
            Some(i) => (&segment[..i], &segment[i..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            node = node
                .get(name)
                .ok_or_else(|| missing(format!("no `{name}`")))?;
        }
        while let Some(after) = rest.strip_prefix('[') {
            let end = after
                .find(']')
                .ok_or_else(|| missing(format!("`{segment}` has an unclosed `[`")))?;
            let index = &after[..end];
            let n: usize = match index.strip_prefix('{').and_then(|i| i.strip_suffix('}')) {
                Some(param) => {
                    // The param as given, else its default.
                    let default = op
                        .and_then(|o| o.param(param))
                        .and_then(|p| p.default)
                        .and_then(|d| serde_json::from_str::<Value>(d).ok());
                    match params.get(param).or(default.as_ref()) {
                        Some(Value::Number(n)) => n.as_u64().and_then(|n| usize::try_from(n).ok()),
                        Some(Value::String(s)) => s.parse().ok(),
                        _ => None,
                    }
                }
                .ok_or_else(|| {
                    Error::invalid(
                        param,
                        format!("the download needs `{param}`, a whole number, to find its file"),
                    )
                })?,
                None => index
                    .parse()
                    .map_err(|_| missing(format!("`[{index}]` is not an index")))?,
            };
            node = node
                .get(n)
                .ok_or_else(|| missing(format!("no element {n}")))?;
            rest = &after[end + 1..];
        }
    }
    node.as_str()
        .map(str::to_string)
        .ok_or_else(|| missing("the value there is not a URL string".to_string()))
}

/// The JSON chunk `execute` returns for up to [`CHUNK_BYTES`] of a download that starts at
/// `start` (`range` is the `Range` asked for, if any).
pub(crate) async fn chunk_json(
    ctx: &Context,
    mut download: Download,
    range: Option<&str>,
    start: u64,
    total: Option<u64>,
) -> Result<String, Error> {
    use base64::Engine as _;
    use futures::StreamExt;
    let mut buf: Vec<u8> = Vec::new();
    let mut more = false;
    while let Some(chunk) = download.next().await {
        let chunk = chunk?;
        let room = (CHUNK_BYTES as usize).saturating_sub(buf.len());
        if chunk.len() > room {
            buf.extend_from_slice(&chunk[..room]);
            more = true;
            break;
        }
        buf.extend_from_slice(&chunk);
        if buf.len() as u64 >= CHUNK_BYTES {
            // Full: more only if the server has bytes left.
            more = match total {
                Some(t) => start.saturating_add(buf.len() as u64) < t,
                None => download.next().await.is_some(),
            };
            break;
        }
    }
    let _ = ctx;
    let got = buf.len() as u64;
    let next = more.then(|| {
        let from = start.saturating_add(got);
        format!(
            "bytes={from}-{}",
            from.saturating_add(CHUNK_BYTES).saturating_sub(1)
        )
    });
    let out = serde_json::json!({
        "content": base64::engine::general_purpose::STANDARD.encode(&buf),
        "encoding": "base64",
        "bytes_returned": got,
        "range_requested": range,
        "next_range_header": next,
        "has_more": more,
        "content_type": download.content_type(),
    });
    Ok(out.to_string())
}

/// Where a `Range: bytes=a-b` starts, and how long the file is from `Content-Range:
/// bytes a-b/total` (`None` for `*`).
pub(crate) fn range_start(range: Option<&str>) -> u64 {
    range
        .and_then(|r| r.trim().strip_prefix("bytes="))
        .and_then(|r| r.split('-').next())
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or(0)
}

/// The total size in a `Content-Range` header.
pub(crate) fn content_range_total(header: Option<&str>) -> Option<u64> {
    header?.rsplit('/').next()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn file_urls_are_found_by_the_specs_paths() {
        let ctx = Context::new("files", "download");
        let meta = json!({
            "revision": {"export_links": [{"href": "https://a/x"}]},
            "files": [{"href": "https://b/0"}, {"href": "https://b/1"}],
        });
        let params = json!({"file_index": 1});
        let params = params.as_object().unwrap();
        assert_eq!(
            locate_file_url(&ctx, None, "revision.export_links[0].href", &meta, params).unwrap(),
            "https://a/x"
        );
        assert_eq!(
            locate_file_url(&ctx, None, "files[{file_index}].href", &meta, params).unwrap(),
            "https://b/1"
        );
        assert_eq!(
            locate_file_url(
                &ctx,
                None,
                "[0].url",
                &json!([{"url": "https://c"}]),
                params
            )
            .unwrap(),
            "https://c"
        );
        for bad in [
            "files[9].href",
            "revision.nope",
            "files[x].href",
            "files[0]",
        ] {
            assert!(
                matches!(
                    locate_file_url(&ctx, None, bad, &meta, params),
                    Err(Error::Decode { .. })
                ),
                "{bad}"
            );
        }
        let none = json!({});
        assert!(matches!(
            locate_file_url(
                &ctx,
                None,
                "files[{file_index}].href",
                &meta,
                none.as_object().unwrap()
            ),
            Err(Error::InvalidInput { .. })
        ));
    }

    #[test]
    fn ranges_and_totals() {
        assert_eq!(range_start(Some("bytes=65536-131071")), 65_536);
        assert_eq!(range_start(None), 0);
        assert_eq!(range_start(Some("items=3-4")), 0);
        assert_eq!(content_range_total(Some("bytes 0-99/1234")), Some(1234));
        assert_eq!(content_range_total(Some("bytes 0-99/*")), None);
    }
}
