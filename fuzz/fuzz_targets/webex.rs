#![no_main]

// See motesvakt::fuzzing::webex for what the target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| motesvakt::fuzzing::webex(data));
