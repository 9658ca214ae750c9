//! The equality stage: satisfaction and channel use by protected characteristic, with intervals,
//! tests against the rest of the respondents and disclosure control. Reads only the lake.

pub mod breakdown;
pub mod suppress;
