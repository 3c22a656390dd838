#![no_main]

// See motesvakt::fuzzing::native for what the target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| motesvakt::fuzzing::native(data));
