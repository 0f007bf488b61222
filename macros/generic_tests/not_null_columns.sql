{#- Columns of the model that hold nulls: one row per such column with its count of null rows, and the
    test's failures are the null rows in all (dbt's not_null for several columns, in one scan of the table
    instead of one query per column: a query's fixed cost outweighs a scan on all but the largest tables). -#}
{% test not_null_columns(model, columns) %}
    {{ config(fail_calc='coalesce(sum(null_rows), 0)') }}
    {{ return(adapter.dispatch('test_not_null_columns')(model, columns)) }}
{% endtest %}

{% macro default__test_not_null_columns(model, columns) %}
    {%- if not columns -%}
        {{ exceptions.raise_compiler_error("not_null_columns needs at least one column") }}
    {%- endif %}
    with null_counts as (
        select
        {%- for column in columns %}
            count_if({{ column }} is null) as null_rows_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
        from {{ model }}
    )

    {% for column in columns -%}
        select '{{ column }}' as column_name, null_rows_{{ loop.index }} as null_rows
        from null_counts
        where null_rows_{{ loop.index }} > 0
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endmacro %}
