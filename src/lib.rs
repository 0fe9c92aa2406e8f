//! wsgen: spec (YAML) -> validate -> IR -> Tera templates per language -> files,
//! then the runner boots each output and proves it over the wire.
//!
//! The module layout follows that pipeline:
//! - [`spec`]: serde types mirroring the YAML, located diagnostics, semantic checks;
//! - [`ir`]: the resolved, language-neutral model templates read;
//! - [`lang`]: per-language drivers (capabilities, names, pinned dependencies);
//! - [`emit`]: template loading, escaping filters, rendering and normalisation;
//! - [`wire`]: our own RFC 6455 client codec, able to send malformed traffic;
//! - [`conformance`]: the Autobahn-class server suite built on [`wire`].

pub mod bench;
pub mod conformance;
pub mod contract;
pub mod emit;
pub mod ir;
pub mod lang;
pub mod pipeline;
pub mod runner;
pub mod scenario;
pub mod spec;
pub mod wire;
