#![no_main]

// See motesvakt::fuzzing::zoom for what the target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| motesvakt::fuzzing::zoom(data));
