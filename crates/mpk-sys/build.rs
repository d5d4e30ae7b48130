//! Declares the `mpk_disabled` cfg, which builds the stub modules (as on
//! targets other than Linux on x86-64) so they can be tested on any host:
//! `RUSTFLAGS="--cfg mpk_disabled" cargo test -p mpk-sys`.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(mpk_disabled)");
}
