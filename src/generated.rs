//! Everything generated from `spec/incident-io.yaml` by `build.rs` (see the `codegen/` crate):
//! progenitor's models and raw client (`raw`, re-exported as [`crate::models`]), open enums,
//! params types, request builders, entity handles, operation metadata and the `execute`
//! dispatch table. Nothing in this module is written by hand.

include!(concat!(env!("OUT_DIR"), "/generated.rs"));
