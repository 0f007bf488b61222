{#-
    Layer schemas (bronze, silver, gold, ml) keep their plain names on every target, so a table is
    `silver.stg_rees46__events` locally and `<catalog>.silver.stg_rees46__events` on Databricks.
    Set var `schema_prefix` or env DBT_SCHEMA_PREFIX (for example your user name on a shared dev
    workspace; the bundle's dev target passes the user's short name) to get `<prefix>_silver` and so on:
    per-developer schemas without touching a model.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set layer = custom_schema_name if custom_schema_name is not none else target.schema -%}
    {%- set prefix = var('schema_prefix', env_var('DBT_SCHEMA_PREFIX', '')) | trim -%}
    {%- if prefix -%}
        {{ prefix }}_{{ layer | trim }}
    {%- else -%}
        {{ layer | trim }}
    {%- endif -%}
{%- endmacro %}
