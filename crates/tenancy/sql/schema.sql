-- authbench-tenancy: the multi-tenant schema with Row Level Security (crates/tenancy/README.md).
-- Run in the application's database as a superuser (or the
-- database owner), after roles.sql. Idempotent: tables are created if missing, functions
-- and policies replaced.
grant usage, create on schema public to app_owner;
create schema if not exists auth authorization app_owner;
grant usage on schema auth to authenticated, anon;

set role app_owner;

create table if not exists tenants (id uuid primary key, name text not null);
create table if not exists users   (id uuid primary key, email text not null);
create table if not exists memberships (
  user_id   uuid not null references users(id)   on delete cascade,
  tenant_id uuid not null references tenants(id) on delete cascade,
  primary key (user_id, tenant_id));
-- No extra index on memberships (user_id): the primary key already leads with it.

-- Variant A: the policy trusts the tenant_id claim.
create table if not exists notes (id bigserial primary key,
  tenant_id uuid not null references tenants(id), body text not null);
create index if not exists notes_tenant_id_idx on notes (tenant_id);
-- Variant B: same shape; the policy looks the caller's membership up live, by sub.
create table if not exists notes_m (id bigserial primary key,
  tenant_id uuid not null references tenants(id), body text not null);
create index if not exists notes_m_tenant_id_idx on notes_m (tenant_id);

-- The claims of the current request, set transaction-locally by the app:
--   select set_config('request.jwt.claims', '{"sub":…,"tenant_id":…}', true)
create or replace function auth.jwt() returns jsonb language sql stable set search_path = '' as $$
  select nullif(current_setting('request.jwt.claims', true), '')::jsonb $$;
create or replace function auth.uid() returns uuid language sql stable set search_path = '' as $$
  select (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')::uuid $$;
create or replace function auth.tenant_id() returns uuid language sql stable set search_path = '' as $$
  select (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'tenant_id')::uuid $$;

alter table notes enable row level security;
alter table notes force row level security;    -- the owner too
alter table notes_m enable row level security;
alter table notes_m force row level security;

-- `(select auth.tenant_id())`: a sub-select is evaluated once per statement (an InitPlan),
-- not once per row, and lets the planner use notes_tenant_id_idx.
drop policy if exists notes_jwt_tenant on notes;
create policy notes_jwt_tenant on notes for all to authenticated
  using      (tenant_id = (select auth.tenant_id()))
  with check (tenant_id = (select auth.tenant_id()));

-- Variant B: the textbook form is `tenant_id in (select m.tenant_id from memberships m where …)`.
-- As a security qual that stays a hashed SubPlan *filter*: a Seq Scan over every tenant's
-- rows (tests/rls.rs case 17 caught it). `= any (array(select …))` is the same set, computed
-- once as an InitPlan, and becomes an index condition `tenant_id = ANY ($1)`.
drop policy if exists notes_m_membership on notes_m;
create policy notes_m_membership on notes_m for all to authenticated
  using      (tenant_id = any (array(select m.tenant_id from memberships m where m.user_id = (select auth.uid()))))
  with check (tenant_id = any (array(select m.tenant_id from memberships m where m.user_id = (select auth.uid()))));

grant select, insert, update, delete on notes, notes_m to authenticated;
grant usage on sequence notes_id_seq, notes_m_id_seq to authenticated;
grant select on memberships to authenticated;
grant select, insert, update, delete on tenants, users, memberships to app_admin;

reset role;
