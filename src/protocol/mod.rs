//! The protocol around the proof (in progress): executor keys and addresses, windbacks, signed
//! votes, reveals and the full check. The spot-check audit, the challenge game, leak claims and
//! the simulator are still to come.

pub mod audit;
pub mod challenge;
pub mod keys;
pub mod leak;
pub mod simulate;
pub mod vote;
pub mod windback;
