{#- Least-privilege roles for the platform, as code: docs/production.md#roles-and-grants.
    Applied by retail_warehouse_setup (task apply_roles_and_grants) after the bootstrap, through
    the administrator connection (a role with CREATE ROLE and MANAGE GRANTS, e.g. SECURITYADMIN),
    only where RETAIL_APPLY_GRANTS=true: the local Snowflake stand-in has no roles or grants.
    Idempotent: "if not exists" and grants that are no-ops when held. Nothing here grants
    ownership, a DROP, or a privilege on a schema a role does not need; future grants cover the
    tables and views a later deploy adds. -#}
{%- set all_roles = [roles.loader, roles.transformer, roles.ml, roles.run_logger, roles.bi_reader, roles.auditor, roles.control_tower] -%}
{%- macro tables(privileges, layer, role) -%}
grant {{ privileges }} on all tables in schema {{ schema(layer) }} to role {{ role }};
grant {{ privileges }} on future tables in schema {{ schema(layer) }} to role {{ role }};
{%- endmacro -%}
{%- macro views(layer, role) -%}
grant select on all views in schema {{ schema(layer) }} to role {{ role }};
grant select on future views in schema {{ schema(layer) }} to role {{ role }};
{%- endmacro -%}
{%- macro schema_usage(layer, role) -%}
grant usage on schema {{ schema(layer) }} to role {{ role }};
{%- endmacro %}

-- The roles. The pipeline role is what the Airflow service user of snowflake_default is
-- granted: it inherits the loader, transformer, ML and run-logger roles. BI and auditors are
-- granted to people and tools, never to the pipeline.
{% for role in all_roles + [roles.pipeline] %}
create role if not exists {{ role }};
{%- endfor %}
{% for role in [roles.loader, roles.transformer, roles.ml, roles.run_logger] %}
grant role {{ role }} to role {{ roles.pipeline }};
{%- endfor %}
{% for role in [roles.bi_reader, roles.auditor] %}
grant role {{ role }} to role {{ roles.control_tower }};
{%- endfor %}
{% for role in [roles.pipeline, roles.bi_reader, roles.auditor, roles.control_tower] %}
grant role {{ role }} to role {{ roles.parent }};
{%- endfor %}

-- Every role runs queries on the compute warehouse and sees the database.
{% for role in all_roles %}
grant usage on warehouse {{ roles.compute_warehouse }} to role {{ role }};
grant usage on database {{ wh.database }} to role {{ role }};
{%- endfor %}

-- Loader: replaces a feed's BRONZE partition per date (delete + COPY), reads the stage through
-- the file format, and keeps the file ledger and row rejects in AUDIT (reading which dates have a
-- run under way, so a late file is not reported while its date is being re-run).
{{ schema_usage("bronze", roles.loader) }}
{{ tables("select, insert, delete", "bronze", roles.loader) }}
grant usage on file format {{ ref('bronze.' ~ wh.file_format) }} to role {{ roles.loader }};
{% if wh.stage_mode == 'external' -%}
grant usage on stage {{ ref('bronze.' ~ wh.stage) }} to role {{ roles.loader }};
{%- else -%}
grant read, write on stage {{ ref('bronze.' ~ wh.stage) }} to role {{ roles.loader }};
{%- endif %}
{{ schema_usage("audit", roles.loader) }}
grant select, insert, update, delete on table {{ ref('audit.FILE_LOADS') }} to role {{ roles.loader }};
grant select, insert, delete on table {{ ref('audit.LOAD_REJECTS') }} to role {{ roles.loader }};
grant select on table {{ ref('audit.DAG_RUN_LOG') }} to role {{ roles.loader }};  -- is a date's run under way
grant select, insert, delete on table {{ ref('audit.BRONZE_PARTITIONS') }} to role {{ roles.loader }};  -- its current load

-- Transformer: reads BRONZE and the file ledger; merges SILVER and MODEL; builds GOLD_STAGE and
-- publishes GOLD (tables only: the views belong to the setup); records check results; holds the
-- transform lock.
{{ schema_usage("bronze", roles.transformer) }}
{{ tables("select", "bronze", roles.transformer) }}
{% for layer in ["silver", "model", "gold_stage", "gold"] %}
{{ schema_usage(layer, roles.transformer) }}
{{ tables("select, insert, update, delete", layer, roles.transformer) }}
{%- endfor %}
{{ views("gold", roles.transformer) }}
{{ schema_usage("audit", roles.transformer) }}
grant select on table {{ ref('audit.FILE_LOADS') }} to role {{ roles.transformer }};
grant select on table {{ ref('audit.LOAD_REJECTS') }} to role {{ roles.transformer }};
grant select, insert, delete on table {{ ref('audit.DQ_RESULTS') }} to role {{ roles.transformer }};
grant select, insert, update, delete on table {{ ref('audit.TRANSFORM_LOCK') }} to role {{ roles.transformer }};
grant select, insert, update, delete on table {{ ref('audit.TRANSFORM_LOCK_WAITERS') }} to role {{ roles.transformer }};
-- change tracking: which partitions are pending, the run's change set, what a publication covered
grant select, update on table {{ ref('audit.BRONZE_PARTITIONS') }} to role {{ roles.transformer }};
grant select, insert, delete on table {{ ref('audit.TRANSFORM_CHANGES') }} to role {{ roles.transformer }};

-- ML: reads the facts and GOLD it builds features from; writes the registry, metrics, scores,
-- feature snapshots and monitoring; reads the orders feed's batch dates (one BRONZE table) to
-- know which label windows were fully delivered.
{{ schema_usage("bronze", roles.ml) }}
grant select on table {{ ref('bronze.ORDERS') }} to role {{ roles.ml }};
{% for layer in ["model", "gold"] %}
{{ schema_usage(layer, roles.ml) }}
{{ tables("select", layer, roles.ml) }}
{%- endfor %}
{{ views("gold", roles.ml) }}
{{ schema_usage("ml", roles.ml) }}
{{ tables("select, insert, delete", "ml", roles.ml) }}
grant read, write on stage {{ ref('ml.' ~ wh.ml_stage) }} to role {{ roles.ml }};  -- rows PUT, then COPied in
{{ views("ml", roles.ml) }}

-- Run logger: the audit listener's rows (one per task try and DAG run, recovery notices) and the
-- alert log (what became of each alert).
{{ schema_usage("audit", roles.run_logger) }}
{% for table in ["TASK_RUN_LOG", "DAG_RUN_LOG", "RECOVERY_NOTICES", "ALERT_LOG"] %}
grant select, insert, update on table {{ ref('audit.' ~ table) }} to role {{ roles.run_logger }};
{%- endfor %}

-- BI reader: the GOLD views and nothing else (no table, no other schema).
{{ schema_usage("gold", roles.bi_reader) }}
{{ views("gold", roles.bi_reader) }}

-- Auditor: reads everything in AUDIT, writes nothing.
{{ schema_usage("audit", roles.auditor) }}
{{ tables("select", "audit", roles.auditor) }}
{{ views("audit", roles.auditor) }}

-- Control Tower (the Airflow UI page): the BI reader's GOLD views and the auditor's AUDIT (both
-- inherited, above), and the ML schema's views (the model's status), read only.
{{ schema_usage("ml", roles.control_tower) }}
{{ views("ml", roles.control_tower) }}
