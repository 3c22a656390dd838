#![no_main]

// See motesvakt::fuzzing::csv_reader for what the target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| motesvakt::fuzzing::csv_reader(data));
