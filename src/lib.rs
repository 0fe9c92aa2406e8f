//! wsgen: spec (YAML) -> validate -> IR -> Tera templates per language -> files,
//! then the runner boots each output and proves it over the wire.
//!
//! The module layout follows that pipeline:
//! - [`spec`]: serde types mirroring the YAML, located diagnostics, the JSON
//!   Schema and starter specs;
//! - [`ir`]: the resolved, language-neutral model templates read: defaults,
//!   command-line overrides and every semantic check, all errors at once;
//! - [`lang`]: per-language drivers (capabilities, names, pinned dependencies);
//! - [`emit`]: template loading, escaping filters, rendering and normalisation;
//! - [`wire`]: our own RFC 6455 client codec, able to send malformed traffic;
//! - [`conformance`]: the Autobahn-class server suite built on [`wire`];
//! - [`scenario`]: the declarative suites of `generated-tests/` played over the
//!   wire, and `wsgen verify`;
//! - [`runner`]: install, build, boot and stop a generated project;
//! - [`clients`]: the fault proxy and client x server matrix of the
//!   generated client libraries (`wsgen verify --client`);
//! - [`bench`]: the load generator and the generated-vs-hand-written comparison;
//! - [`pipeline`]: spec file and flags -> IR -> files, in one place;
//!
//! The protocols the generated servers implement are in `docs/protocol/`.

pub mod bench;
pub mod clients;
pub mod conformance;
pub mod contract;
pub mod emit;
pub mod ir;
pub mod lang;
pub mod pipeline;
pub mod protocol;
pub mod runner;
pub mod scenario;
pub mod single;
pub mod spec;
pub mod wire;
