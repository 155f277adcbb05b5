//! How `ws_throughput` measures, apart from what it measures: CPU time from `/proc`, the
//! paired phase that gives the ratios, and the single-variant mode valgrind runs.

pub mod cpu;
pub mod paired;
pub mod valgrind;
