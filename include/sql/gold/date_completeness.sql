-- DATE_COMPLETENESS (built in GOLD_STAGE): how complete the input behind each date the build
-- covers (kind 'completeness') is, as of this build (docs/metrics.md):
--   no_input     no feed loaded for the date (it holds only late rows from the next day's files)
--   partial      some of its feeds loaded, others missing or quarantined (missing_feeds lists them)
--   provisional  all its feeds loaded, but not yet all of the next day's, which can still carry
--                late rows for it
--   complete     all its feeds and all of the next day's loaded
-- A date's feeds are those active on it (the contract's active_from): a feed whose files start
-- later is neither expected nor missing before then.
{%- macro expected(day) -%}
    ({% for f in contract.feeds.values() %}{% if f.active_from %}iff({{ day }} >= '{{ f.active_from }}'::date, 1, 0){% else %}1{% endif %}{{ ' + ' if not loop.last }}{% endfor %})
{%- endmacro %}
{% from 'gold/_build.sql' import build %}
{% call build('DATE_COMPLETENESS') %}
with days as (
    select business_date as d
    from {{ ref('gold_stage.BUILD_DATES') }}
    where kind = 'completeness'
),

loaded as (
    select batch_date, feed
    from {{ ref('audit.FILE_LOADS') }}
    where status = 'LOADED'
        and (batch_date in (select d from days) or dateadd(day, -1, batch_date)::date in (select d from days))
    group by batch_date, feed
),

per_day as (
    select
        days.d,
        count(distinct l.feed) as feeds,
        trim(
            {%- for f in contract.feeds.values() %}
            iff(count_if(l.feed = '{{ f.name }}') = 0
                {%- if f.active_from %} and days.d >= '{{ f.active_from }}'::date{% endif %}, ' {{ f.name }}', ''){{ ' ||' if not loop.last }}
            {%- endfor %}
        ) as missing_feeds,
        (select count(distinct n.feed) from loaded as n where n.batch_date = dateadd(day, 1, days.d)) as next_feeds,
        {{ expected('days.d') }} as expected,
        {{ expected('dateadd(day, 1, days.d)') }} as next_expected
    from days
    left join loaded as l on l.batch_date = days.d
    group by days.d
)

select
    d as business_date,
    case
        when feeds = 0 then 'no_input'
        when feeds < expected then 'partial'
        when next_feeds < next_expected then 'provisional'
        else 'complete'
    end as status,
    feeds as feeds_loaded,
    expected as feeds_expected,
    nullif(missing_feeds, '') as missing_feeds,
    next_feeds as next_day_feeds_loaded
from per_day
{% endcall %}
