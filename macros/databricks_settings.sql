{#-
    Settings that only the Databricks engine has, kept out of the local engine (Delta OSS rejects
    unknown `delta.*` table properties, and liquid clustering is a Databricks feature).

    * `databricks_only(value)`: the value on the databricks target, none elsewhere (for configs such as
      `liquid_clustered_by`);
    * `local_only(value)`: the value everywhere but Databricks (a local table is partitioned where the
      Databricks one is liquid-clustered on the same column: both let a merge or a date filter skip files);
    * `large_table_properties(stats_columns, partition_columns)`: table properties for the big, frequently
      appended tables: on Databricks optimized writes, auto compaction and deletion vectors; on both engines
      the file statistics limited to `stats_columns` when given (see `data_skipping_properties`); none when
      that leaves nothing (dbt-spark would write an empty `tblproperties ()` clause for an empty dict);
    * `data_skipping_properties(columns, partition_columns)`: the table property limiting Delta's file
      statistics to `columns` (on both engines) less the table's partition columns;
    * `grant_analyst_access()`: an on-run-end hook; on Databricks analysts (var `analysts_group`) may read
      Gold and nothing else; locally it does nothing (the local metastore has no grants).
-#}

{% macro databricks_only(value) -%}
    {{ return(value if target.type == 'databricks' else none) }}
{%- endmacro %}

{% macro local_only(value) -%}
    {{ return(value if target.type != 'databricks' else none) }}
{%- endmacro %}

{% macro large_table_properties(stats_columns=none, partition_columns=none) -%}
    {%- set properties = {} -%}
    {%- if target.type == 'databricks' -%}
        {%- do properties.update({
            'delta.autoOptimize.optimizeWrite': 'true',
            'delta.autoOptimize.autoCompact': 'true',
            'delta.enableDeletionVectors': 'true',
        }) -%}
    {%- endif -%}
    {%- if stats_columns -%}
        {%- do properties.update(data_skipping_properties(stats_columns, partition_columns)) -%}
    {%- endif -%}
    {{ return(properties or none) }}
{%- endmacro %}

{% macro data_skipping_properties(columns, partition_columns=none) -%}
    {#- Delta collects min, max and null counts for the first 32 columns unless told which: on a wide table
        that is a large part of the write (a tenth to a fifth of int_events_ranked's, int_events_validated's
        and fct_events' at 1M events). A partition column has no file statistics
        (Delta refuses one: its values already skip files), so it is left out where the table is
        partitioned; Delta refuses boolean columns too. -#}
    {%- set kept = columns | reject('in', partition_columns or []) | list -%}
    {{ return({'delta.dataSkippingStatsColumns': kept | join(',')}) }}
{%- endmacro %}

{% macro grant_analyst_access() -%}
    {{ return(adapter.dispatch('grant_analyst_access')()) }}
{%- endmacro %}

{% macro default__grant_analyst_access() -%}
{%- endmacro %}

{% macro databricks__grant_analyst_access() -%}
    {%- set group = var('analysts_group', 'analysts') -%}
    grant use catalog on catalog `{{ target.catalog }}` to `{{ group }}`;
    grant use schema, select on schema `{{ target.catalog }}`.`{{ generate_schema_name('gold', none) }}` to `{{ group }}`
{%- endmacro %}
