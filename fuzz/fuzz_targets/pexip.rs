#![no_main]

// See motesvakt::fuzzing::pexip for what the target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| motesvakt::fuzzing::pexip(data));
