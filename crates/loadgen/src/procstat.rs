//! CPU time of a process, from Linux's `/proc/<pid>/stat`.
//!
//! Used to charge CPU per request: to the load generator itself (so a reader can see it was
//! not the bottleneck), and by the comparison driver to the server and to `redis-server`.
//!
//! `utime` and `stime` (fields 14 and 15 of `proc_pid_stat(5)`) are the whole process, every
//! thread included, counted in clock ticks of `USER_HZ`. The kernel ABI fixes `USER_HZ` at 100
//! on every Linux architecture we run on, so the resolution is **10 ms**: measure over seconds,
//! not milliseconds. Reading the file costs a few microseconds; do it at the edges of a run,
//! never per request.

use std::{io, time::Duration};

/// Clock ticks per second of the `utime`/`stime` fields (`sysconf(_SC_CLK_TCK)`), which Linux
/// exports as a fixed 100 regardless of the kernel's internal `HZ`. Hard-coded because reading
/// it needs `libc`, and the workspace forbids `unsafe`.
pub const USER_HZ: u64 = 100;

/// User + system CPU time consumed so far by process `pid`, all threads together.
///
/// Errors: `NotFound` when the process does not exist (or this is not Linux), `InvalidData`
/// when the file does not parse.
pub fn cpu_time(pid: u32) -> io::Result<Duration> {
    parse_stat(&std::fs::read_to_string(format!("/proc/{pid}/stat"))?)
}

/// [`cpu_time`] of the calling process.
pub fn self_cpu_time() -> io::Result<Duration> {
    parse_stat(&std::fs::read_to_string("/proc/self/stat")?)
}

/// Parses the text of a `/proc/<pid>/stat` file into `utime + stime`.
///
/// Field 2, the command name, is in parentheses and may itself contain spaces and `)`, so the
/// remaining fields are found after the *last* `)`.
pub fn parse_stat(text: &str) -> io::Result<Duration> {
    let bad = || {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "unexpected /proc/<pid>/stat format",
        )
    };
    let rest = &text[text.rfind(')').ok_or_else(bad)? + 1..];
    // After the name: field 3 (state) is index 0, so field N is index N - 3.
    let mut fields = rest.split_ascii_whitespace();
    let utime: u64 = fields
        .nth(14 - 3)
        .ok_or_else(bad)?
        .parse()
        .map_err(|_| bad())?;
    let stime: u64 = fields.next().ok_or_else(bad)?.parse().map_err(|_| bad())?;
    let ticks = utime + stime;
    Ok(Duration::from_secs(ticks / USER_HZ)
        + Duration::from_nanos((ticks % USER_HZ) * (1_000_000_000 / USER_HZ)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_name_with_spaces_and_parens() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
        let line = "4242 (we) ird (name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 37 0 0 20 0 3 0";
        assert_eq!(parse_stat(line).unwrap(), Duration::from_millis(2870));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_stat("no parens here").is_err());
        assert!(parse_stat("1 (x) S 1 2").is_err());
    }

    #[test]
    fn own_process_is_readable_and_grows() {
        let before = self_cpu_time().unwrap();
        // Burn a little more than one tick of CPU.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(40) {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
        let after = cpu_time(std::process::id()).unwrap();
        assert!(after > before, "{before:?} → {after:?}");
    }
}
