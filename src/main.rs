//! The `motesvakt` binary: parses the command line and runs it. All logic is in the library.

use std::process::ExitCode;

use clap::Parser;
use motesvakt::cli::{self, Cli};

fn main() -> ExitCode {
    few_malloc_arenas();
    redacted_panics();
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

/// A panic's message may quote a value from the input: it is shown like every other error
/// (identity numbers redacted, control characters escaped), with where it happened and, with
/// `RUST_BACKTRACE` set, the backtrace. The exit code stays 101.
fn redacted_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let thread = std::thread::current();
        eprintln!(
            "{}",
            panic_text(thread.name().unwrap_or("unnamed"), &at, &message)
        );
        if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
            eprintln!("{}", std::backtrace::Backtrace::force_capture());
        }
    }));
}

/// The message of a panic in thread `thread` at `at`.
fn panic_text(thread: &str, at: &str, message: &str) -> String {
    format!(
        "motesvakt: internal error: thread '{}' panicked{at}: {}\n    this is a bug: please report it with the command line (not the input)",
        motesvakt::report::shown(thread),
        motesvakt::report::shown_lines(message)
    )
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

#[cfg(test)]
mod tests {
    #[test]
    fn a_panic_message_is_shown_redacted_and_escaped() {
        let text = super::panic_text(
            "reader-1",
            " at src/x.rs:1",
            "bad value `19861208-2399`\u{1b}[2J\nsecond line",
        );
        assert!(!text.contains("2399") && !text.contains('\u{1b}'), "{text}");
        assert!(
            text.starts_with("motesvakt: internal error: thread 'reader-1' panicked at src/x.rs:1: bad value `********-****`\\u{1b}[2J\n    second line"),
            "{text}"
        );
    }
}
