//! `aqua-network`: peers, particles, routing, builtins, spells, deployments, and the
//! deterministic simulator that runs them in virtual time (see ARCHITECTURE.md).

pub mod builtins;
