//! cargo-fuzz target `rest_input`: see `fleetcache_fuzz::rest_input`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fleetcache_fuzz::rest_input::run(data));
