//! cargo-afl target `credential`: see [`authbench_fuzz::check_credential`]. Outside AFL it reads one input
//! from standard input, so `target/release/credential < out/credential/default/crashes/<file>` replays a crash.

fn main() {
    afl::fuzz!(|data: &[u8]| authbench_fuzz::check_credential(data));
}
