//! The `motesvakt` binary: parses the command line and runs it. All logic is in the library.

use std::process::ExitCode;

use clap::Parser;
use motesvakt::cli::{self, Cli};

fn main() -> ExitCode {
    few_malloc_arenas();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors exit 2. A usage error
            // quotes the value given, which may be anything: shown redacted and escaped.
            if !e.use_stderr() {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            let text = e.render().to_string();
            eprintln!(
                "{}",
                motesvakt::report::shown_lines(text.trim_end()).replace("\n    \n", "\n\n")
            );
            return ExitCode::from(2);
        }
    };
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors may name files and values from outside: never raw control characters,
            // never an identity number, whatever part of the program wrote the message.
            eprintln!(
                "motesvakt: error: {}",
                motesvakt::report::shown_lines(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}

/// Two malloc arenas instead of glibc's eight per core: observations are made on reading
/// threads and freed on judging threads, and with an arena per short-lived thread the freed
/// memory stays resident in arenas no thread uses again (a fifth of the peak RSS of a scan).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn few_malloc_arenas() {
    unsafe extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    /// `M_ARENA_MAX` in glibc's `malloc.h`.
    const M_ARENA_MAX: i32 = -8;
    // SAFETY: mallopt only sets an allocator parameter; called before any thread is started.
    unsafe {
        mallopt(M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn few_malloc_arenas() {}
