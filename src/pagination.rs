//! Pages and lazy streams over them. A list returns one [`Page`]; `pages()` and `stream()`
//! follow `next_cursor` until the API stops returning one (incident.io: `pagination_meta.after`
//! absent, or `pagination_meta` absent), one request at a time.

use std::future::Future;

use futures::{stream, Stream, TryStreamExt};

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

struct State<B, F> {
    builder: B,
    fetch: F,
    cursor: Option<String>,
    done: bool,
}

/// Pages of a paginated list: `fetch(builder, cursor)` sends one request; the first uses the
/// builder's own cursor (`None` passed). Ends after the page without a cursor, or with an
/// error (after every earlier page was yielded). A cursor that repeats is an error, not a loop.
pub(crate) fn pages<B, T, F, Fut>(
    entity: &'static str,
    builder: B,
    fetch: F,
) -> impl Stream<Item = Result<crate::Page<T>, Error>> + Send + 'static
where
    B: Send + 'static,
    T: Send + 'static,
    F: Fn(&B, Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send,
{
    let state = State {
        builder,
        fetch,
        cursor: None,
        done: false,
    };
    stream::try_unfold(state, move |mut s| async move {
        if s.done {
            return Ok(None);
        }
        let page = (s.fetch)(&s.builder, s.cursor.clone()).await?;
        match &page.next_cursor {
            Some(next) if s.cursor.as_deref() == Some(next.as_str()) => {
                return Err(Error::Pagination {
                    entity: entity.to_string(),
                    message: format!(
                        "the API returned the cursor {next:?} twice in a row; stopping instead of looping"
                    ),
                });
            }
            Some(next) => s.cursor = Some(next.clone()),
            None => s.done = true,
        }
        Ok(Some((page, s)))
    })
}

/// The single page of an unpaginated list, as a stream.
pub(crate) fn single<T, Fut>(
    fut: Fut,
) -> impl Stream<Item = Result<Page<T>, Error>> + Send + 'static
where
    T: Send + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send + 'static,
{
    stream::once(fut)
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
