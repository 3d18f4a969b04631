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
//! reaching a successful answer, not a stream cut halfway: ask again with a `Range` (a
//! server may ignore it and answer with the whole file: [`Download::content_range`] says
//! which). A download has no overall deadline, only the client's timeout between reads, so
//! a large file is not cut off. A redirect to another host (pre-signed storage) is followed
//! without credentials. Downloads are reads, retried like them, whatever their method.
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
    content_range: Option<String>,
    inner: Pin<Box<dyn Stream<Item = Result<Bytes, Error>> + Send>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_type", &self.content_type)
            .field("content_length", &self.content_length)
            .field("content_range", &self.content_range)
            .finish_non_exhaustive()
    }
}

impl Download {
    /// The file's media type, as the server declared it.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The number of bytes to come, when the server declared it (direct downloads; hosted
    /// ones arrive in chunks of unknown total).
    pub fn content_length(&self) -> Option<u64> {
        self.content_length
    }

    /// The part of the file this is (`bytes 0-1023/146515`), when the server answered a
    /// [`range`](crate::requests::DownloadRequest::range) with `206 Partial Content`. `None`
    /// with a range asked means the server ignored it and sends the whole file.
    pub fn content_range(&self) -> Option<&str> {
        self.content_range.as_deref()
    }

    /// Streams a successful response's body.
    pub(crate) fn from_response(ctx: Context, resp: reqwest::Response) -> Download {
        let content_type = crate::http::header_text(resp.headers(), "content-type");
        let content_length = resp.content_length();
        let content_range = (resp.status().as_u16() == 206)
            .then(|| crate::http::header_text(resp.headers(), "content-range"))
            .flatten();
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
            content_range,
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
            content_range: None,
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
    // Where an explicit range ends (the stream stops there, not at the end of the file).
    let last = range.as_deref().and_then(range_end);
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
                let mut bytes = chunk.bytes(&ctx)?;
                let next = next_hosted_range(&ctx, &range, &chunk, bytes.len(), last)?;
                // Nothing past the end of an asked range.
                if let Some(end) = last {
                    let keep = end
                        .saturating_add(1)
                        .saturating_sub(range_start(Some(&range)));
                    if (bytes.len() as u64) > keep {
                        bytes.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
                    }
                }
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

/// The range to ask for after a hosted chunk of `got` bytes answered `asked`: none when the
/// file (or the asked range, ending at `last`) is done. A chunk that makes no progress (no
/// bytes, or a next range that does not start where this one ended) or says there is more
/// without saying where is an error, never an endless or silently short stream.
fn next_hosted_range(
    ctx: &Context,
    asked: &str,
    chunk: &Chunk,
    got: usize,
    last: Option<u64>,
) -> Result<Option<String>, Error> {
    if !chunk.has_more {
        return Ok(None);
    }
    let bad = |why: String| Error::decode(ctx, format!("a download chunk {why}"), b"");
    let Some(next) = chunk.next_range_header.clone() else {
        return Err(bad("says has_more but gives no next_range_header".into()));
    };
    let expected = range_start(Some(asked)).saturating_add(got as u64);
    if got == 0 || range_start(Some(&next)) != expected {
        return Err(bad(format!(
            "asked as `{asked}` brought {got} bytes and then `{next}`: no progress"
        )));
    }
    match last {
        Some(end) if expected > end => Ok(None),
        // The next chunk ends where the asked range does, at the latest.
        Some(end) => {
            let next_end = range_end(&next).unwrap_or(end).min(end);
            Ok(Some(format!("bytes={expected}-{next_end}")))
        }
        None => Ok(Some(next)),
    }
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

/// The JSON chunk `execute` returns for up to [`CHUNK_BYTES`] of a download whose stream
/// starts at byte `start` of the file (read from a `206`'s `Content-Range`, else 0: a server
/// that ignored the range sends the whole file, and the `skip` bytes before the range asked
/// are dropped). `total` is the file's size when known; without it, a full chunk is taken to
/// have more after it.
pub(crate) async fn chunk_json(
    download: Download,
    range: Option<&str>,
    start: u64,
    skip: u64,
    total: Option<u64>,
) -> Result<String, Error> {
    use base64::Engine as _;
    use futures::StreamExt;
    let mut download = download;
    let mut buf: Vec<u8> = Vec::new();
    let mut to_skip = skip;
    let mut ended = true;
    while let Some(chunk) = download.next().await {
        let mut chunk = chunk?;
        if to_skip > 0 {
            let drop = usize::try_from(to_skip)
                .unwrap_or(usize::MAX)
                .min(chunk.len());
            to_skip -= drop as u64;
            chunk = chunk.slice(drop..);
        }
        let room = (CHUNK_BYTES as usize).saturating_sub(buf.len());
        if chunk.len() >= room {
            buf.extend_from_slice(&chunk[..room]);
            // Full: whatever is left of this piece, or the next one, is more.
            ended = chunk.len() == room && download.next().await.is_none();
            break;
        }
        buf.extend_from_slice(&chunk);
    }
    let at = start.saturating_add(skip);
    let got = buf.len() as u64;
    let end = at.saturating_add(got);
    let more = match total {
        Some(t) => end < t,
        // No total: a full chunk may have more after it (a 206 of exactly the range asked).
        None => got == CHUNK_BYTES || !ended,
    };
    let next = more.then(|| {
        format!(
            "bytes={end}-{}",
            end.saturating_add(CHUNK_BYTES).saturating_sub(1)
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

/// Where a `Range: bytes=a-b` ends (`None` for `a-` or a suffix range).
fn range_end(range: &str) -> Option<u64> {
    range
        .trim()
        .strip_prefix("bytes=")?
        .split_once('-')?
        .1
        .trim()
        .parse()
        .ok()
}

/// The first byte and the total size in a `Content-Range: bytes a-b/total` header (`None`
/// total for `*`).
pub(crate) fn content_range(header: &str) -> Option<(u64, Option<u64>)> {
    let rest = header.trim().strip_prefix("bytes")?.trim();
    let (span, total) = rest.split_once('/')?;
    let start = span.split_once('-')?.0.trim().parse().ok()?;
    Some((start, total.trim().parse().ok()))
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
    fn hosted_chunks_must_make_progress() {
        let ctx = Context::new("files", "download");
        let chunk = |has_more: bool, next: Option<&str>| Chunk {
            content: String::new(),
            encoding: None,
            has_more,
            next_range_header: next.map(str::to_string),
        };
        let next = |asked: &str, c: &Chunk, got: usize, last: Option<u64>| {
            next_hosted_range(&ctx, asked, c, got, last)
        };
        assert_eq!(
            next(
                "bytes=0-65535",
                &chunk(true, Some("bytes=65536-131071")),
                65_536,
                None
            )
            .unwrap(),
            Some("bytes=65536-131071".to_string())
        );
        assert_eq!(
            next("bytes=0-65535", &chunk(false, None), 10, None).unwrap(),
            None
        );
        // The same range again, no bytes, or more with nowhere to go: errors, not loops.
        for (c, got) in [
            (chunk(true, Some("bytes=0-65535")), 65_536),
            (chunk(true, Some("bytes=0-65535")), 0),
            (chunk(true, None), 65_536),
        ] {
            assert!(matches!(
                next("bytes=0-65535", &c, got, None),
                Err(Error::Decode { .. })
            ));
        }
        // An explicit range ends the stream at its end, and no chunk asks past it.
        assert_eq!(
            next(
                "bytes=0-99",
                &chunk(true, Some("bytes=100-65635")),
                100,
                Some(99)
            )
            .unwrap(),
            None
        );
        assert_eq!(
            next(
                "bytes=0-65535",
                &chunk(true, Some("bytes=65536-131071")),
                65_536,
                Some(99_999)
            )
            .unwrap(),
            Some("bytes=65536-99999".to_string())
        );
    }

    #[test]
    fn ranges_and_totals() {
        assert_eq!(range_start(Some("bytes=65536-131071")), 65_536);
        assert_eq!(range_start(None), 0);
        assert_eq!(range_start(Some("items=3-4")), 0);
        assert_eq!(content_range("bytes 100-199/1234"), Some((100, Some(1234))));
        assert_eq!(content_range("bytes 0-99/*"), Some((0, None)));
        assert_eq!(content_range("bytes */1234"), None);
        assert_eq!(content_range("bytes 99999999999999999999-1/2"), None);
        assert_eq!(range_end("bytes=0-9"), Some(9));
        assert_eq!(range_end("bytes=10-"), None);
    }
}
