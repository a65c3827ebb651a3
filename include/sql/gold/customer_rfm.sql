-- CUSTOMER_RFM (built in GOLD_STAGE, published whole by gold/publish.sql): recency, frequency and monetary value of every customer with a purchase, as
-- of the latest sale date in MODEL, scored in quintiles (5 = best; ties broken by customer_id so
-- the scores are reproducible) and named segments. Recomputed whole by every build.
{% from 'gold/_purchases.sql' import purchases, data_as_of %}
delete from {{ wh.database }}.{{ wh.gold_stage }}.CUSTOMER_RFM;

insert into {{ wh.database }}.{{ wh.gold_stage }}.CUSTOMER_RFM (
    customer_id, as_of_date, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment
)
with as_of as (
    select {{ data_as_of() }} as as_of_date
),

purchases as (
    {{ purchases('(select as_of_date from as_of)') }}
),

totals as (
    select
        p.customer_id,
        a.as_of_date,
        datediff(day, max(p.purchase_date), a.as_of_date) as recency_days,
        count(*) as frequency,
        sum(p.amount) as monetary
    from purchases as p
    cross join as_of as a
    group by p.customer_id, a.as_of_date
),

scored as (
    select
        totals.*,
        ntile(5) over (order by recency_days desc, customer_id) as r_score,
        ntile(5) over (order by frequency, customer_id) as f_score,
        ntile(5) over (order by monetary, customer_id) as m_score
    from totals
)

select
    customer_id, as_of_date, recency_days, frequency, monetary, r_score, f_score, m_score,
    case
        when r_score >= 4 and f_score >= 4 then 'champions'
        when f_score >= 4 then 'loyal'
        when r_score >= 4 and f_score <= 2 then 'new_or_promising'
        when r_score <= 2 and f_score >= 3 then 'at_risk'
        when r_score <= 2 then 'hibernating'
        else 'needs_attention'
    end as rfm_segment
from scored
