//! A client generated from `spec/reads.yaml`, a spec of our own writing that uses every
//! read construct of the connector-spec family this generator supports (see the header of
//! the spec for the list). It exists for its tests (`tests/wire.rs`), which check each
//! construct on the wire against a local server: the request sent (path, query, headers)
//! and the records read back across pages. Not published.
#![allow(missing_docs)]

include!(concat!(env!("OUT_DIR"), "/generated.rs"));
