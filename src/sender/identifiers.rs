//! Identifiers of notifications, the same on both protocols: the caller's
//! (`identifier` option; in `sendMany`, notification #i gets identifier + i),
//! else the connection's sequence 1, 2, 3… (wrapping at 2³²).

/// A connection's default identifiers.
#[derive(Debug, Clone)]
pub struct Identifiers {
    next: u32,
}

impl Default for Identifiers {
    fn default() -> Self {
        Identifiers { next: 1 }
    }
}

impl Identifiers {
    /// The next number of the sequence.
    pub fn next_default(&mut self) -> u32 {
        let id = self.next;
        self.next = self.next.wrapping_add(1);
        id
    }

    /// `given` if the caller gave one, else the next number of the sequence.
    pub fn or_next(&mut self, given: Option<u32>) -> u32 {
        match given {
            Some(id) => id,
            None => self.next_default(),
        }
    }
}

/// `sendMany`: the identifier of notification #`index` when the first has
/// `base` (wrapping); `None` without an `identifier` option.
#[inline]
pub fn nth(base: Option<u32>, index: u64) -> Option<u32> {
    // Only the low 32 bits of the index matter once it wraps.
    base.map(|base| base.wrapping_add((index & u64::from(u32::MAX)) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_starts_at_1_and_wraps() {
        let mut ids = Identifiers::default();
        assert_eq!(
            (ids.next_default(), ids.or_next(Some(77)), ids.or_next(None)),
            (1, 77, 2)
        );
        let mut ids = Identifiers { next: u32::MAX };
        assert_eq!((ids.next_default(), ids.next_default()), (u32::MAX, 0));
    }

    #[test]
    fn batch_identifiers_count_from_the_base() {
        assert_eq!(nth(None, 5), None);
        assert_eq!(nth(Some(100), 0), Some(100));
        assert_eq!(nth(Some(100), 5), Some(105));
        assert_eq!(nth(Some(u32::MAX), 2), Some(1));
        assert_eq!(nth(Some(1), 1 << 32), Some(1));
    }
}
