//! cargo-afl target `jwt_token`: see [`authbench_fuzz::check_token`]. Outside AFL it reads one input
//! from standard input, so `target/release/jwt_token < out/jwt_token/default/crashes/<file>` replays a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| authbench_fuzz::check_token(data));
}
