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


{#- The model's `partition_by` as a list of column names (it may be configured as one name or a list). -#}
{% macro partition_by_columns() %}
    {%- set partition_by = config.get('partition_by') -%}
    {%- do return([partition_by] if partition_by is string else (partition_by or [])) -%}
{% endmacro %}
