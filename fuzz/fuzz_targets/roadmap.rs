//! cargo-fuzz target `roadmap`: see `fleetcache_fuzz::roadmap`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fleetcache_fuzz::roadmap::run(data));
