//! The server conformance suite (see issue 3).
