//! Integration tests of carepost-policy, one binary with a module per feature.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod it {
    pub mod api;
    pub mod decision;
    pub mod detectors;
    pub mod evaluation;
    pub mod mime;
    pub mod robustness;
    pub mod rules;
    pub mod support;
}
