//! `aqua-network`: peers, particles, routing, builtins, and the deterministic simulator
//! that runs them in virtual time (see ARCHITECTURE.md).
//!
//! The simulator core is pure like the VM: no clock, no threads, no I/O. A run is a
//! function of the network description, the script, the data and the seed; host-native
//! service processes enter through the `ExternalServices` trait (`process.rs`).

pub mod builtins;
pub mod compute;
pub mod description;
pub mod network;
pub mod process;
pub mod registry;
pub mod report;
pub mod sim;
pub mod spell;
pub mod svg;

pub use description::{Description, DescriptionError};
pub use network::Network;
pub use process::ProcessServices;
pub use report::Report;
pub use sim::{ExternalServices, NoExternalServices, RunSpec, Simulation, Timings};
