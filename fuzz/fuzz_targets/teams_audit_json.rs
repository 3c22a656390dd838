#![no_main]

// See motesvakt::fuzzing::teams_audit_json for what the target checks.
libfuzzer_sys::fuzz_target!(|data: &[u8]| motesvakt::fuzzing::teams_audit_json(data));
