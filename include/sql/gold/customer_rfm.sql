-- CUSTOMER_RFM (built in GOLD_STAGE, published whole by gold/publish.sql): recency, frequency and
-- monetary value of every customer with at least one purchase (an online order, or a store
-- transaction with their loyalty card) as of the latest sale date in MODEL, scored 1..5 (5 = best)
-- and named segments. Derived from the customer aggregates MODEL keeps up to date
-- (MODEL.CUSTOMER_ACTIVITY: purchases, spend and last purchase per customer), so the daily cost
-- follows the number of customers, not the history. Rules (docs/metrics.md):
--   r_score, m_score: 1 + floor(5 x the share of customers strictly worse): equal values, equal score
--   f_score: purchases 1 -> 1, 2 -> 2, 3 -> 3, 4-5 -> 4, 6 or more -> 5 (most customers tie at 1)
{% from 'gold/_purchases.sql' import data_as_of %}
delete from {{ wh.database }}.{{ wh.gold_stage }}.CUSTOMER_RFM;

insert into {{ wh.database }}.{{ wh.gold_stage }}.CUSTOMER_RFM (
    customer_id, as_of_date, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_segment
)
with as_of as (
    select {{ data_as_of() }} as as_of_date
),

-- every purchase is dated on or before the as-of date (it is the latest sale date)
totals as (
    select
        c.customer_id,
        a.as_of_date,
        datediff(day, c.last_purchase_date, a.as_of_date) as recency_days,
        c.purchases as frequency,
        c.spend::number(14, 2) as monetary  -- exact cents: equal spend, equal rank on any engine
    from {{ wh.database }}.{{ wh.model }}.CUSTOMER_ACTIVITY as c
    cross join as_of as a
    where c.purchases > 0
),

scored as (
    select
        totals.*,
        1 + floor(5 * (rank() over (order by recency_days desc) - 1) / count(*) over ()) as r_score,
        case
            when frequency >= 6 then 5
            when frequency >= 4 then 4
            when frequency = 3 then 3
            when frequency = 2 then 2
            else 1
        end as f_score,
        1 + floor(5 * (rank() over (order by monetary) - 1) / count(*) over ()) as m_score
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
    end as rfm_segment  -- a one-purchase customer (f_score 1) is never a champion or loyal
from scored
