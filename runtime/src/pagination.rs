//! Pages and lazy streams over them. A list returns one [`Page`]; `pages()` and `stream()`
//! follow `next_cursor` until the API stops returning one (incident.io: `pagination_meta.after`
//! absent, or `pagination_meta` absent).
//!
//! By default a stream sends one request at a time: page n+1 is requested when the caller
//! asks for it. With `.prefetch(true)` on a paginated list builder, the request for page n+1
//! starts as soon as page n arrives, on its own Tokio task, so it travels (and decodes) while
//! the caller consumes page n. At most one page is fetched ahead: the next request starts only
//! once the caller has taken the prefetched page, so memory stays O(page size). Dropping the
//! stream cancels a prefetch in flight.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::{stream, Stream, TryStreamExt};
use tracing::Instrument;

use crate::Error;

/// One page of records and the cursor of the next page.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The records of this page, in server order.
    pub data: Vec<T>,
    /// Pass this back as `.after(cursor)` for the next page; `None` on the last page and for
    /// lists that are not paginated.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page.
    pub fn new(data: Vec<T>, next_cursor: Option<String>) -> Self {
        Page { data, next_cursor }
    }

    /// Whether another page follows.
    pub fn has_more(&self) -> bool {
        self.next_cursor.is_some()
    }
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;
    fn into_iter(self) -> Self::IntoIter {
        self.data.into_iter()
    }
}

type PageResult<T> = Result<Page<T>, Error>;
type BoxedFetch<T> = Pin<Box<dyn Future<Output = PageResult<T>> + Send>>;

/// The request for the next page.
enum InFlight<T> {
    /// Runs when the stream is polled (no prefetch, or no Tokio runtime to spawn on).
    Inline(BoxedFetch<T>),
    /// Runs on its own task (prefetch); aborted if the stream is dropped first.
    Spawned(tokio::task::JoinHandle<PageResult<T>>),
}

impl<T> Drop for InFlight<T> {
    fn drop(&mut self) {
        if let InFlight::Spawned(handle) = self {
            handle.abort();
        }
    }
}

/// The stream behind `pages()`.
struct Pager<B, F, T> {
    entity: &'static str,
    builder: B,
    fetch: F,
    prefetch: bool,
    /// The cursor of the request in flight (or about to be sent); `None` for the first page,
    /// which uses the builder's own cursor.
    cursor: Option<String>,
    inflight: Option<InFlight<T>>,
    done: bool,
}

// `Pager` never pins its fields: the in-flight future is boxed and a `JoinHandle` is `Unpin`.
impl<B, F, T> Unpin for Pager<B, F, T> {}

impl<B, F, Fut, T> Pager<B, F, T>
where
    F: Fn(&B, Option<String>) -> Fut,
    Fut: Future<Output = PageResult<T>> + Send + 'static,
    T: Send + 'static,
{
    /// Starts the request for the page at `self.cursor`: on a task when prefetching (and a
    /// Tokio runtime is running), else as a future polled by the stream.
    fn start(&mut self) {
        let fut = (self.fetch)(&self.builder, self.cursor.clone());
        let inflight = match tokio::runtime::Handle::try_current() {
            Ok(rt) if self.prefetch => InFlight::Spawned(rt.spawn(fut.in_current_span())),
            _ => InFlight::Inline(Box::pin(fut)),
        };
        self.inflight = Some(inflight);
    }

    /// Checks the cursor of a page that arrived, and (when prefetching) starts the next one.
    fn arrived(&mut self, page: PageResult<T>) -> PageResult<T> {
        let page = match page {
            Ok(page) => page,
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        match &page.next_cursor {
            Some(next) if self.cursor.as_deref() == Some(next.as_str()) => {
                self.done = true;
                return Err(Error::Pagination {
                    entity: self.entity.to_string(),
                    message: format!(
                        "the API returned the cursor {next:?} twice in a row; stopping instead of looping"
                    ),
                });
            }
            Some(next) => {
                self.cursor = Some(next.clone());
                if self.prefetch {
                    self.start();
                }
            }
            None => self.done = true,
        }
        Ok(page)
    }
}

impl<B, F, Fut, T> Stream for Pager<B, F, T>
where
    F: Fn(&B, Option<String>) -> Fut,
    Fut: Future<Output = PageResult<T>> + Send + 'static,
    T: Send + 'static,
{
    type Item = PageResult<T>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.done && this.inflight.is_none() {
            return Poll::Ready(None);
        }
        if this.inflight.is_none() {
            this.start();
        }
        let result = match this.inflight.as_mut() {
            Some(InFlight::Inline(fut)) => match fut.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r,
            },
            Some(InFlight::Spawned(handle)) => match Pin::new(handle).poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(r)) => r,
                Poll::Ready(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Poll::Ready(Err(_)) => Err(Error::Pagination {
                    entity: this.entity.to_string(),
                    message: "the prefetch of the next page was cancelled (is the Tokio runtime shutting down?)".to_string(),
                }),
            },
            None => unreachable!("a request was just started"),
        };
        this.inflight = None;
        Poll::Ready(Some(this.arrived(result)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done && self.inflight.is_none() {
            (0, Some(0))
        } else {
            (0, None)
        }
    }
}

/// Pages of a paginated list: `fetch(builder, cursor)` sends one request; the first uses the
/// builder's own cursor (`None` passed). Ends after the page without a cursor, or with an
/// error (after every earlier page was yielded). A cursor that repeats is an error, not a loop.
/// With `prefetch`, the request for page n+1 is spawned as soon as page n arrives (one page
/// ahead at most).
pub(crate) fn pages<B, T, F, Fut>(
    entity: &'static str,
    prefetch: bool,
    builder: B,
    fetch: F,
) -> impl Stream<Item = Result<crate::Page<T>, Error>> + Send + 'static
where
    B: Send + 'static,
    T: Send + 'static,
    F: Fn(&B, Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
{
    Pager {
        entity,
        builder,
        fetch,
        prefetch,
        cursor: None,
        inflight: None,
        done: false,
    }
}

/// Flattens a stream of pages into a stream of records.
pub(crate) fn items<T, S>(pages: S) -> impl Stream<Item = Result<T, Error>> + Send + 'static
where
    T: Send + 'static,
    S: Stream<Item = Result<Page<T>, Error>> + Send + 'static,
{
    pages
        .map_ok(|page| stream::iter(page.data.into_iter().map(Ok)))
        .try_flatten()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use futures::StreamExt;

    use super::*;

    /// A fake list of `pages` pages of 2 records; counts requests started and finished.
    fn fake(
        prefetch: bool,
        pages_total: usize,
        delay: Duration,
        started: Arc<AtomicUsize>,
    ) -> impl Stream<Item = PageResult<usize>> + Send + 'static {
        pages(
            "fake",
            prefetch,
            (),
            move |_: &(), cursor: Option<String>| {
                let started = started.clone();
                async move {
                    started.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(delay).await;
                    let n: usize = cursor.map_or(0, |c| c.parse().unwrap());
                    let next = (n + 1 < pages_total).then(|| (n + 1).to_string());
                    Ok(Page::new(vec![2 * n, 2 * n + 1], next))
                }
            },
        )
    }

    #[tokio::test]
    async fn without_prefetch_requests_wait_for_the_caller() {
        let started = Arc::new(AtomicUsize::new(0));
        let mut s = Box::pin(fake(false, 3, Duration::ZERO, started.clone()));
        assert_eq!(s.next().await.unwrap().unwrap().data, vec![0, 1]);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(started.load(Ordering::SeqCst), 1);
        let rest: Vec<_> = s.map(|p| p.unwrap().data).collect().await;
        assert_eq!(rest, vec![vec![2, 3], vec![4, 5]]);
        assert_eq!(started.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn prefetch_fetches_one_page_ahead_and_keeps_order() {
        let started = Arc::new(AtomicUsize::new(0));
        let mut s = Box::pin(fake(true, 4, Duration::ZERO, started.clone()));
        assert_eq!(s.next().await.unwrap().unwrap().data, vec![0, 1]);
        tokio::time::sleep(Duration::from_millis(20)).await;
        // Page 2 was requested while the caller held page 1, and nothing beyond it.
        assert_eq!(started.load(Ordering::SeqCst), 2);
        let rest: Vec<_> = s.map(|p| p.unwrap().data).collect().await;
        assert_eq!(rest, vec![vec![2, 3], vec![4, 5], vec![6, 7]]);
        assert_eq!(started.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn dropping_the_stream_cancels_the_prefetch() {
        let finished = Arc::new(AtomicUsize::new(0));
        let f = finished.clone();
        let s = pages("fake", true, (), move |_: &(), cursor: Option<String>| {
            let f = f.clone();
            async move {
                if cursor.is_some() {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    f.fetch_add(1, Ordering::SeqCst);
                }
                Ok(Page::new(vec![1], Some("next".to_string())))
            }
        });
        let mut s = Box::pin(s);
        s.next().await.unwrap().unwrap();
        drop(s);
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(finished.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_repeated_cursor_is_an_error_with_prefetch_too() {
        for prefetch in [false, true] {
            let s = pages(
                "fake",
                prefetch,
                (),
                |_: &(), _cursor: Option<String>| async {
                    Ok(Page::new(vec![1], Some("same".to_string())))
                },
            );
            let got: Vec<_> = s.collect().await;
            assert_eq!(got.len(), 2, "prefetch={prefetch}");
            assert!(got[0].is_ok());
            assert!(matches!(got[1], Err(Error::Pagination { .. })));
        }
    }

    #[tokio::test]
    async fn an_error_ends_the_stream_after_earlier_pages() {
        for prefetch in [false, true] {
            let s = pages(
                "fake",
                prefetch,
                (),
                |_: &(), cursor: Option<String>| async move {
                    match cursor {
                        None => Ok(Page::new(vec![1], Some("a".to_string()))),
                        Some(_) => Err(Error::invalid("x", "boom")),
                    }
                },
            );
            let got: Vec<_> = s.collect().await;
            assert_eq!(got.len(), 2, "prefetch={prefetch}");
            assert!(got[0].is_ok() && got[1].is_err());
        }
    }
}
