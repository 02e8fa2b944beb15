//! cargo-fuzz target `envelope`: see `fleetcache_fuzz::envelope`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| fleetcache_fuzz::envelope::run(data));
