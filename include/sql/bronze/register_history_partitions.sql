-- History loader only (local/history.py): the partitions it put into BRONZE (`feeds` x `days`),
-- recorded as load_bronze records a load: pending for the transforms.
begin;

delete from {{ ref('audit.BRONZE_PARTITIONS') }}
where batch_date between '{{ days[0] }}' and '{{ days[-1] }}'
    and feed in ({% for f in feeds %}'{{ f }}'{{ ', ' if not loop.last }}{% endfor %});

insert into {{ ref('audit.BRONZE_PARTITIONS') }} (feed, batch_date, loaded_at, load_run_id)
values
{%- for f in feeds %}{% set feed_loop = loop %}{% for d in days %}
    ('{{ f }}', '{{ d }}', current_timestamp(), 'history'){{ ',' if not (loop.last and feed_loop.last) else ';' }}
{%- endfor %}{% endfor %}

commit;
