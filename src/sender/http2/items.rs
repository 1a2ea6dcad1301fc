//! The unsettled notifications of an engine, by key.
//!
//! Keys are handed out in sequence and notifications settle roughly in the
//! order they were sent, so a ring indexed by `key - base` holds them: no
//! hashing, no rehashing of a table of 100,000 entries while a batch grows
//! (both were visible in profiles), and neighbours in memory are neighbours
//! in time. A settled entry leaves a hole until every older one has settled.

use std::collections::VecDeque;

/// Values by sequential `u64` keys.
pub(super) struct Ring<T> {
    /// The key of `slots[0]`.
    base: u64,
    slots: VecDeque<Option<T>>,
    len: usize,
}

impl<T> Default for Ring<T> {
    fn default() -> Self {
        Ring {
            base: 0,
            slots: VecDeque::new(),
            len: 0,
        }
    }
}

impl<T> Ring<T> {
    /// The key the next [`Ring::push`] gets.
    pub(super) fn next_key(&self) -> u64 {
        self.base + self.slots.len() as u64
    }

    /// Stores `value` under [`Ring::next_key`] and returns that key.
    pub(super) fn push(&mut self, value: T) -> u64 {
        let key = self.next_key();
        self.slots.push_back(Some(value));
        self.len += 1;
        key
    }

    fn index(&self, key: u64) -> Option<usize> {
        usize::try_from(key.checked_sub(self.base)?).ok()
    }

    pub(super) fn get_mut(&mut self, key: u64) -> Option<&mut T> {
        let i = self.index(key)?;
        self.slots.get_mut(i)?.as_mut()
    }

    pub(super) fn remove(&mut self, key: u64) -> Option<T> {
        let i = self.index(key)?;
        let value = self.slots.get_mut(i)?.take()?;
        self.len -= 1;
        while matches!(self.slots.front(), Some(None)) {
            self.slots.pop_front();
            self.base += 1;
        }
        if self.len == 0 {
            // Give the memory of a large batch back once it is all settled.
            self.base += self.slots.len() as u64;
            self.slots = VecDeque::new();
        }
        Some(value)
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The keys present, oldest first.
    pub(super) fn keys(&self) -> Vec<u64> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, v)| v.is_some())
            .map(|(i, _)| self.base + i as u64)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_sequence_holes_and_removal_in_any_order() {
        let mut r = Ring::default();
        let keys: Vec<u64> = (0..10).map(|i| r.push(i * 10)).collect();
        assert_eq!(keys, (0..10).collect::<Vec<_>>());
        assert_eq!(r.remove(3), Some(30));
        assert_eq!(r.remove(3), None);
        assert_eq!(r.remove(0), Some(0));
        assert_eq!(r.len(), 8);
        assert_eq!(r.keys(), vec![1, 2, 4, 5, 6, 7, 8, 9]);
        *r.get_mut(9).unwrap() += 1;
        assert_eq!(r.get_mut(0), None);
        assert_eq!(r.get_mut(10), None);
        for k in [9, 1, 2, 5, 4, 8, 7, 6] {
            assert!(r.remove(k).is_some(), "{k}");
        }
        assert!(r.is_empty());
        assert_eq!(r.keys(), Vec::<u64>::new());
        // Keys go on from where they were.
        assert_eq!(r.push(1), 10);
        assert_eq!(r.get_mut(10), Some(&mut 1));
    }
}
