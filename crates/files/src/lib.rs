//! Reading and writing files that anyone may have written: documents read whole only when
//! they are regular files of bounded size ([`files`]), files written whole or not at all
//! ([`atomic`]), versioned JSON documents ([`json`]), and the hex and step-limit fields of
//! their JSON ([`hexser`], [`limit`]); the executor [`Address`] they name.

pub mod address;
pub mod atomic;
pub mod files;
pub mod hexser;
pub mod json;
pub mod limit;

pub use address::Address;
