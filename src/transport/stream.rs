//! The TLS stream. Being written.
