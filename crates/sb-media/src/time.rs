//! Time as an input: the millisecond [`Timestamp`] (from `sb-time`) that the owner of a
//! media state machine passes in with every call.
//!
//! **Invariant:** nothing in this crate reads a clock. The driver maps its clock (the Unix
//! epoch, or a monotonic origin) to these timestamps; tests use a virtual clock from zero.

pub use sb_time::Timestamp;
