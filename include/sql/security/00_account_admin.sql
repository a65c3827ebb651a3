{#- Run once per account, before the first deploy, by an account administrator (ACCOUNTADMIN,
    or SYSADMIN + SECURITYADMIN + USERADMIN): `python -m include.snowflake_admin prepare`
    (docs/production.md#first-deploy-on-snowflake). The local stack runs it the same way.
    Idempotent: "if not exists", and grants that are no-ops when held.

    It prepares what the platform cannot give itself:
    - the owner role, which owns the database and everything the set-up DAG creates in it (the
      set-up DAG works as this role through snowflake_deploy; it must own the views it replaces
      and the tables it alters: https://docs.snowflake.com/en/user-guide/security-access-control-privileges);
    - the platform's roles, granted to the service users the Airflow connections log in as;
    - those users with no default secondary roles: Snowflake's default is ('ALL')
      (https://docs.snowflake.com/en/sql-reference/sql/create-user), which would let every task
      session use every role of its user - the loader's session could write GOLD - whatever
      role the task asks for.
    Credentials are not set here: give each service user its key pair by hand
    (ALTER USER ... SET RSA_PUBLIC_KEY = '...'), then put the private key in its Airflow connection. -#}
{%- set service_users = [
    (users.deploy, roles.owner, "the set-up DAG (connection snowflake_deploy)"),
    (users.pipeline, roles.pipeline, "every task of the daily DAG (connection snowflake_default)"),
    (users.control_tower, roles.control_tower, "the Control Tower page (connection snowflake_control_tower)"),
] -%}

-- The owner role: creates the database, its schemas and objects, and owns them.
create role if not exists {{ roles.owner }};
grant role {{ roles.owner }} to role {{ roles.parent }};
grant create database on account to role {{ roles.owner }};
grant usage on warehouse {{ roles.compute_warehouse }} to role {{ roles.owner }};
{% if wh.stage_mode == 'external' -%}
-- the external stage over the landing bucket is created through this integration
grant usage on integration {{ wh.storage_integration }} to role {{ roles.owner }};
{%- endif %}

-- The platform's roles (their privileges: security/roles_and_grants.sql, applied by the set-up DAG).
{% for role in [roles.pipeline] + roles.task_roles | list %}
create role if not exists {{ role }};
{%- endfor %}

-- The service users, each with its role and no default secondary roles.
{% for user, role, purpose in service_users %}
-- {{ purpose }}
create user if not exists {{ user }} type = service default_role = {{ role }} default_secondary_roles = ();
alter user if exists {{ user }} set default_role = {{ role }} default_secondary_roles = ();
grant role {{ role }} to user {{ user }};
{% endfor %}
