//! cargo-afl target `jwk_import`: see [`authbench_fuzz::check_jwk_import`]. Outside AFL it reads one
//! input from standard input, so `target/release/jwk_import < out/jwk_import/default/crashes/<file>`
//! replays a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| authbench_fuzz::check_jwk_import(data));
}
