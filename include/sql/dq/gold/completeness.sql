-- GOLD check inputs_complete (warning): a window date for which some feeds loaded and others did
-- not (a quarantined or missing file) is published from what arrived; the warning says which
-- feeds are missing until the file is re-delivered and that date re-run.
with loaded as (
    select
        batch_date as d,
        count(distinct feed) as feeds,
        trim({% for f in contract.feeds %}iff(count_if(feed = '{{ f }}') = 0, ' {{ f }}', ''){{ ' || ' if not loop.last }}{% endfor %}) as missing_feeds
    from {{ wh.database }}.{{ wh.audit }}.FILE_LOADS
    where status = 'LOADED' and batch_date between '{{ window.start }}' and '{{ window.end }}'
    group by batch_date
)

select
    'inputs_complete', 'GOLD.DAILY_REVENUE', d, feeds, {{ contract.feeds | length }},
    feeds = {{ contract.feeds | length }}, 'warning',
    feeds || ' of {{ contract.feeds | length }} feeds loaded, missing: ' || missing_feeds
        || ' (published from partial input until the date is re-run)'
from loaded
where feeds > 0
