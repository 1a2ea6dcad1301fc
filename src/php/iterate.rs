//! Walking the tokens given to `sendMany()`: arrays and `Traversable`s
//! (generators, PDO statements, iterators), values only, in order, never all
//! held at once.
//!
//! ext-php-rs's own object iterator builds a key zval, clones each value and
//! takes the executor-globals lock four times per element, about 100 ns that
//! `sendMany` (whose whole budget is a few hundred) does not need: it wants
//! neither keys nor a copy. So for objects this calls the iterator's handlers
//! itself, as PHP's `foreach` does, and reads `EG(exception)` without the lock
//! (a request runs on one thread; the lock guards nothing here).

use ext_php_rs::ffi::{
    ext_php_rs_executor_globals, zend_object_iterator, ZEND_RESULT_CODE_SUCCESS,
};
use ext_php_rs::types::{Iterable, ZendIterator, Zval};

use super::exception::pending;
use crate::error::Error;

extern "C" {
    /// Releases an iterator obtained from a class's `get_iterator` handler
    /// (PHP's `foreach` does the same at the end of the loop). ext-php-rs 0.16
    /// hands out such iterators for `Traversable` arguments but never frees them.
    fn zend_iterator_dtor(iter: *mut zend_object_iterator);
}

/// Calls `each` with every value of `items`, in order. Stops at the first error
/// `each` returns, and with [`pending`] when PHP code of the iterator threw (the
/// exception then propagates as it is).
pub fn for_each_value(
    items: Iterable<'_>,
    mut each: impl FnMut(&Zval) -> Result<(), Error>,
) -> Result<(), Error> {
    match items {
        Iterable::Array(array) => {
            let mut values = array.iter();
            while let Some((_, value)) = values.next_zval() {
                each(value)?;
            }
            Ok(())
        }
        Iterable::Traversable(iterator) => {
            let iterator = Owned(std::ptr::from_mut(iterator));
            iterator.walk(&mut each)
        }
    }
}

/// The object iterator the class's `get_iterator` handler made for this call;
/// released (`zend_iterator_dtor`) when dropped, whatever happened.
struct Owned(*mut ZendIterator);

impl Owned {
    /// PHP's `foreach` over an object: rewind, then valid / current / (next…),
    /// moving forward only when the next value is wanted, so a generator is not
    /// resumed past the last value used.
    fn walk(&self, each: &mut impl FnMut(&Zval) -> Result<(), Error>) -> Result<(), Error> {
        // SAFETY: the pointer is the live iterator of this call (see `Owned`); its
        // `funcs` table is static for the iterator's class. The value pointer
        // returned by `get_current_data` stays valid until the next handler call,
        // and `each` is done with it by then.
        unsafe {
            let it = &mut *self.0;
            let funcs = &*it.funcs;
            it.index = 0;
            if let Some(rewind) = funcs.rewind {
                rewind(it);
            }
            threw()?;
            loop {
                if it.index > 0 {
                    if let Some(move_forward) = funcs.move_forward {
                        move_forward(it);
                    }
                    threw()?;
                }
                if let Some(valid) = funcs.valid {
                    let more = valid(it) == ZEND_RESULT_CODE_SUCCESS;
                    threw()?;
                    if !more {
                        return Ok(());
                    }
                }
                let Some(current) = funcs.get_current_data else {
                    return Ok(());
                };
                let value = current(it);
                threw()?;
                let Some(value) = value.as_ref() else {
                    return Ok(());
                };
                each(value)?;
                it.index += 1;
            }
        }
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: the pointer came from the class's `get_iterator` handler for this
        // call's argument, nothing else frees it, and it is not used after this.
        unsafe { zend_iterator_dtor(self.0) };
    }
}

/// `Err(pending())` when PHP code (the iterator's) has thrown.
fn threw() -> Result<(), Error> {
    // SAFETY: the executor globals are static for the process (thread, under
    // ZTS) and only read here.
    let thrown = unsafe { ext_php_rs_executor_globals().as_ref() }
        .is_some_and(|globals| !globals.exception.is_null());
    if thrown {
        Err(pending())
    } else {
        Ok(())
    }
}
