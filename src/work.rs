//! Work on both cores (or however many there are): an ordered parallel map over a batch.
//!
//! The batch scan splits its input into blocks and its judging into batches of meetings; each
//! batch is cut into runs of a few items, which the calling thread and scoped threads take in
//! turn as each finishes its last, and the results come back in the input's order, so that what is
//! written and printed does not depend on the number of threads or on which finished first.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The number of threads to use by default: the machine's parallelism, at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(NonZeroUsize::get)
        .unwrap_or(1)
        .min(8)
}

/// `f` over `items` on up to `threads` threads; the results in the order of `items`.
///
/// The items are cut into runs of a few each ([`runs_of`]), which the threads take one after
/// another as they finish the last, so that one costly item (a meeting with a long history)
/// does not leave the others waiting for the thread that has it: the calling thread is one of
/// them, and it would otherwise only wait.
pub fn map_ordered<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.max(1).min(items.len().max(1));
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let total = items.len();
    let per = runs_of(total, threads);
    let mut runs: Vec<Mutex<Vec<T>>> = Vec::with_capacity(total.div_ceil(per));
    let mut items = items.into_iter();
    loop {
        let run: Vec<T> = items.by_ref().take(per).collect();
        if run.is_empty() {
            break;
        }
        runs.push(Mutex::new(run));
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done: Vec<(usize, Vec<R>)> = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(run) = runs.get(i) else { break };
            // Each run is taken by one thread only: the lock is never waited for.
            let run = std::mem::take(&mut *run.lock().unwrap_or_else(|e| e.into_inner()));
            done.push((i, run.into_iter().map(&f).collect()));
        }
        done
    };
    let work = &work;
    let mut done: Vec<(usize, Vec<R>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads).map(|_| s.spawn(work)).collect();
        let mut done = work();
        for h in handles {
            match h.join() {
                Ok(v) => done.extend(v),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        done
    });
    done.sort_unstable_by_key(|(i, _)| *i);
    let mut out = Vec::with_capacity(total);
    for (_, results) in done {
        out.extend(results);
    }
    out
}

/// Items per run for [`map_ordered`]: about eight runs per thread, so that the threads end
/// together, and no fewer than one item each.
fn runs_of(items: usize, threads: usize) -> usize {
    items.div_ceil(threads * 8).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_the_order_of_the_input_whatever_the_threads() {
        let items: Vec<u32> = (0..1000).collect();
        let want: Vec<u32> = items.iter().map(|i| i * 3).collect();
        for threads in [1, 2, 3, 7, 2000] {
            assert_eq!(map_ordered(items.clone(), threads, |i| i * 3), want);
        }
        assert!(map_ordered(Vec::<u32>::new(), 4, |i| i).is_empty());
    }
}
