-- MODEL.FCT_STORE_SALES: one row per in-store sale line, rebuilt for the lines that came in the
-- run's change set (delete + insert of those keys, one transaction). customer_id is null for
-- sales without a loyalty card. The sale dates of the rebuilt lines, before and after, are noted
-- for GOLD; the customer activity of their transactions (a transaction with a loyalty card is
-- one purchase) is subtracted as it was and added as it is now.
{% from '_changes.sql' import changed_batches, within %}
{% from 'model/_customer_activity.sql' import add_pending_activity, add_pending_dates, store_activity %}
{%- set changed -%}
    select transaction_id, line_number
    from {{ ref('silver.STORE_SALES') }}
    where _batch_date in {{ changed_batches('store_sales') }}
{%- endset %}
{%- macro note_and_count(sign) -%}
{% call add_pending_dates('fct_store_sales') %}
    select t.sold_date as revenue_date
    from {{ ref('model.FCT_STORE_SALES') }} as t
    inner join ({{ changed }}) as c on c.transaction_id = t.transaction_id and c.line_number = t.line_number
    where {{ within('t.transaction_id', 'transaction_id', changed) }}
{%- endcall %};

{% call add_pending_activity() %}
with lines as (
    select t.transaction_id, t.customer_id, t.sold_date, t.net_amount
    from {{ ref('model.FCT_STORE_SALES') }} as t
    where t.transaction_id in (select transaction_id from ({{ changed }}))
        and {{ within('t.transaction_id', 'transaction_id', changed) }}
)

{{ store_activity('lines', sign) }}
{%- endcall %}
{%- endmacro %}
begin;

{{ note_and_count(-1) }};

delete from {{ ref('model.FCT_STORE_SALES') }} as t
using ({{ changed }}) as c
where t.transaction_id = c.transaction_id and t.line_number = c.line_number
    and {{ within('t.transaction_id', 'transaction_id', changed) }};

insert into {{ ref('model.FCT_STORE_SALES') }} (
    transaction_id, line_number, store_id, product_id, customer_id, sold_at, sold_date,
    quantity, unit_price, discount_amount, net_amount
)
select
    transaction_id, line_number, store_id, product_id, customer_id, sold_at,
    sold_at::date as sold_date,
    quantity, unit_price, discount_amount,
    quantity * unit_price - discount_amount as net_amount
from {{ ref('silver.STORE_SALES') }}
where _batch_date in {{ changed_batches('store_sales') }}
-- in the order of the clustering key (model.yml)
order by sold_date;

{{ note_and_count(1) }};

commit;
