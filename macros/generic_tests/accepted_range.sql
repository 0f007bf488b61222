{#- Rows whose value lies outside [min_value, max_value] (dbt-expectations'
    expect_column_values_to_be_between, dbt-utils' accepted_range). Nulls are not checked here:
    pair it with not_null. -#}
{% test accepted_range(model, column_name, min_value=none, max_value=none, inclusive=true) %}
    {{ return(adapter.dispatch('test_accepted_range')(model, column_name, min_value, max_value, inclusive)) }}
{% endtest %}

{% macro default__test_accepted_range(model, column_name, min_value, max_value, inclusive) %}
    {%- if min_value is none and max_value is none -%}
        {{ exceptions.raise_compiler_error("accepted_range needs min_value, max_value or both") }}
    {%- endif -%}
    {%- set lower = '<' if inclusive else '<=' -%}
    {%- set upper = '>' if inclusive else '>=' -%}
    select *
    from {{ model }}
    where
        {{ column_name }} is not null
        and (
            false
            {%- if min_value is not none %} or {{ column_name }} {{ lower }} {{ min_value }}{% endif %}
            {%- if max_value is not none %} or {{ column_name }} {{ upper }} {{ max_value }}{% endif %}
        )
{% endmacro %}
