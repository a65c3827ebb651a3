-- Database and one schema per layer. Idempotent: safe on every deploy.
create database if not exists {{ wh.database }};
{% for schema in wh.schemas %}
create schema if not exists {{ wh.database }}.{{ schema }};
{% endfor %}
