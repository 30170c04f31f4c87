//! The stack: `infra/template.yaml` read and resolved (`template`), provisioned into the local
//! cloud (`provision`), each function held to its IAM role (`iam`), and the demo catalog seeded
//! (`catalog`).

pub mod catalog;
pub mod iam;
pub mod provision;
pub mod template;
