-- Ledger of every partner file the pipeline has seen, and the rows it refused.
create table if not exists {{ ref('audit.FILE_LOADS') }} (
    feed varchar not null,
    batch_date date not null,
    file_name varchar not null,
    file_md5 varchar not null,
    status varchar not null,          -- LOADED | QUARANTINED | LATE (arrived after its date ran; waits in inbox/)
    reason varchar,
    source_key varchar,
    rows_in_file number,
    rows_loaded number,
    rows_rejected number,
    deliveries number default 1,      -- how many times this exact file arrived
    run_id varchar,
    first_seen_at timestamp_ntz default current_timestamp(),
    last_seen_at timestamp_ntz default current_timestamp()
);

create table if not exists {{ ref('audit.LOAD_REJECTS') }} (
    feed varchar not null,
    batch_date date not null,
    source_file varchar not null,
    line_number number not null,
    reason varchar not null,
    raw_line varchar,
    _loaded_at timestamp_ntz default current_timestamp()
);
