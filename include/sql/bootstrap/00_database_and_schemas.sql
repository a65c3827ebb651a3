-- Database and one schema per layer. Idempotent: safe on every deploy.
create database if not exists {{ wh.database }};
{% for layer in layers %}
create schema if not exists {{ schema(layer) }};
{% endfor %}

-- The migration ledger (include/migrations.py): every versioned script and every declared column
-- the set-up applied to this warehouse, in order.
create table if not exists {{ ref('audit.SCHEMA_MIGRATIONS') }} (
    version number,                   -- a versioned script's V<n>; null for a declared column
    kind varchar not null,            -- versioned | baseline (recorded on a fresh warehouse, not run) | declared
    description varchar not null,
    script varchar,                   -- the file, include/sql/migrations/V<n>__<what>.sql
    checksum varchar,                 -- sha256 of the script as it ran
    statement varchar,                -- the alter a declared column took
    status varchar not null,          -- applied
    applied_by varchar,               -- the role
    run_id varchar,
    applied_at timestamp_ntz default current_timestamp()
);
