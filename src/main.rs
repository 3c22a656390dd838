//! The `motesvakt` binary: parses the command line and runs it. All logic is in the library.

use std::process::ExitCode;

use clap::Parser;
use motesvakt::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with exit 0; usage errors exit 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors may name files and values from outside: never raw control characters.
            eprintln!(
                "motesvakt: error: {}",
                motesvakt::report::terminal_safe_lines(&format!("{e:#}"))
            );
            ExitCode::from(2)
        }
    }
}
