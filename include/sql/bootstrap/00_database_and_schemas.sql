-- Database and one schema per layer. Idempotent: safe on every deploy.
create database if not exists {{ wh.database }};
{% for layer in layers %}
create schema if not exists {{ schema(layer) }};
{% endfor %}
