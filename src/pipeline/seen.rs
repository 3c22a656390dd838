//! A set of 64-bit hashes that holds about 8.5 bytes a member: what a run has seen (the meetings it
//! released from its cache, those it wrote incidents for, the incidents it counted), which grows
//! with every meeting of a batch scan. A hash set of `u64` holds 9 bytes a bucket at a load of
//! at most 7/8 and doubles when full: 19 MB for 1,000,000 members, 28 MB while it doubles, where
//! this set holds 8.5 MB (the directory below: half a byte a member at most) and at most 18 MB
//! while it grows.
//!
//! The members are a sorted vector and a small hash set of those added since the last merge,
//! merged into the vector when the small set reaches an eighth of it. Each merge moves the whole
//! vector and the vector grows by an eighth at least, so adding `n` members costs `O(n)` moves
//! in all (about nine for each member) plus a lookup per call.
//!
//! A binary search of the whole vector misses the cache at almost every step once the vector
//! is larger than the cache (4 MB at 500,000 members): the time per lookup, and so per record,
//! grew with the input. The members are hashes, spread evenly over `u64`, so a directory of the
//! vector by their top bits (rebuilt at each merge, 4 bytes per [`PER_BUCKET`] members) leads
//! each lookup to the few cache lines its hash can be in.

use crate::meeting::FastSet;

/// The small set is merged into the sorted vector when it holds this many, or an eighth of the
/// vector if that is more.
const MIN_RECENT: usize = 4_096;

/// About this many members of the sorted vector per directory entry: a lookup searches a range
/// of about one cache line, after one read of the directory (half a byte per member).
const PER_BUCKET: usize = 8;

#[derive(Debug)]
pub(super) struct HashSet64 {
    /// Sorted, no duplicates, none of them in `recent`.
    sorted: Vec<u64>,
    /// (Indexes as `u32`: a run holds far fewer than 2^32 members, 32 GB of them.)
    /// `dir[b]` is the first index of `sorted` whose member's top `64 - shift` bits are `b` or
    /// more; one more entry at the end, `sorted.len()`. Empty while `sorted` is.
    dir: Vec<u32>,
    /// The shift that gives a member's directory entry (64: one entry for all).
    shift: u32,
    /// Added since the last merge.
    recent: FastSet<u64>,
    /// See [`MIN_RECENT`] (smaller in the tests, to merge often).
    min_recent: usize,
}

impl Default for HashSet64 {
    fn default() -> HashSet64 {
        HashSet64::with_min_recent(MIN_RECENT)
    }
}

impl HashSet64 {
    fn with_min_recent(min_recent: usize) -> HashSet64 {
        HashSet64 {
            sorted: Vec::new(),
            dir: Vec::new(),
            shift: 64,
            recent: FastSet::default(),
            min_recent: min_recent.max(1),
        }
    }

    /// Adds `hash`: whether it was not in the set yet (as [`std::collections::HashSet::insert`]).
    pub(super) fn insert(&mut self, hash: u64) -> bool {
        if self.in_sorted(hash) || !self.recent.insert(hash) {
            return false;
        }
        if self.recent.len() >= self.min_recent.max(self.sorted.len() / 8) {
            self.merge();
        }
        true
    }

    pub(super) fn contains(&self, hash: &u64) -> bool {
        self.recent.contains(hash) || self.in_sorted(*hash)
    }

    /// Whether `hash` is in the sorted vector: searched in its directory entry's range only.
    fn in_sorted(&self, hash: u64) -> bool {
        let Some(b) = self.bucket(hash) else {
            return false;
        };
        let (lo, hi) = (self.dir[b] as usize, self.dir[b + 1] as usize);
        self.sorted[lo..hi].binary_search(&hash).is_ok()
    }

    /// The directory entry of `hash` (`None` while the vector is empty).
    fn bucket(&self, hash: u64) -> Option<usize> {
        if self.dir.is_empty() {
            return None;
        }
        Some(top_bits(hash, self.shift))
    }

    /// Empties the set and gives its memory back (the service starts a new run every batch).
    pub(super) fn clear(&mut self) {
        *self = HashSet64::with_min_recent(self.min_recent);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
    }

    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Moves `recent` into `sorted`, merging from the back in place: the vector grows by
    /// exactly what is added, so it never holds more than its members and the one reallocation.
    fn merge(&mut self) {
        let mut add: Vec<u64> = self.recent.drain().collect();
        add.sort_unstable();
        let old = self.sorted.len();
        self.sorted.reserve_exact(add.len());
        self.sorted.resize(old + add.len(), 0);
        let (mut i, mut j) = (old, add.len());
        while j > 0 {
            let k = i + j - 1;
            if i > 0 && self.sorted[i - 1] > add[j - 1] {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = add[j - 1];
                j -= 1;
            }
        }
        self.index();
    }

    /// Rebuilds the directory for the sorted vector: a power of two of entries, about one per
    /// [`PER_BUCKET`] members.
    fn index(&mut self) {
        let n = self.sorted.len();
        let bits = (n / PER_BUCKET).max(1).ilog2();
        self.shift = 64 - bits;
        let buckets = 1usize << bits;
        let mut dir = Vec::with_capacity(buckets + 1);
        let mut i = 0;
        for b in 0..buckets {
            while i < n && top_bits(self.sorted[i], self.shift) < b {
                i += 1;
            }
            dir.push(i as u32);
        }
        dir.push(n as u32);
        self.dir = dir;
    }
}

/// `hash`'s directory entry: its bits above `shift` (none, entry 0, when `shift` is 64).
fn top_bits(hash: u64, shift: u32) -> usize {
    hash.checked_shr(shift).unwrap_or(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u64),
        Contains(u64),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Small values, so that most inserts and lookups hit members; now and then a large one,
        // so that the order of the sorted vector is tested at its ends too.
        let value = prop_oneof![8 => 0u64..300, 1 => any::<u64>()];
        prop_oneof![
            6 => value.clone().prop_map(Op::Insert),
            4 => value.prop_map(Op::Contains),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Every answer is a hash set's, however the members are split between the sorted
        /// vector and the small set, and the vector stays sorted without duplicates.
        #[test]
        fn answers_as_a_hash_set(min_recent in 1usize..20, ops in prop::collection::vec(op(), 0..600)) {
            let mut set = HashSet64::with_min_recent(min_recent);
            let mut model = HashSet::new();
            for op in ops {
                match op {
                    Op::Insert(h) => prop_assert_eq!(set.insert(h), model.insert(h)),
                    Op::Contains(h) => prop_assert_eq!(set.contains(&h), model.contains(&h)),
                    Op::Clear => {
                        set.clear();
                        model.clear();
                    }
                }
                prop_assert_eq!(set.len(), model.len());
                prop_assert!(set.sorted.windows(2).all(|w| w[0] < w[1]));
                prop_assert!(set.sorted.iter().all(|h| !set.recent.contains(h)));
            }
        }
    }

    /// Members spread over all of `u64` (as hashes are), so that the directory has many
    /// entries: each member is found, and values next to members are not.
    #[test]
    fn the_directory_finds_every_member() {
        let mut set = HashSet64::with_min_recent(64);
        let mut model = HashSet::new();
        let mut x = 1u64;
        for _ in 0..200_000 {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            assert_eq!(set.insert(x), model.insert(x));
        }
        for &h in &model {
            assert!(set.contains(&h));
            assert!(!set.insert(h));
            for near in [h.wrapping_add(1), h.wrapping_sub(1), !h] {
                assert_eq!(set.contains(&near), model.contains(&near));
            }
        }
        assert!(set.dir.len() > 1_000);
        assert_eq!(*set.dir.last().unwrap() as usize, set.sorted.len());
        assert!(set.contains(&0) == model.contains(&0));
        assert!(set.contains(&u64::MAX) == model.contains(&u64::MAX));
    }

    #[test]
    fn holds_about_eight_bytes_a_member() {
        let mut set = HashSet64::default();
        for h in 0..1_000_000u64 {
            assert!(set.insert(h.wrapping_mul(0x9E37_79B9_7F4A_7C15)));
        }
        assert_eq!(set.len(), 1_000_000);
        // The vector is sized exactly at each merge; the small set holds less than an eighth.
        assert!(set.sorted.capacity() <= 1_000_000);
        assert!(set.recent.len() < 1_000_000 / 8 + 1);
        assert!(!set.insert(0));
        assert!(set.contains(&0x9E37_79B9_7F4A_7C15));
    }
}
