-- MODEL check orphans, from the feed contract's `references` (include/contracts/feeds.yaml: each
-- reference's check name and severity), for the rows delivered on the run's business date, so a
-- bad delivery fails its own date (and a re-run after the fix passes) without failing every later
-- date. Critical ones stop the run before GOLD; warnings are recorded.
{%- set bd = "'" ~ window.end ~ "'::date" %}
{% for r in references() %}
select
    '{{ r.check }}' as check_name, 'SILVER.{{ r.child }}' as table_name, {{ bd }} as business_date,
    count(*) as observed, 0 as threshold, count(*) = 0 as passed, '{{ r.severity }}' as severity,
    count(*) || ' rows of this date reference a missing {{ r.parent | lower }}.{{ r.parent_column }}'
        || coalesce(', e.g. ' || min(c.{{ r.column }}), '') as detail
from {{ ref('silver.' ~ r.child) }} as c
left join {{ ref('silver.' ~ r.parent) }} as p on p.{{ r.parent_column }} = c.{{ r.column }}
where c._batch_date = {{ bd }} and c.{{ r.column }} is not null and p.{{ r.parent_column }} is null
{{ 'union all' if not loop.last }}
{% endfor %}
