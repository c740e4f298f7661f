-- authbench-tenancy: cluster-wide roles. Run once per PostgreSQL cluster, as a superuser
-- (or a role with CREATEROLE), before schema.sql. Idempotent.
--
--   app_owner      owns the tables (migrations); the app never logs in as it
--   authenticator  the pool's login: NOINHERIT, so it holds no table rights by itself,
--                  only the right to SET ROLE to the roles below, transaction-locally
--   authenticated  what every request runs as; Row Level Security policies name it
--   anon           requests without a user (no policy grants it anything)
--   app_admin      the admin routes' writes to users / tenants / memberships
--
-- No passwords here: set them yourself (`alter role authenticator password '...'`), or let
-- `authbench serve --postgres` set random ones on its private server.
do $$
declare
  r text;
begin
  foreach r in array array['app_owner', 'authenticator'] loop
    begin
      execute format('create role %I login', r);
    exception when duplicate_object or unique_violation then null;
    end;
  end loop;
  foreach r in array array['authenticated', 'anon', 'app_admin'] loop
    begin
      execute format('create role %I nologin', r);
    exception when duplicate_object or unique_violation then null;
    end;
  end loop;
end $$;
alter role authenticator noinherit nosuperuser nobypassrls;
alter role authenticated nosuperuser nobypassrls;
alter role app_admin nosuperuser nobypassrls;
grant authenticated, anon, app_admin to authenticator;
