//! The common path allocates nothing: scanning a message without digits, or with digits that
//! form no identifier (times, phone numbers, amounts), makes no heap allocation. Counted with a
//! global allocator that counts the allocations of the current thread.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use motesvakt::detect::{Context, DetectSettings, Detector, HashKey};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn common_path_does_not_allocate() {
    let d = Detector::new(&DetectSettings::default(), HashKey::from_bytes([2; 32])).unwrap();
    let subject = ["Veckomöte avdelning 4"];
    let ctx = Context {
        related: &subject,
        time: None,
    };
    let messages = [
        "Hej! Kan någon ta över rond i eftermiddag?",
        "Tack för idag, bra diskussion om schemat 👍",
        "Mötet börjar 14:15, länk i kalendern.",
        "Ring mig på 070-123 45 67 om det strular.",
        "Kostnad 12 450 kr, leverans 2024-06-11.",
        "Mötes-ID 345 678 901, PIN 7200.",
        "Version 2024.11.5 är ute, starta om efter 17:00.",
        "",
    ];
    // Warm up anything lazily initialised inside the dependencies.
    for m in messages {
        let _ = d.scan(m, &ctx);
    }
    for m in messages {
        let n = allocations_during(|| {
            let found = d.scan(m, &ctx);
            assert!(found.is_empty());
        });
        assert_eq!(n, 0, "{n} allocations scanning {m:?}");
    }
    // A finding allocates (its redacted form and hash), as it should.
    let n = allocations_during(|| {
        assert_eq!(d.scan("pnr 19861208-2399", &ctx).len(), 1);
    });
    assert!(n > 0);
}
