-- One BRONZE table per feed, rendered from include/contracts/feeds.yaml: the file's columns as
-- delivered (text), plus lineage: source file, line in that file, business date, load time, and
-- the file's columns the contract does not have yet (_extra: a JSON object, null when none).
{% for feed in contract.feeds.values() %}
create table if not exists {{ ref('bronze.' ~ feed.table) }} (
{%- for col in feed.columns %}
    {{ col.name }} varchar,
{%- endfor %}
    _source_file varchar not null,
    _source_line number not null,
    _batch_date date not null,
    _loaded_at timestamp_ntz default current_timestamp(),
    _extra varchar
);
{% endfor %}
