//! cargo-fuzz target `ws_op`: see `fleetcache_fuzz::ws_op`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fleetcache_fuzz::ws_op::run(data));
