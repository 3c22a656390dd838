//! A set of 64-bit hashes that holds about 8 bytes a member: what a run has seen (the meetings it
//! released from its cache, those it wrote incidents for, the incidents it counted), which grows
//! with every meeting of a batch scan. A hash set of `u64` holds 9 bytes a bucket at a load of
//! at most 7/8 and doubles when full: 19 MB for 1,000,000 members, 28 MB while it doubles, where
//! this set holds 8 MB and at most 17 MB while it grows.
//!
//! The members are a sorted vector and a small hash set of those added since the last merge,
//! merged into the vector when the small set reaches an eighth of it. Each merge moves the whole
//! vector and the vector grows by an eighth at least, so adding `n` members costs `O(n)` moves
//! in all (about nine for each member) plus a binary search per call.

use crate::meeting::FastSet;

/// The small set is merged into the sorted vector when it holds this many, or an eighth of the
/// vector if that is more.
const MIN_RECENT: usize = 4_096;

#[derive(Debug)]
pub(super) struct HashSet64 {
    /// Sorted, no duplicates, none of them in `recent`.
    sorted: Vec<u64>,
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
            recent: FastSet::default(),
            min_recent: min_recent.max(1),
        }
    }

    /// Adds `hash`: whether it was not in the set yet (as [`std::collections::HashSet::insert`]).
    pub(super) fn insert(&mut self, hash: u64) -> bool {
        if self.sorted.binary_search(&hash).is_ok() || !self.recent.insert(hash) {
            return false;
        }
        if self.recent.len() >= self.min_recent.max(self.sorted.len() / 8) {
            self.merge();
        }
        true
    }

    pub(super) fn contains(&self, hash: &u64) -> bool {
        self.recent.contains(hash) || self.sorted.binary_search(hash).is_ok()
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
    }
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
