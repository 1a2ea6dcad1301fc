//! Build script: link flags for the PHP extension, nothing else.
//!
//! A PHP extension calls into the `php` binary that loads it, so the Zend symbols
//! are undefined when the cdylib is linked. Linux linkers accept that for shared
//! libraries by default; Apple's ld does not unless told to look them up at load
//! time. The flag applies to the cdylib only, not to the rlib the sandbox uses.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "macos" {
        println!("cargo:rustc-cdylib-link-arg=-undefined");
        println!("cargo:rustc-cdylib-link-arg=dynamic_lookup");
    }
}
