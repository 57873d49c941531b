//! The running server: [`run`] wires the public listener (the API behind the protection
//! stack, [`protect`]) and the admin listener ([`admin`]: metrics, reload), handles signals
//! and drains on shutdown; [`listen`] is the accept loop; [`reload`] swaps in new data.

pub mod admin;
pub mod conn;
pub mod guard;
pub mod listen;
pub mod paced;
pub mod protect;
pub mod reload;
mod run;

pub use protect::{protect, Limits};
pub use run::{run, shutdown_signal, Listeners, RunOptions};
