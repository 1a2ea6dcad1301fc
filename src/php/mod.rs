//! The PHP binding: `ApnsConnection` and `ApnsException` (feature `php`).
//!
//! Thin glue only: PHP values are checked and converted here, everything else is
//! the core's. A panic must never cross into PHP, hence the lints below and the
//! `catch_unwind` around every method body ([`exception::guard`]).
//!
//! - [`connection`]: `final class ApnsConnection`.
//! - [`engine`]: the engine behind one connection, binary or HTTP/2.
//! - [`exception`]: `class ApnsException extends RuntimeException`, and the one
//!   mapping from [`crate::Error`] to it.
//! - [`options`]: the `$options` arrays (names, types, ranges).
//! - [`json`]: array payloads encoded to JSON.
//! - [`iterate`]: walking `sendMany()`'s tokens (arrays and `Traversable`s).
//! - [`persistent`]: connections kept open between requests.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::panic::catch_unwind;

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ModuleEntry;
use ext_php_rs::{info_table_end, info_table_row, info_table_start};

mod connection;
mod engine;
mod exception;
mod iterate;
mod json;
mod options;
mod persistent;

/// `phpinfo()`'s `apns` section.
extern "C" fn module_info(_module: *mut ModuleEntry) {
    info_table_start!();
    info_table_row!("apns support", "enabled");
    info_table_row!("Version", crate::VERSION);
    info_table_row!("TLS backend", "rustls (ring)");
    info_table_row!(
        "Protocols",
        "binary (ssl://, tls://) and its feedback service; HTTP/2 provider API (https://)"
    );
    info_table_end!();
}

/// Module startup: registers `ApnsException` before the classes of the module.
fn startup(_type: i32, _module_number: i32) -> i32 {
    match catch_unwind(exception::register) {
        Ok(Ok(())) => 0,
        // FAILURE: PHP reports "Unable to start apns module" and does not load it.
        _ => -1,
    }
}

/// Module shutdown (the PHP process ends): kept persistent connections settle
/// what they hold, bounded by their timeout, and close, instead of dying with
/// notifications unconfirmed. Pure Rust: nothing here calls back into PHP.
extern "C" fn shutdown(_type: i32, _module_number: i32) -> i32 {
    let _ = catch_unwind(persistent::close_all);
    0
}

#[php_module]
#[php(startup = startup)]
pub fn get_module(module: ModuleBuilder) -> ModuleBuilder {
    module
        .class::<connection::ApnsConnection>()
        .shutdown_function(shutdown)
        .info_function(module_info)
}
