//! `ApnsException`, and the one place where core errors and Rust panics become it.
//!
//! The class is registered with `ClassBuilder` during module startup rather than as
//! a `#[php_class]`: a startup-registered class is an ordinary internal subclass of
//! `RuntimeException`, so `getFile()`, `getLine()` and the trace are filled in, and
//! PHP code can `new` it and extend it.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::{PhpException, PhpResult};
use ext_php_rs::ffi::{ext_php_rs_compiler_globals, zend_hash_str_find_ptr_lc};
use ext_php_rs::flags::ConstantFlags;
use ext_php_rs::zend::{ce, ClassEntry, ExecutorGlobals};

use crate::Error;

/// The PHP name of the exception class.
pub const CLASS_NAME: &str = "ApnsException";

/// The class entry of `ApnsException`, set once during module startup.
static APNS_EXCEPTION: AtomicPtr<ClassEntry> = AtomicPtr::new(ptr::null_mut());

/// Registers `class ApnsException extends RuntimeException`. Called from MINIT.
pub fn register() -> ext_php_rs::error::Result<()> {
    let mut builder =
        ClassBuilder::new(CLASS_NAME).extends((runtime_exception, "RuntimeException"));
    // ApnsException::INVALID_INPUT etc.: the values of getCode().
    for (name, code) in crate::error::codes::ALL {
        builder = builder.constant(name, i64::from(code), &[], ConstantFlags::Public)?;
    }
    builder
        .registration(|class, arg_info| {
            APNS_EXCEPTION.store(ptr::from_mut(class), Ordering::Release);
            // The class declares no methods of its own, but the engine may keep
            // pointers into these tables for the life of the process: never free them.
            std::mem::forget(arg_info);
        })
        .register()
}

/// `RuntimeException`'s class entry.
///
/// `ext_php_rs::zend::ce` has no accessor for it and `ClassEntry::try_find` does not
/// work during module startup, so it is looked up in the compiler globals' class
/// table, which holds every class registered so far (SPL starts before us).
fn runtime_exception() -> &'static ClassEntry {
    find_class("runtimeexception").unwrap_or_else(ce::exception)
}

/// Looks a class up by its lowercase name in `CG(class_table)`.
fn find_class(lowercase_name: &str) -> Option<&'static ClassEntry> {
    // SAFETY: the compiler globals are statically allocated by the engine (this
    // is how ext-php-rs reads them too); `class_table` is the live class table, the
    // name is valid for `len` bytes (the lookup copies and lowercases it), and the
    // table stores `zend_class_entry *` values that live until engine shutdown.
    unsafe {
        let globals = ext_php_rs_compiler_globals().as_ref()?;
        let table = globals.class_table;
        if table.is_null() {
            return None;
        }
        let found =
            zend_hash_str_find_ptr_lc(table, lowercase_name.as_ptr().cast(), lowercase_name.len());
        found.cast::<ClassEntry>().cast_const().as_ref()
    }
}

/// The `ApnsException` class entry (plain `Exception` if startup never ran, which
/// cannot happen once the module is loaded).
pub fn apns_exception() -> &'static ClassEntry {
    let class = APNS_EXCEPTION.load(Ordering::Acquire);
    // SAFETY: the pointer was stored from the engine's `&'static mut ClassEntry`
    // at registration, and class entries of internal classes live until shutdown.
    unsafe { class.cast_const().as_ref() }.unwrap_or_else(ce::exception)
}

/// A core error as the exception PHP code catches. The message is the error's
/// `Display`, which names the cause and never contains secrets.
pub fn to_php(error: &Error) -> PhpException {
    PhpException::new(error.to_string(), error.code(), apns_exception())
}

/// Runs the body of a PHP-visible method.
///
/// Core errors become `ApnsException`; a panic becomes an `ApnsException` saying
/// "internal error in apns" instead of ext-php-rs's generic `Error`, so that
/// `catch (ApnsException $e)` sees every failure of the extension. When a PHP
/// exception is already pending (thrown by a progress callback or a generator),
/// that one keeps propagating: `PhpException::throw` never overwrites it.
pub fn guard<T>(method: &str, body: impl FnOnce() -> Result<T, Error>) -> PhpResult<T> {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(throw_without_args(&error)),
        Err(payload) => Err(throw_without_args(&Error::Internal(format!(
            "{method}: {}",
            panic_message(payload.as_ref())
        )))),
    }
}

/// Throws `error` now, with a trace that records no call arguments, and returns
/// it for the binding (whose own throw then does nothing: one is pending).
///
/// Arguments are left out because ours carry secrets: `print_r($e)` or a logged
/// trace would otherwise show the `passphrase` of the options array whenever
/// `zend.exception_ignore_args` is off (PHP's default without a php.ini).
fn throw_without_args(error: &Error) -> PhpException {
    let previous = std::mem::replace(&mut ExecutorGlobals::get_mut().exception_ignore_args, true);
    to_php(error).throw();
    ExecutorGlobals::get_mut().exception_ignore_args = previous;
    to_php(error)
}

/// The text of a panic payload.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

/// Whether a PHP exception is waiting to propagate (thrown by user code we called).
pub fn php_exception_pending() -> bool {
    ExecutorGlobals::has_exception()
}

/// The error to return when user code we called threw: the pending PHP exception
/// propagates unchanged, this message is never shown.
pub fn pending() -> Error {
    Error::Internal("a PHP exception is pending".into())
}
