//! A client generated from `../spec/writes.yaml`, a spec of our own writing that uses the
//! write constructs of the connector-spec family (create, update and delete over POST, PUT,
//! PATCH and DELETE; JSON bodies; path overrides; answers with a record, with an envelope
//! or with no body) beside the reads that read the writes back. It exists for its tests
//! (`tests/wire.rs`): the method, path and body on the wire, what is retried and what is not,
//! and a created record read back. Not published.
#![allow(missing_docs)]

include!(concat!(env!("OUT_DIR"), "/generated.rs"));
