#![no_main]

// See motesvakt::fuzzing::line_reader for what the target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| motesvakt::fuzzing::line_reader(data));
