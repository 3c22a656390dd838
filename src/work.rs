//! Work on both cores (or however many there are): an ordered parallel map over a batch.
//!
//! The batch scan splits its input into blocks and its judging into batches of meetings; each
//! batch is cut into one slice per thread, the first worked on by the calling thread and the
//! others in scoped threads, and the results come back in the input's order, so that what is
//! written and printed does not depend on the number of threads or on which finished first.

use std::num::NonZeroUsize;

/// The number of threads to use by default: the machine's parallelism, at most 8.
pub fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(NonZeroUsize::get)
        .unwrap_or(1)
        .min(8)
}

/// `f` over `items` on up to `threads` threads; the results in the order of `items`.
pub fn map_ordered<T: Send, R: Send>(
    items: Vec<T>,
    threads: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.max(1).min(items.len().max(1));
    if threads == 1 {
        return items.into_iter().map(f).collect();
    }
    let per = items.len().div_ceil(threads);
    let mut slices: Vec<Vec<T>> = Vec::with_capacity(threads);
    let mut items = items.into_iter();
    loop {
        let slice: Vec<T> = items.by_ref().take(per).collect();
        if slice.is_empty() {
            break;
        }
        slices.push(slice);
    }
    let f = &f;
    let mut slices = slices.into_iter();
    let here = slices.next().unwrap_or_default();
    std::thread::scope(|s| {
        // The first slice on this thread, which would otherwise only wait: one thread fewer
        // to start (and its allocator's heap to set up and give back) per call.
        let handles: Vec<_> = slices
            .map(|slice| s.spawn(move || slice.into_iter().map(f).collect::<Vec<R>>()))
            .collect();
        let mut out: Vec<R> = here.into_iter().map(f).collect();
        for h in handles {
            match h.join() {
                Ok(v) => out.extend(v),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    })
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
