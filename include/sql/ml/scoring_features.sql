-- Features of every customer as of the business date being scored (GOLD's definitions).
{% from 'gold/_customer_features.sql' import customer_features %}
{{ customer_features("'" ~ as_of.isoformat() ~ "'::date") }}
