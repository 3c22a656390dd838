//! The `motesvakt` binary: parses the command line and runs it. All logic is in the library.

use std::process::ExitCode;

use clap::Parser;
use motesvakt::cli::{self, Cli};

/// mimalloc instead of glibc malloc (see [`few_resident_pages`]): small objects (observations,
/// parsed records) are allocated and freed with fewer instructions, and memory freed on another
/// thread goes back to the heap it came from.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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

/// mimalloc's defaults trade memory for speed: freed pages are given back to the OS only after
/// a delay (10 s for whole arenas), and arenas are committed up front, so that a purge only
/// resets pages and they stay counted as resident. Observations are made on reading threads and
/// freed on judging threads: with the defaults the peak RSS of a scan was up to 1.8 times
/// glibc's. Purging after 100 ms (1 s for arenas) and committing on demand keeps it below
/// glibc's; purging at once saved 2-4 MiB more but cost 0.2-0.6 s of system time per 200 MB.
/// 10 ms (the delay before `p11-mem`) still purged and faulted in again the same pages many
/// times a second: 100 ms halves the page faults and madvise calls (native 200 MB 124,000 ->
/// 58,000 faults, system time 1.1 -> 0.6 s) for 8-11 MB more at the peak; 1 s cost 37 MB.
/// The options must be set before the first allocation creates the first arena, which happens
/// before `main`: in a constructor that runs before mimalloc's own (priority 101) and before
/// the Rust runtime's.
#[cfg(target_os = "linux")]
#[used]
#[unsafe(link_section = ".init_array.00100")]
static FEW_RESIDENT_PAGES: extern "C" fn() = few_resident_pages;

#[cfg(target_os = "linux")]
extern "C" fn few_resident_pages() {
    use std::ffi::{c_int, c_long};
    // `mi_option_t` in mimalloc 3's `mimalloc.h` (the version libmimalloc-sys builds by
    // default); libmimalloc-sys names neither.
    const MI_OPTION_ARENA_EAGER_COMMIT: c_int = 4;
    const MI_OPTION_PURGE_DELAY: c_int = 15;
    unsafe extern "C" {
        fn mi_option_set(option: c_int, value: c_long);
    }
    // SAFETY: mi_option_set only stores an option value; no thread has been started yet.
    unsafe {
        mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        mi_option_set(MI_OPTION_PURGE_DELAY, 100);
    }
}

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

    /// The constructor ran before the first allocation and mimalloc kept what it set: had the
    /// option numbers moved (a mimalloc other than 3), the values read back would differ
    /// (mimalloc 3's defaults: eager commit 2, purge delay 10 ms).
    #[cfg(target_os = "linux")]
    #[test]
    fn mimalloc_options_are_set_before_the_first_allocation() {
        use std::ffi::{c_int, c_long};
        unsafe extern "C" {
            fn mi_option_get(option: c_int) -> c_long;
        }
        // SAFETY: mi_option_get only reads an option value.
        let (eager_commit, purge_delay) = unsafe { (mi_option_get(4), mi_option_get(15)) };
        assert_eq!((eager_commit, purge_delay), (0, 100));
    }
}
