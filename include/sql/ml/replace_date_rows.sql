-- Replace one business date's rows of an ML table with the rows bulk-loaded for it (one transaction).
delete from {{ wh.database }}.{{ wh.ml }}.{{ table }} where business_date = %(business_date)s::date;
{% if has_rows %}
insert into {{ wh.database }}.{{ wh.ml }}.{{ table }} ({{ columns | join(', ') }})
select {{ columns | join(', ') }}
from {{ wh.database }}.{{ wh.ml }}.{{ load_table }};
{% endif %}
