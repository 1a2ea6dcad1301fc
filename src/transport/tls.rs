//! TLS credentials and client configuration. Being written.
