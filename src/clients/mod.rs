//! Proving the generated client libraries (`--client`,
//! docs/protocol/clients-v1.md) against faults:
//! - [`proxy`]: a fault-injecting TCP proxy (cuts, refusals, slowness,
//!   a switchable target);
//! - [`tail`]: runs a client's `tail` example and judges its stdout
//!   (exactly once, in order);
//! - [`matrix`]: client x server language pairs through the proxy
//!   (`wsgen verify --client`, tests/client_matrix.rs).

pub mod matrix;
pub mod proxy;
pub mod tail;
