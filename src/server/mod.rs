//! The HTTP server: the accept loop with connection timeouts and graceful shutdown
//! ([`listen`]), and the protection stack around the API routes ([`protect`]).

pub mod listen;
pub mod protect;

pub use listen::serve;
pub use protect::{protect, Limits};
