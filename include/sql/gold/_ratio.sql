{#- part / whole rounded half up to `places` decimals, the same on every engine: the quotient is
    taken in units of the last place, where a tie (x.5) is exact even in binary floating point
    (the local stand-in divides decimals in floating point, Snowflake exactly), then floored after
    adding a half. Null when `whole` is 0 or null. For non-negative values (money, counts). -#}
{% macro ratio(part, whole, places) -%}
    floor({{ part }} * {{ 10 ** places }} / nullif({{ whole }}, 0) + 0.5) / {{ 10 ** places }}
{%- endmacro %}
