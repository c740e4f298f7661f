-- docker-compose only: the login password of the app's role, for a loopback demo. The README's
-- `--database-url` uses it; crates/cli/tests/compose.rs checks that the two agree. Change it
-- for anything that is not a throwaway container.
alter role authenticator password 'authbench-demo';
