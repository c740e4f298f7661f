//! cargo-afl target `jwt_claims`: see [`authbench_fuzz::check_signed`]. Outside AFL it reads one input
//! from standard input, so `target/release/jwt_claims < out/jwt_claims/default/crashes/<file>` replays a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| authbench_fuzz::check_signed(data));
}
