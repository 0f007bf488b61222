{#-
    Local runs (dbt-spark and this project's session adapter): the table write of a dbt Python model.
    dbt-spark's own version writes every Python model unpartitioned, whatever its `partition_by`; with the
    table unpartitioned, `insert_overwrite` would replace the whole table instead of the partitions the run
    wrote. This one honours `partition_by` (ml_conversion_predictions: one partition per scored snapshot).
    A model returns a Spark DataFrame (or a pandas one, converted here); anything else is a clear error.
    dbt-databricks writes through its own macro (databricks__py_write_table) and is not affected.
-#}
{% macro py_write_table(compiled_code, target_relation) %}
{#- (the output starts on a new line: the caller indents this macro's call) #}
{{ compiled_code }}
{%- set partition_by = partition_by_columns() %}
# --- dbt materialization (this project's macros/python_write.sql) --- #
dbt = dbtObj(spark.table)
df = model(dbt, spark)

import pyspark.sql

if not isinstance(df, pyspark.sql.DataFrame):
    try:
        import pandas
    except ImportError:
        pandas = None
    if pandas is None or not isinstance(df, pandas.DataFrame):
        raise TypeError(
            f"dbt Python model {{ target_relation }} returned {type(df).__name__}: return a Spark or pandas DataFrame"
        )
    df = spark.createDataFrame(df)

# the whole table is replaced: static overwrite (an incremental run has set the session's partition overwrite
# mode to dynamic for its insert, and Delta refuses overwriteSchema with it)
writer = (
    df.write.mode("overwrite")
    .format("{{ config.get('file_format', 'delta') }}")
    .option("overwriteSchema", "true")
    .option("partitionOverwriteMode", "static")
)
{%- if partition_by %}
writer = writer.partitionBy(*{{ partition_by | tojson }})
{%- endif %}
writer.saveAsTable("{{ target_relation }}")
{%- endmacro %}


{#-
    Pre-hook of an incremental model whose table is now partitioned (local runs): a table built before
    `partition_by` was set is rewritten once in place, partitioned (one Delta commit, CREATE OR REPLACE from
    its own rows), so `insert_overwrite` replaces only the partitions a run writes and the rows of earlier
    runs (a prediction history no rebuild can reproduce) are kept. Renders nothing when the table is already
    partitioned so, does not exist yet, or is being rebuilt (full refresh), and on Databricks.
-#}
{% macro partition_existing_table() %}
    {%- set partition_by = partition_by_columns() -%}
    {%- if execute and partition_by and target.type != 'databricks' and not should_full_refresh() -%}
        {%- set existing = load_relation(this) -%}
        {%- if existing is not none -%}
            {%- set detail = run_query('describe detail ' ~ this) -%}
            {#- the array arrives as its text, e.g. '["as_of_date"]' or '[]' -#}
            {%- set listed = detail.columns['partitionColumns'].values()[0] | string -%}
            {%- set current = [] -%}
            {%- for name in listed.strip('[]').split(',') -%}
                {%- if name.strip(' "\'') -%}{%- do current.append(name.strip(' "\'')) -%}{%- endif -%}
            {%- endfor -%}
            {%- if current != partition_by -%}
                {{ log('repartitioning ' ~ this ~ ' by ' ~ partition_by | join(', ') ~ ' (was: ' ~ (current | join(', ') or 'unpartitioned') ~ ')', info=true) }}
                create or replace table {{ this }}
                using delta
                partitioned by ({{ partition_by | join(', ') }})
                as select * from {{ this }}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{% endmacro %}


{#- The model's `partition_by` as a list of column names (it may be configured as one name or a list). -#}
{% macro partition_by_columns() %}
    {%- set partition_by = config.get('partition_by') -%}
    {%- do return([partition_by] if partition_by is string else (partition_by or [])) -%}
{% endmacro %}
