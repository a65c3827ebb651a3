-- One date's scores beside the features they were computed from (the snapshot scoring wrote).
select
    s.customer_id,
    s.churn_score,
    s.model_id,
    {%- for feature in features %}
    f.{{ feature }}{{ "," if not loop.last }}
    {%- endfor %}
from {{ ref('ml.CUSTOMER_CHURN_SCORE') }} as s
inner join {{ ref('ml.CUSTOMER_FEATURE_SNAPSHOT') }} as f
    on f.customer_id = s.customer_id and f.business_date = s.business_date
where s.business_date = %(business_date)s::date
order by s.customer_id
