//! The request types behind every generated builder: [`ListRequest`] and [`GetRequest`], generic
//! over the operation's params struct `P` and record type `T` and driven by the operation's
//! metadata. The generated `<Entity><Action>` builders wrap them and add one setter per
//! parameter; sending, paging, prefetching and the bulk page size are written once, here.

use std::fmt;
use std::marker::PhantomData;

use futures::{stream, Stream, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::meta::OperationMeta;
use crate::search::{SearchField, SearchPage, SearchQuery};
use crate::transport::Transport;
use crate::{pagination, params, Client, Error, Page};

/// A list request: one page with [`send`](Self::send), every page or record lazily with
/// [`pages`](Self::pages) and [`stream`](Self::stream).
pub struct ListRequest<P, T> {
    client: Client,
    op: &'static OperationMeta,
    params: P,
    prefetch: bool,
    record: PhantomData<fn() -> T>,
}

impl<P: Clone, T> Clone for ListRequest<P, T> {
    fn clone(&self) -> Self {
        ListRequest {
            client: self.client.clone(),
            op: self.op,
            params: self.params.clone(),
            prefetch: self.prefetch,
            record: PhantomData,
        }
    }
}

impl<P: fmt::Debug, T> fmt::Debug for ListRequest<P, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ListRequest")
            .field(
                "operation",
                &format_args!("{}.{}", self.op.entity, self.op.action),
            )
            .field("params", &self.params)
            .field("prefetch", &self.prefetch)
            .finish()
    }
}

impl<P, T> ListRequest<P, T>
where
    P: Serialize + Clone + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
{
    /// A request for `op` with `params` (built by generated code).
    #[doc(hidden)]
    pub fn new(client: Client, op: &'static OperationMeta, params: P) -> Self {
        ListRequest {
            client,
            op,
            params,
            prefetch: false,
            record: PhantomData,
        }
    }

    /// The parameters this request will send.
    pub fn params(&self) -> &P {
        &self.params
    }

    /// The parameters, for the generated setters.
    #[doc(hidden)]
    pub fn params_mut(&mut self) -> &mut P {
        &mut self.params
    }

    /// Fetch one page ahead in [`pages`](Self::pages) and [`stream`](Self::stream) (off by
    /// default): the request for page n+1 starts, on its own Tokio task, as soon as page n
    /// arrives, so it travels while you consume page n. At most one page is held ahead;
    /// dropping the stream cancels it. With it on, a stream you stop early has sent one
    /// request more than it used.
    pub fn prefetch(mut self, on: bool) -> Self {
        self.prefetch = on;
        self
    }

    /// Sends the request and returns one page of records with the cursor of the next page.
    pub async fn send(self) -> Result<Page<T>, Error> {
        let params = params::to_map(self.op, &self.params)?;
        self.client.transport().list(self.op, &params).await
    }

    /// Every page, fetched lazily one request at a time, following the cursor until the API
    /// stops returning one; the first page starts from this request's own cursor, if set.
    /// Without an explicit page size, pages are as large as the operation allows (its bulk
    /// page size). A failed request ends the stream with its error, after every earlier
    /// page was yielded; a cursor the API repeats is an error, not a loop.
    pub fn pages(self) -> impl Stream<Item = Result<Page<T>, Error>> + Send + 'static {
        use futures::future::Either;
        let op = self.op;
        // The bulk page size applies when the caller set none (before the defaults of
        // required parameters are filled in).
        let params = params::given(&self.params).and_then(|mut map| {
            if let (Some(name), Some(size)) = (op.page_size_param, op.bulk_page_size) {
                if map.get(name).is_none_or(Value::is_null) {
                    map.insert(name.to_string(), Value::from(size));
                }
            }
            params::finish(op, map)
        });
        let params = match params {
            Ok(map) => map,
            Err(e) => return Either::Left(futures::stream::once(async move { Err(e) })),
        };
        let fetch = move |(client, params): &(Client, Map<String, Value>),
                          cursor: Option<String>| {
            let client = client.clone();
            let mut params = params.clone();
            async move {
                if op.follows_urls() {
                    return client
                        .transport()
                        .list_from(op, &params, cursor.as_deref())
                        .await;
                }
                if let (Some(c), Some(name)) = (cursor, op.cursor_param) {
                    // A number cursor (a page number) goes back as a number.
                    let numeric = op
                        .param(name)
                        .is_some_and(|p| p.kind == crate::meta::ParamKind::Integer);
                    let value = match c.parse::<i64>() {
                        Ok(n) if numeric => Value::from(n),
                        _ => Value::String(c),
                    };
                    params.insert(name.to_string(), value);
                }
                client.transport().list(op, &params).await
            }
        };
        Either::Right(pagination::pages(
            op.entity,
            self.prefetch && op.is_paginated(),
            (self.client, params),
            fetch,
        ))
    }

    /// Every record across all pages, lazily: each page is requested when the previous one
    /// is used up. Collect with `futures::TryStreamExt::try_collect`.
    pub fn stream(self) -> impl Stream<Item = Result<T, Error>> + Send + 'static {
        pagination::items(self.pages())
    }
}

impl<P, T> std::future::IntoFuture for ListRequest<P, T>
where
    P: Serialize + Clone + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
{
    type Output = Result<Page<T>, Error>;
    type IntoFuture = crate::BoxFuture<Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A request answered by one record: a `get`, or a write (`create`, `update`, `delete`),
/// whose answer is the record the API sends back (`()` when the spec gives it no body).
///
/// Writes follow the retry rule of [`crate::retry`]: a `create` or a POST/PATCH `update` is
/// never repeated once it may have reached the server.
pub struct GetRequest<P, T> {
    client: Client,
    op: &'static OperationMeta,
    params: P,
    record: PhantomData<fn() -> T>,
}

impl<P: Clone, T> Clone for GetRequest<P, T> {
    fn clone(&self) -> Self {
        GetRequest {
            client: self.client.clone(),
            op: self.op,
            params: self.params.clone(),
            record: PhantomData,
        }
    }
}

impl<P: fmt::Debug, T> fmt::Debug for GetRequest<P, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GetRequest")
            .field(
                "operation",
                &format_args!("{}.{}", self.op.entity, self.op.action),
            )
            .field("params", &self.params)
            .finish()
    }
}

impl<P, T> GetRequest<P, T>
where
    P: Serialize + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
{
    /// A request for `op` with `params` (built by generated code).
    #[doc(hidden)]
    pub fn new(client: Client, op: &'static OperationMeta, params: P) -> Self {
        GetRequest {
            client,
            op,
            params,
            record: PhantomData,
        }
    }

    /// The parameters this request will send.
    pub fn params(&self) -> &P {
        &self.params
    }

    /// The parameters, for the generated setters.
    #[doc(hidden)]
    pub fn params_mut(&mut self) -> &mut P {
        &mut self.params
    }

    /// Sends the request and returns the record.
    pub async fn send(self) -> Result<T, Error> {
        let params = params::to_map(self.op, &self.params)?;
        if self.op.action.is_write() {
            self.client.transport().write(self.op, &params).await
        } else {
            self.client.transport().get(self.op, &params).await
        }
    }
}

impl<P, T> std::future::IntoFuture for GetRequest<P, T>
where
    P: Serialize + Send + Sync + 'static,
    T: DeserializeOwned + Send + 'static,
{
    type Output = Result<T, Error>;
    type IntoFuture = crate::BoxFuture<Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A write request (`create`, `update`, `delete`): the same machinery as a get.
pub type WriteRequest<P, T> = GetRequest<P, T>;

/// A download request: awaited, it opens the file and returns a [`crate::Download`], a
/// stream of its bytes (see [`crate::download`]).
pub struct DownloadRequest<P> {
    client: Client,
    op: &'static OperationMeta,
    params: P,
    range: Option<String>,
}

impl<P: Clone> Clone for DownloadRequest<P> {
    fn clone(&self) -> Self {
        DownloadRequest {
            client: self.client.clone(),
            op: self.op,
            params: self.params.clone(),
            range: self.range.clone(),
        }
    }
}

impl<P: fmt::Debug> fmt::Debug for DownloadRequest<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadRequest")
            .field(
                "operation",
                &format_args!("{}.{}", self.op.entity, self.op.action),
            )
            .field("params", &self.params)
            .field("range", &self.range)
            .finish()
    }
}

impl<P> DownloadRequest<P>
where
    P: Serialize + Send + Sync + 'static,
{
    /// A request for `op` with `params` (built by generated code).
    #[doc(hidden)]
    pub fn new(client: Client, op: &'static OperationMeta, params: P) -> Self {
        DownloadRequest {
            client,
            op,
            params,
            range: None,
        }
    }

    /// The parameters this request will send.
    pub fn params(&self) -> &P {
        &self.params
    }

    /// The parameters, for the generated setters.
    #[doc(hidden)]
    pub fn params_mut(&mut self) -> &mut P {
        &mut self.params
    }

    /// Asks for part of the file: an HTTP `Range` value such as `bytes=0-1023` (one-step
    /// downloads; in hosted mode, where the first chunk starts).
    pub fn range(mut self, range: impl Into<String>) -> Self {
        self.range = Some(range.into());
        self
    }

    /// Opens the download: checks the answer's status and returns the byte stream.
    pub async fn send(self) -> Result<crate::Download, Error> {
        let params = params::to_map(self.op, &self.params)?;
        crate::download::open(&self.client, self.op, params, self.range).await
    }
}

impl<P> std::future::IntoFuture for DownloadRequest<P>
where
    P: Serialize + Send + Sync + 'static,
{
    type Output = Result<crate::Download, Error>;
    type IntoFuture = crate::BoxFuture<Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A pending search of one entity; await it for one page, or [`stream`](Self::stream) every
/// match.
#[derive(Debug)]
#[must_use = "a search does nothing until it is awaited"]
pub struct Search<F, R> {
    client: Client,
    query: SearchQuery<F>,
    record: PhantomData<fn() -> R>,
}

impl<F: SearchField, R> Clone for Search<F, R> {
    fn clone(&self) -> Self {
        Search {
            client: self.client.clone(),
            query: self.query.clone(),
            record: PhantomData,
        }
    }
}

impl<F: SearchField, R: DeserializeOwned + Send + 'static> Search<F, R> {
    #[doc(hidden)]
    pub fn new(client: Client, query: SearchQuery<F>) -> Self {
        Search {
            client,
            query,
            record: PhantomData,
        }
    }

    /// Sends the search and returns one page. In direct mode: [`Error::HostedOnly`], before any
    /// request.
    pub async fn send(self) -> Result<SearchPage<R>, Error> {
        match self.client.transport() {
            Transport::Hosted(h) => h.search(F::ENTITY, self.query.to_params()).await,
            Transport::Direct(_) => Err(Error::HostedOnly {
                operation: format!("{}.search", F::ENTITY),
            }),
        }
    }

    /// Every match across pages, following `cursor` while `has_more`.
    pub fn stream(self) -> impl Stream<Item = Result<R, Error>> + Send + 'static {
        let state = Some(self);
        stream::try_unfold(state, |state| async move {
            let Some(search) = state else {
                return Ok(None);
            };
            let next = search.clone();
            let page = search.send().await?;
            let follow = match (&page.cursor, page.has_more) {
                (Some(c), true) if next.query.cursor.as_deref() != Some(c.as_str()) => {
                    let mut n = next;
                    n.query.cursor = Some(c.clone());
                    Some(n)
                }
                _ => None,
            };
            Ok(Some((stream::iter(page.data.into_iter().map(Ok)), follow)))
        })
        .try_flatten()
    }
}

impl<F: SearchField, R: DeserializeOwned + Send + 'static> std::future::IntoFuture
    for Search<F, R>
{
    type Output = Result<SearchPage<R>, Error>;
    type IntoFuture = crate::BoxFuture<Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}

/// A context-store SQL query on one entity (hosted mode only): built by the generated
/// `<entity>().sql(..)`; await it or call [`send`](Self::send).
#[derive(Clone, Debug)]
#[must_use = "nothing is sent until this is awaited"]
pub struct SqlQuery {
    client: Client,
    entity: &'static str,
    sql: String,
    limit: Option<u64>,
}

impl SqlQuery {
    #[doc(hidden)]
    pub fn new(client: Client, entity: &'static str, sql: String) -> Self {
        SqlQuery {
            client,
            entity,
            sql,
            limit: None,
        }
    }

    /// At most this many rows.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }

    /// Runs the query. In direct mode: [`Error::HostedOnly`], before any request; an empty
    /// query or a zero limit: [`Error::InvalidInput`], before any request.
    pub async fn send(self) -> Result<crate::sql::SqlResult, Error> {
        let mut params = Map::new();
        params.insert("sql".into(), Value::String(self.sql));
        if let Some(l) = self.limit {
            params.insert("limit".into(), Value::from(l));
        }
        crate::sql::check_params(self.entity, &params)?;
        match self.client.transport() {
            Transport::Hosted(h) => h.sql(self.entity, params).await,
            Transport::Direct(_) => Err(Error::HostedOnly {
                operation: format!("{}.{}", self.entity, crate::sql::SQL_ACTION),
            }),
        }
    }
}

impl std::future::IntoFuture for SqlQuery {
    type Output = Result<crate::sql::SqlResult, Error>;
    type IntoFuture = crate::BoxFuture<Self::Output>;
    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.send())
    }
}
