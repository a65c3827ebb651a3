-- One chunk of a business date's rows; every value is a bound parameter.
insert into {{ wh.database }}.{{ wh.ml }}.{{ table }} ({{ columns | join(', ') }})
values {% for _ in range(rows) %}({% for _ in columns %}%s{{ ", " if not loop.last }}{% endfor %}){{ ", " if not loop.last }}{% endfor %}
