//! An in-process stand-in for the API behind a connector spec (and for Airbyte's hosted API),
//! for tests, examples and benchmarks of the SDKs generated from those specs. A dev-dependency
//! of a generated crate, never part of its API.
//!
//! [`Emulator`] runs an axum server on `127.0.0.1` that serves every entity of the
//! connector spec it is given (a generated crate's `SPEC_JSON`, or any connector spec as
//! JSON), with synthetic, deterministic records generated from the record schemas. Nothing
//! is hard-coded per entity, so an entity added to the spec is served without code changes.
//!
//! With incident.io's spec it behaves like incident.io's API on the wire: bearer-token auth
//! with incident.io's 401 bodies, cursor pagination (`page_size` bounds from the spec, `after`
//! = id of the last record seen, `pagination_meta` without `after` on the last page), 404/422
//! error envelopes, empty-bodied 404s for unknown routes, and `X-RateLimit-*` headers.
//! Every request is recorded ([`Emulator::requests`], headers included) and faults can be
//! injected while it runs ([`Emulator::faults`]).
//!
//! # What is served
//!
//! - **Operations**: operations with `x-airbyte-entity` and an `x-airbyte-action` of
//!   `list`, `get` or `search` (`api_search`; answered like a list), on `GET`, or on `POST`
//!   with an `application/json` `requestBody` whose schema is an object with `properties`
//!   (POST reads, below); and writes (below): `create` on `POST`, `PUT` or `PATCH`,
//!   `update` on `PATCH`, `PUT` or `POST`, `delete` on `DELETE` or `POST`, with a JSON or
//!   form (`application/x-www-form-urlencoded`) object body, a JSON array body, a
//!   free-form JSON object body, or none; GraphQL operations (`POST` with
//!   `x-airbyte-body-type: {type: graphql}`, any of those actions; see
//!   [GraphQL](#graphql)); and downloads (`download` on `GET`, or `POST` with a JSON
//!   object body or none; see [Downloads](#downloads)). Other methods and actions
//!   (uploads, multipart bodies) are skipped, so specs with them start fine. An entity
//!   with no served read is not a served entity ([`Emulator::entities`] leaves it out, it
//!   has no records), but its writes and downloads are served (see
//!   [Writes](#writes)).
//! - **POST reads**: the body's top-level members are the operation's parameters, read
//!   exactly like query parameters (page size, cursor/page/offset state, filters, lookups,
//!   checks); a body that is empty is `{}`, one that is not a JSON object (or not valid
//!   JSON) is a 400 `invalid_body`, a non-JSON `Content-Type` a 415. Body properties are
//!   checked with their JSON types (`"5"` is no integer). A `get` without a path id finds
//!   its record by the body property naming it (`id`, the entity's singular as `user` of
//!   `users`, `<singular>_id`, else its only required scalar property that names no record
//!   property); body properties naming record properties filter (and look up) like query
//!   parameters, except those with a default (a client always sends them).
//! - **Routes**: the `x-airbyte-path-override` path, else the path key without any `?k=v`
//!   part (a key is only an identity); segments may mix literals and parameters
//!   (`{ticket_id}.json`, `values:batchGet`). The `servers[0]` URL's path prefix (`/api/v2`
//!   of `https://{workspace}.example.com/api/{version}`) is optional: paths are served with
//!   and without it, a variable in it matching any one segment; next-page URLs keep the path
//!   as requested. Operations sharing a real path and method: the most literal template
//!   wins; among equals, those whose constants the request does not contradict (query
//!   parameters required with a default, a one-value enum, the key's `?k=v`; for a `POST`
//!   read, body properties with a default or a one-value enum, compared with the body),
//!   most matches first, else the first in spec order (`/reports:run:weekly` and
//!   `:monthly` are told apart by `period`). Unmatched paths and other methods get an
//!   empty 404.
//! - **Records** sit where `x-airbyte-record-extractor` says (absent or `$`: the body is the
//!   record of a `get`, the array of a list; `$.a.b.c` nested; `$.data[0]` for a `get`: an
//!   array whose first element is the record; `$.list[*].field`: one element per record, the
//!   record at `field`; `$.groups[*].page.items` with an array at the end: one group holding
//!   the page; `$[*][*]`: the records split over the object's array-valued members). The
//!   record schema is what the path leads to in the 200 schema (through `$ref`, `items`,
//!   `oneOf`-with-null and `allOf`), inline or not, or the whole 200 schema when the path is
//!   not in it; a `get` with its own schema (a full record where the list has a summary)
//!   answers in it, with the same id and shared values. Nothing else of the 200 schema is
//!   synthesized, except `info.x-airbyte-response-error-check`'s field set to the success
//!   value (`"ok": true`).
//! - **`get`** with a path id finds the record by `id` (emulator ULIDs, or for an integer
//!   `id` the 1-based ordinal), else by the top-level property the parameter names
//!   (`{project_slug}` → `slug`); unknown → 404. Without a path id: the first record whose
//!   properties equal the query parameters named like them (`?email=`), or the record a POST
//!   read's body names (`{"user": "<id>"}`), else record 0 (a singleton such as `/me`); a
//!   lookup matching nothing answers `{"data": []}` for a `[N]` extractor, else 404.
//! - **Pagination** (`ops.rs` and `backend.rs` have the details): state in a declared cursor
//!   parameter (`after`, `cursor`, `starting_after`, `page_token`, `pageToken`,
//!   `page[cursor]`, ...: the last record's id when records have emulator ids, else an
//!   opaque token), a page number (`page`, first page 1, or 0 when its minimum is 0) or an
//!   offset (`offset`), each a query parameter or a member of a POST read's body (where the
//!   client echoes the next cursor); the next position carried in the body at the meta extractor's paths
//!   (a cursor key is absent on the last page, `has_more`/`done`, `page`, `next_page`,
//!   totals, `offset`/`next_offset`, `limit` filled in by key name), in `Link:
//!   <http://Host/path?...>; rel="next"` (`@link.next`; absent on the last page), in a
//!   response header (`@header.X-Next-Cursor`, echoed into the cursor parameter; absent on
//!   the last page), or as a next-page URL in the body (`next_page_url`: absolute when the
//!   list declares a state parameter, else an API path such as `nextRecordsUrl`; `null` on
//!   the last page). Next-page URLs carry the request's query with the state (and page-size)
//!   parameter replaced; lists that declare none use `page`. Page size: the page-size
//!   parameter (`page_size`, `limit`, `per_page`, `page[size]`, `pageSize`, `count`, ...),
//!   its default or 25, clamped to its `maximum` (a 422 instead for incident.io, see
//!   [`EmulatorBuilder::reject_oversized_pages`]). Lists with `x-airbyte-no-pagination` (or
//!   no meta extractor) return every record in one body, page parameters ignored.
//! - **Parameters** travel under their names verbatim (`page[size]`, `tags[]`, `space-id`,
//!   `due.before`). Before answering, declared query and header parameters are checked, and
//!   a failure is a 400 `{"type": "validation_error", "status": 400, "errors": [{"code":
//!   "missing_parameter" | "invalid_value", "message", "source": {"field": <name>}}]}`:
//!   required ones present (a required header with a default may be absent), integers,
//!   numbers and booleans well-formed, enum members (array items and deepObject members
//!   `k[sub]` too); arrays are read per `style`/`explode` (`k=a&k=b`, or `k=a,b` for
//!   `explode: false`). Pagination parameters are checked by the pagination (422). Query
//!   parameters naming a top-level record property filter lists by equality (any of an
//!   array's values); undeclared query parameters are ignored.
//! - **Counts**: [`EmulatorBuilder::count`] per entity, else
//!   [`EmulatorBuilder::default_count`], else 50 records for paginated lists and 5 for others.
//! - **Schemas**: `oneOf` with several non-null alternatives and `type: [integer, string]`
//!   vary per record (an `id` takes the first), `type: null` is `null`, `[X, null]` is a
//!   nullable X, typed maps and `additionalProperties: true` get a few keys, `allOf` merges.
//!
//! # Writes
//!
//! `create`, `update` and `delete` change an in-memory write store, one per emulator, and
//! every read sees it (the synthesized records themselves never change;
//! [`Emulator::record`] and [`Emulator::record_count`] keep describing them):
//!
//! - **create** makes the record the generator would make at the next index (so a fresh
//!   id, distinct from every other: a ULID, or the next integer for an integer `id`), sets
//!   the path parameters that name record properties on it (a card's `board_id` from
//!   `/boards/{board_id}/cards`), then the body properties sent. The emulator applies no
//!   body defaults (a client always sends them) and never takes an `id` from the request.
//! - **update** finds its record by the path id (the last path parameter), else by the
//!   body property naming it (`id`, `<singular>_id`, ...), and sets the body properties
//!   sent; a `PUT` also removes the body schema's properties not sent (the id, and fields
//!   the body schema does not declare, stay). An unknown or deleted record is a 404 in the
//!   error envelope of reads.
//! - **delete** finds its record the same way (404 if missing) and removes it.
//! - **Reads**: a `get` answers a created or updated record and 404 for a deleted one; a
//!   list serves updated records in place, skips deleted ones and serves created ones after
//!   the synthesized ones, so paging gives every record once. Path parameters do not scope
//!   lists (`/boards/{id}/cards` lists every card, created ones included). The context
//!   store's search and SQL see the synthesized records only.
//! - **Bodies** are checked like POST reads' (400 `missing_parameter` naming a required
//!   property absent or `null`, 400 `invalid_value` for a wrong JSON type or enum member,
//!   400 `invalid_body` for a body that is not a JSON object, 415 for a non-JSON
//!   `Content-Type`); members the body schema does not declare are ignored (not stored).
//!   A write that declares no body ignores any it gets. Other body kinds:
//!   - a **form** (`application/x-www-form-urlencoded`): percent-decoded (`+` a space),
//!     bracket keys un-flattened into the object they stand for (`meta[owner]=ops` →
//!     `{"meta": {"owner": "ops"}}`, `aliases[0]=a&aliases[1]=b`, `aliases[]=a` or a
//!     repeated `aliases=a` → an array), its text values read as the schema's integers,
//!     numbers and booleans at any depth (an empty one is absent; text that does not
//!     parse is a 400 `invalid_value` naming the field, `meta[level]`), then treated as
//!     a JSON object body (checked and stored alike). JSON sent to an operation that only
//!     takes a form, or a form to one that only takes JSON, is a 415 naming the type
//!     expected; a body without a `Content-Type` is read as what the operation takes.
//!   - an **array** (`type: array`, JSON): each element checked against `items` like an
//!     object body (errors name the element: `[0].tag`); not an array is a 400
//!     `invalid_body`. It sets the record's array properties the elements speak of:
//!     `tags` of strings from each element's `tag` (the singular; scalar elements
//!     themselves), an array of objects from the elements as sent, and an integer
//!     `count`, `added` or `total` is the number of elements.
//!   - a **free-form** object (`type: object` without properties,
//!     `additionalProperties: true`): any JSON object; its members naming record
//!     properties are stored (not `id`).
//! - **Write-only entities** (no list, get or search) have their writes served, but no
//!   records: [`Emulator::entities`], [`Emulator::record_count`],
//!   [`Emulator::current_records`] and [`Emulator::written`] know nothing of them, and
//!   nothing a write does is read back. Every write of one (update and delete included)
//!   answers like a create: a fresh record of its answer's schema, with the path
//!   parameters, the path id (as `id`, for an update or delete) and the body's fields set.
//!   A path parameter naming a record of a readable entity (`board_id` of
//!   `/boards/{board_id}/tags` → `boards`, by `<singular>_id`) must name one that exists,
//!   else 404 (writes of readable entities do not check their parents).
//! - **Answers** have the lowest 2xx status the operation declares: the record where the
//!   record extractor puts it (`{"board": {...}}` for `$.board`, the record itself without
//!   one); an empty body when the status has no JSON content (a 204); for a delete whose
//!   answer has its own schema (`{archived, id}`), an object of that schema with `id` the
//!   deleted record's and top-level booleans `true`. Meta extractor entries
//!   `@header.<Name>` of a write carry the record's id in that header.
//! - [`Emulator::written`] and [`Emulator::current_records`] show the store;
//!   [`Emulator::clear_writes`] empties it. Faults, latency and the request log (method,
//!   path, headers and body; [`RecordedRequest::body_json`]) apply to writes as to reads,
//!   and a queued fault is taken by the next request whatever its method. A fault that
//!   answers instead of the API (a status, HTML, an empty body, a reset connection) leaves
//!   the store untouched; one that serves the request first (delay, stall, truncated body)
//!   lets the write happen.
//!
//! # GraphQL
//!
//! Operations whose `requestBody` has `x-airbyte-body-type: {type: graphql, query,
//! variables?, ...}` are served on their real path (the `x-airbyte-path-override`, such as
//! `POST /graphql`), where several share one endpoint:
//!
//! - **Routing**: the operation whose query template equals the body's `query` once both
//!   are normalized (whitespace and commas are insignificant, except one space between two
//!   name characters); the exact text `{{ fields }}` of a template matches any selection
//!   set, nested braces included. The most literal template wins, then spec order.
//! - **Parameters**: the request's `variables` are read back through the template's
//!   `variables`: each exact `"{{ name }}"` (at any depth, `input.title`) gives parameter
//!   `name` its JSON value; a placeholder inside text (`"Edited via {{ source }}"`) gives
//!   the text between. Query parameters given that way act as if sent in the URL (they are
//!   usually in the URL too; URL values fill in the rest); a mutation's body-schema
//!   properties are its body. They are checked like any operation's.
//! - **Answers** are the operation's, built as for other operations from the record
//!   extractor (`$.data.team.issues.nodes`): every record field, whatever the query selects;
//!   lists page with their size parameter (`first` included) and cursor (`after`, the last
//!   node's id), the meta extractor's `has_next_page` (`hasNextPage`) `true` while more
//!   follow and `end_cursor` (`endCursor`) the next cursor, `false` and `null` on the last
//!   page (no other page fields are added); filter variables naming object-valued record
//!   properties are ignored. Boolean properties beside the records' path in the 200 schema
//!   are `true` (a mutation's `success`). A mutation changes the write store like any
//!   update (or create, delete), storing only the inputs that name record properties.
//! - **Errors** follow GraphQL: HTTP 200 with `{"data": null, "errors": [{"message",
//!   "extensions": {"code"}}]}` for a query matching no operation
//!   (`GRAPHQL_VALIDATION_FAILED`) and for parameters failing their checks (a missing
//!   required variable, a bad cursor, a wrong input type: `BAD_USER_INPUT`, with
//!   `extensions.field`); an unknown id nulls the root field instead (`{"data": {"issue":
//!   null}, "errors": [{..., "path": ["issue"], "extensions": {"code": "NOT_FOUND"}}]}`).
//!   Auth failures keep the API's 401; a body without a `query` string, or not JSON, is a
//!   400 `{"errors": [{"message"}]}`. Faults apply as everywhere
//!   (`Fault::Status { status: 200, body: Some(..) }` sends a GraphQL error body).
//!
//! # Downloads
//!
//! Operations with `x-airbyte-action: download` serve files whose bytes depend only on the
//! seed, the entity, the file's id (the last path parameter) and its part
//! ([`Emulator::download_bytes`], [`Emulator::download_part_bytes`]): 1 KiB to 256 KiB, a
//! first line naming them, then pseudo-random bytes. When the entity also has records (a
//! served list or get), the id must be one of them, else 404; otherwise any id has a file.
//!
//! - **One step**: the operation answers the bytes with its declared media type
//!   (`application/octet-stream`), `Content-Length`, `Accept-Ranges: bytes` and a
//!   `Content-Disposition` file name. A download shares its path with a get when its
//!   optional query default (`alt=media`) is sent, which a client does for downloads.
//! - **Two steps** (`x-airbyte-file-url`): the operation answers JSON metadata synthesized
//!   from its 200 schema (the record's values when the entity has records), the error-check
//!   field at its success value, and an absolute file URL where the file URL says:
//!   `revision.export_links[0].href`, `[0].url`, or `files[{file_index}].href`, whose array
//!   lists max(3, index + 1) files (file `k` at index `k`; sizes and media types beside the
//!   URL are filled in). URLs the spec calls pre-signed (or on another host, a CDN, a
//!   storage URL: in the operation, its response, the field's description, or a sentence of
//!   `info.description` naming the entity) point at a second listener, the storage host
//!   ([`Emulator::storage_url`], another origin): `/__files/<token>?sig=<signature>`, served
//!   without auth (a wrong `sig` is a 403). Other URLs sit under the API's base URL as the
//!   request reached it (`/v1/__downloads/<token>`) and need the API's auth.
//! - **Ranges**: every file answer honours one `Range: bytes=a-b` (`a-`, `-n`) with a 206
//!   and `Content-Range`, 416 past the end; several ranges get the whole file.
//! - **Hosted**: Airbyte's `/execute` with action `download` (below) runs both steps inside.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use connector_sdk_emulator::{Emulator, Fault};
//!
//! let emulator = Emulator::builder(incident_io_connector::SPEC_JSON)
//!     .count("incidents", 1_000)
//!     .seed(7)
//!     .start()
//!     .await?;
//! emulator.faults().push(Fault::rate_limited(1)); // the next request gets a 429
//! let url = format!("{}/v2/incidents?page_size=250", emulator.base_url());
//! // ... point the SDK at emulator.base_url() with emulator.api_key() ...
//! # let _ = url;
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # The Airbyte-hosted API
//!
//! The same server also stands in for Airbyte's API, so the SDK's hosted mode runs without
//! Airbyte: point the hosted config's API URL at [`Emulator::airbyte_api_url`] and use
//! [`Emulator::airbyte_client_id`] / [`Emulator::airbyte_client_secret`]. Served routes:
//!
//! - `POST /api/v1/account/applications/token` — `{client_id, client_secret}` →
//!   `{access_token, token_type: "Bearer", expires_in}`, a new token per call; wrong
//!   credentials → 401 `{"message": "Invalid client credentials"}`.
//! - `GET /api/v1/integrations/connectors?workspace_name=&definition_id=` — connector
//!   lookup, `{data: [{id, name, workspace_name, definition_id}]}`.
//! - `POST /api/v1/integrations/connectors` — creates a connector (201).
//! - `POST /api/v1/integrations/connectors/{id}/execute` — `{entity, action, params}` →
//!   `{result, connector_metadata}` for `list` (`connector_metadata.next_cursor` is
//!   incident.io's `pagination_meta.after`), `get`, `create`, `update`, `delete` and
//!   `context_store_search`. A write's `params` hold its path parameters and body
//!   properties flat (`id` may stand for the parameter naming the record); the body is the
//!   params named as body properties plus the body defaults for those not given (a form
//!   operation's text values read as the schema's types), checked as on the API route; a
//!   free-form body is every param but the path, query and header ones (and `id` standing
//!   for the record); an array body is `params.items` (or `params.body`) when an array,
//!   else one element of the params named as the items' properties (plus their
//!   defaults). It runs against the same write store (GraphQL operations are run like the
//!   others; write-only entities' writes too), and `result` is the record
//!   (unwrapped from the record extractor), or `{}` when the API answers without a body.
//!   `download` takes the download's path and query parameters (and body properties)
//!   flat, `id` standing for the one naming the file, and runs both steps of a two-step
//!   download inside. With `_airbyte_response_type: "json"` it answers one chunk,
//!   `{"result": {content, encoding, bytes_returned, range_requested, next_range_header,
//!   has_more, content_type}, "connector_metadata": {}}`: at most 65,536 bytes from
//!   `range_header` (`bytes=a-b` or `bytes=a-`, default `bytes=0-65535`), base64 (or lossy
//!   text with `_airbyte_response_format: "text"`), `next_range_header` the next 64 KiB
//!   while `has_more`, `range_requested` the `range_header` given (`null` without one); a
//!   start past the end is a 416, a malformed range a 400. Without it, the file's bytes
//!   themselves (`range_header` read as a `Range`).
//!
//! Every route but the token exchange needs `Authorization: Bearer <issued, unexpired
//! token>` (else 401) and, if [`EmulatorBuilder::airbyte_organization_id`] is set, a matching
//! `X-Organization-Id` (else 403). Errors are `{"message": "...", "errors": ["..."]}`;
//! incident.io errors keep their status and message. `list` and `get` go through the same
//! code as the incident.io routes, so both transports see identical records, cursors and
//! validation. Faults, latency and the request log apply to these routes as to the
//! incident.io ones.
//!
//! `context_store_search` (wire format in the SDK's `search` module) evaluates its filter
//! over every record of the entity. Fields are the spec's `x-airbyte-context-store` fields
//! plus their nested `properties` as dotted paths; naming any other field, an unknown
//! operator or parameter, or searching an entity without context-store fields is a 422.
//! - `eq`/`neq`/`in`: JSON equality, numbers by value; a missing field equals `null`, and
//!   `neq` is exactly `not eq`.
//! - `gt`/`gte`/`lt`/`lte`: numbers numerically, strings lexicographically (RFC3339
//!   timestamps order correctly), booleans `false < true`; mixed kinds and `null` never match.
//! - `like`: whole-value match where only `%` is a wildcard, case-insensitive.
//! - `fuzzy`: every query word occurs, in order, as a case-insensitive substring.
//! - `keyword`: the value shares a word (run of letters and digits) with the query,
//!   case-insensitive.
//! - `contains` / `any`: an array field holds the value / one of the values.
//! - `not`, `and` (empty: true), `or` (empty: false); a leaf naming several fields needs all.
//! - `sort`: keys in order, `null`/missing last in both directions, ties in server order.
//! - `limit` defaults to 1000; `cursor` is opaque (checksummed; a forged one is a 422);
//!   `fields` projects to those paths, and without it records keep their searchable
//!   top-level fields. `took_ms` is the real evaluation time.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use connector_sdk_emulator::Emulator;
//!
//! let emulator = Emulator::builder(incident_io_connector::SPEC_JSON)
//!     .count("incidents", 1_000)
//!     .start()
//!     .await?;
//! // Hosted mode: api url emulator.airbyte_api_url(), credentials
//! // emulator.airbyte_client_id() / emulator.airbyte_client_secret(); the seeded connector
//! // "conn-emulator" in workspace "default" is found by lookup.
//! assert_eq!(emulator.airbyte_connector_id(), "conn-emulator");
//! # Ok(()) }
//! ```
//!
//! Module layout: `spec` reads the spec into entities, operations and compiled record
//! shapes; `ops` reads an operation's extractors, parameters (wire forms and checks) and
//! pagination form; `routes` matches request paths (templates, server prefix, shared
//! paths); `envelope` places records and meta values in a body; `bodies` reads request
//! bodies (JSON, forms) and checks them against a write's body kind; `data` generates records;
//! `backend` answers an operation with JSON and headers (shared by every transport) and
//! runs writes against the write store in `writes`; `graphql` matches GraphQL queries and
//! reads their variables; `downloads` makes files, their metadata, URLs and ranges;
//! `server` holds the router, middleware and listener; `airbyte` serves the Airbyte API and
//! `context_store` its search; `faults` and `log` own fault injection and the request log.

mod airbyte;
mod airbyte_routes;
mod backend;
mod bodies;
mod context_store;
mod data;
mod downloads;
mod envelope;
mod faults;
mod graphql;
mod inspect;
mod listener;
mod log;
mod ops;
mod routes;
mod server;
mod shaping;
mod spec;
mod sql;
mod state;
mod writes;

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use std::future::IntoFuture;

use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use data::RecordShape;
pub use faults::{Fault, Faults};
pub use log::RecordedRequest;

use airbyte::{Airbyte, AirbyteConfig};
use backend::Backend;
use listener::KillableListener;
use state::Shared;

/// How long [`Emulator::shutdown`] waits for open connections before aborting them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// A running emulator. The server stops when this is dropped or [`shutdown`](Self::shutdown).
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    storage_addr: SocketAddr,
    stop: Option<watch::Sender<bool>>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("base_url", &self.base_url())
            .field("entities", &self.entities())
            .finish_non_exhaustive()
    }
}

/// Configures and starts an [`Emulator`].
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    seed: u64,
    api_key: String,
    counts: HashMap<String, usize>,
    default_count: Option<usize>,
    spec_json: Option<String>,
    airbyte: AirbyteConfig,
    record_shape: RecordShape,
    reject_oversized_pages: Option<bool>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            seed: 1,
            api_key: "emulator-api-key".to_string(),
            counts: HashMap::new(),
            default_count: None,
            spec_json: None,
            airbyte: AirbyteConfig::default(),
            record_shape: RecordShape::Lean,
            reject_oversized_pages: None,
        }
    }
}

impl EmulatorBuilder {
    /// Seed of the synthetic data (default 1). The same seed and counts give the same records.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The API key the server accepts as `Authorization: Bearer <key>` (default `emulator-api-key`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// Number of records of `entity` (e.g. `"incidents"`).
    pub fn count(mut self, entity: &str, n: usize) -> Self {
        self.counts.insert(entity.to_string(), n);
        self
    }

    /// Number of records of every entity not given a [`count`](Self::count). Without it,
    /// paginated entities get 50 records and unpaginated ones 5.
    pub fn default_count(mut self, n: usize) -> Self {
        self.default_count = Some(n);
        self
    }

    /// How full the synthetic records are (default [`RecordShape::Lean`]);
    /// [`RecordShape::RealShaped`] sizes them like the real API's, for benchmarks.
    pub fn record_shape(mut self, shape: RecordShape) -> Self {
        self.record_shape = shape;
        self
    }

    /// What a page size above the page-size parameter's `maximum` gets: `true`, a 422
    /// naming the parameter (what incident.io answers); `false`, a page of `maximum`
    /// records. Default: `true` for the incident.io spec (`x-airbyte-connector-name:
    /// incident-io`), `false` for every other spec. Sizes below the `minimum` (1 when
    /// unset) or not integers are a 422 either way.
    pub fn reject_oversized_pages(mut self, reject: bool) -> Self {
        self.reject_oversized_pages = Some(reject);
        self
    }

    /// Serves this spec (the connector spec as JSON) instead of the one given to
    /// [`Emulator::builder`].
    pub fn spec_json(mut self, json: &str) -> Self {
        self.spec_json = Some(json.to_string());
        self
    }

    /// The Airbyte application credentials the token exchange accepts (default
    /// `emulator-client-id` / `emulator-client-secret`).
    pub fn airbyte_credentials(
        mut self,
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        self.airbyte.client_id = client_id.into();
        self.airbyte.client_secret = client_secret.into();
        self
    }

    /// The Airbyte workspace the seeded connectors live in (default `default`).
    pub fn airbyte_workspace(mut self, name: impl Into<String>) -> Self {
        self.airbyte.workspace = name.into();
        self
    }

    /// Id of the first seeded connector (default `conn-emulator`); further seeded
    /// connectors get `<id>-2`, `<id>-3`, ...
    pub fn airbyte_connector_id(mut self, id: impl Into<String>) -> Self {
        self.airbyte.connector_id = id.into();
        self
    }

    /// Requires `X-Organization-Id: <id>` on every Airbyte route except the token exchange
    /// (a missing or different value gets a 403). Default: no organization, header ignored.
    pub fn airbyte_organization_id(mut self, id: impl Into<String>) -> Self {
        self.airbyte.organization_id = Some(id.into());
        self
    }

    /// Lifetime of issued Airbyte access tokens (default 900 s), measured on the monotonic
    /// clock; sent as `expires_in` in seconds (fractional when the duration is). A zero TTL
    /// issues tokens that are already expired.
    pub fn airbyte_token_ttl(mut self, ttl: Duration) -> Self {
        self.airbyte.token_ttl = ttl;
        self
    }

    /// Number of incident.io connectors present at start in the Airbyte workspace (default
    /// 1), all holding the emulator's incident.io API key: `conn-emulator` named
    /// `incident-io - <workspace>`, then `conn-emulator-2` (`incident-io - <workspace> 2`),
    /// and so on. 0 makes a lookup find nothing; 2 or more make it ambiguous.
    pub fn airbyte_seed_connectors(mut self, n: usize) -> Self {
        self.airbyte.seed_connectors = n;
        self
    }

    /// Binds `127.0.0.1` on a free port and starts serving. Must be called inside a Tokio
    /// runtime. Fails with `InvalidData` if the spec cannot be read.
    pub async fn start(self) -> io::Result<Emulator> {
        let spec = self.spec_json.as_deref().unwrap_or_default();
        let invalid =
            |e: String| io::Error::new(io::ErrorKind::InvalidData, format!("emulator: {e}"));
        let backend = Backend::new(
            spec,
            self.seed,
            &self.counts,
            self.default_count,
            self.record_shape,
            self.reject_oversized_pages,
        )
        .map_err(invalid)?;
        let root: serde_json::Value = serde_json::from_str(spec)
            .map_err(|e| invalid(format!("spec is not valid JSON: {e}")))?;
        let airbyte = Airbyte::new(self.airbyte, &root, &self.api_key, self.seed);
        let auth = state::auth_checks(&root);
        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        // The "storage host" of pre-signed download URLs: another origin, same routes.
        let storage = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let storage_addr = storage.local_addr()?;
        let shared = Arc::new(Shared::new(
            backend,
            self.api_key,
            auth,
            self.seed,
            airbyte,
            format!("http://{storage_addr}"),
        ));

        let router = server::router(shared.clone());
        let (stop, stopped) = watch::channel(false);
        let serve = |listener: tokio::net::TcpListener, mut stopped: watch::Receiver<bool>| {
            let app = router
                .clone()
                .into_make_service_with_connect_info::<listener::ConnHandle>();
            axum::serve(KillableListener(listener), app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.changed().await;
                })
                .into_future()
        };
        let api = serve(listener, stopped.clone());
        let files = serve(storage, stopped);
        let task = tokio::spawn(async move {
            let (a, b) = tokio::join!(api, files);
            if let Err(e) = a.and(b) {
                tracing::warn!(error = %e, "emulator server stopped with an error");
            }
        });
        tracing::debug!(%addr, %storage_addr, "emulator listening");
        Ok(Emulator {
            shared,
            addr,
            storage_addr,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

impl Emulator {
    /// A builder serving `spec_json` (a connector spec as JSON, such as a generated crate's
    /// `SPEC_JSON`) with the defaults: seed 1, key `emulator-api-key`; for Airbyte,
    /// credentials `emulator-client-id` / `emulator-client-secret`, workspace `default`, one
    /// seeded connector `conn-emulator`, 900 s tokens, no organization id.
    pub fn builder(spec_json: &str) -> EmulatorBuilder {
        EmulatorBuilder::default().spec_json(spec_json)
    }

    /// Starts an emulator serving `spec_json` with the defaults.
    pub async fn start(spec_json: &str) -> io::Result<Emulator> {
        Self::builder(spec_json).start().await
    }

    /// `http://127.0.0.1:PORT`, with no trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` of the emulator's second listener, the "storage host" that
    /// pre-signed download URLs point at (another origin than [`base_url`](Self::base_url),
    /// so a client sends them no credentials). It serves the same routes.
    pub fn storage_url(&self) -> String {
        format!("http://{}", self.storage_addr)
    }

    /// The bytes a download of `entity` serves for the file `id` (file part 0: the one-step
    /// answer, or the file behind a two-step download's URL at a literal `[N]`, or at
    /// index 0 of a `[{param}]`), exactly as sent without a `Range`. `None` when the spec
    /// has no download for `entity`, or when `entity` has records and none has this id
    /// (deleted ones included); an entity with only downloads has a file for any id.
    /// Lengths vary with the id, from 1 KiB to 256 KiB.
    pub fn download_bytes(&self, entity: &str, id: &str) -> Option<Vec<u8>> {
        self.shared.backend.download_bytes(entity, id, 0)
    }

    /// Like [`download_bytes`](Self::download_bytes), for file `part` of a two-step
    /// download whose file URL has a `[{param}]` index (the element at index `part`).
    pub fn download_part_bytes(&self, entity: &str, id: &str, part: usize) -> Option<Vec<u8>> {
        self.shared.backend.download_bytes(entity, id, part)
    }

    /// The API key the server accepts.
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    /// Fault switches; changes apply to the next requests.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request received so far (up to the latest 100,000), oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.log.snapshot()
    }

    /// Number of requests received since start or the last [`clear_requests`](Self::clear_requests).
    pub fn request_count(&self) -> usize {
        self.shared.log.count()
    }

    /// Empties the request log and resets [`request_count`](Self::request_count).
    pub fn clear_requests(&self) {
        self.shared.log.clear();
    }

    /// Number of synthesized records of `entity`, or `None` if the spec has no such entity
    /// (or only writes of it: a write-only entity has no records). Writes do not change it
    /// (see [`current_records`](Self::current_records)).
    pub fn record_count(&self, entity: &str) -> Option<usize> {
        self.shared.backend.count(entity)
    }

    /// Synthesized record `index` (0-based, in server order) of `entity`, exactly as the
    /// server sends it until a write changes or deletes it (writes never change what this
    /// returns; see [`current_records`](Self::current_records)).
    pub fn record(&self, entity: &str, index: usize) -> Option<serde_json::Value> {
        self.shared.backend.record(entity, index)
    }

    /// The served entity names (those with a list, get or search), sorted by name.
    /// Write-only entities, whose writes are served too, are not listed (see
    /// [Writes](crate#writes)).
    pub fn entities(&self) -> Vec<String> {
        self.shared.backend.entities()
    }

    /// The records of `entity` created through write operations (either transport) that
    /// still exist, oldest first, as a `get` answers them now (later updates included), in
    /// the entity's record schema. Empty for an unknown or write-only entity or when
    /// nothing was created.
    pub fn written(&self, entity: &str) -> Vec<serde_json::Value> {
        self.shared.backend.written(entity)
    }

    /// Every record of `entity` as its list serves it now, in server order: the
    /// synthesized records with their updates, without the deleted ones, then the created
    /// ones. `None` if the spec has no such entity (or a write-only one). Without writes
    /// this is [`record`](Self::record) `0..`[`record_count`](Self::record_count).
    pub fn current_records(&self, entity: &str) -> Option<Vec<serde_json::Value>> {
        self.shared.backend.current(entity)
    }

    /// Forgets every write (creates, updates, deletes): every entity is its synthesized
    /// records again, and ids of created records are handed out anew.
    pub fn clear_writes(&self) {
        self.shared.backend.clear_writes();
    }

    /// The Airbyte API base URL to give the SDK's hosted mode: the same as
    /// [`base_url`](Self::base_url), since both APIs share the server.
    pub fn airbyte_api_url(&self) -> String {
        self.base_url()
    }

    /// The Airbyte `client_id` the token exchange accepts.
    pub fn airbyte_client_id(&self) -> &str {
        &self.shared.airbyte.config.client_id
    }

    /// The Airbyte `client_secret` the token exchange accepts.
    pub fn airbyte_client_secret(&self) -> &str {
        &self.shared.airbyte.config.client_secret
    }

    /// The Airbyte workspace of the seeded connectors.
    pub fn airbyte_workspace(&self) -> &str {
        &self.shared.airbyte.config.workspace
    }

    /// Id of the first seeded connector (`conn-emulator` unless configured). With
    /// [`airbyte_seed_connectors(0)`](EmulatorBuilder::airbyte_seed_connectors) no connector
    /// has this id.
    pub fn airbyte_connector_id(&self) -> &str {
        &self.shared.airbyte.config.connector_id
    }

    /// The `X-Organization-Id` the Airbyte routes require, if any.
    pub fn airbyte_organization_id(&self) -> Option<&str> {
        self.shared.airbyte.config.organization_id.as_deref()
    }

    /// The connector definition id served (the spec's
    /// `info.x-airbyte-connector-definition-id`); seeded connectors carry it.
    pub fn airbyte_definition_id(&self) -> &str {
        &self.shared.airbyte.definition_id
    }

    /// Number of Airbyte access tokens issued since start.
    pub fn tokens_issued(&self) -> usize {
        self.shared.airbyte.tokens_issued()
    }

    /// Connectors created through `POST /api/v1/integrations/connectors` (not the seeded
    /// ones), oldest first, each as stored: the request body (`name`, `definition_id`,
    /// `workspace_name`, `credentials` with the `api_key`, and `replication_config` /
    /// `source_template_id` when sent) plus the assigned `id`.
    pub fn airbyte_connectors(&self) -> Vec<serde_json::Value> {
        self.shared.airbyte.created_connectors()
    }

    /// Stops accepting connections, lets open ones finish (up to 2 s), then stops.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(true);
        }
    }
}
