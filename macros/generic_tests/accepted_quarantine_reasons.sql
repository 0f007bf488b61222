{#- Every quarantine reason in the column is one the `quarantine_reasons` seed lists for `feed` (the one
    list of reasons, their order and meaning). Returns each unknown reason with its row count. -#}
{% test accepted_quarantine_reasons(model, column_name, feed) %}
    {{ return(adapter.dispatch('test_accepted_quarantine_reasons')(model, column_name, feed)) }}
{% endtest %}

{% macro default__test_accepted_quarantine_reasons(model, column_name, feed) %}
    select
        tested.{{ column_name }} as quarantine_reason,
        count(*) as rows_with_reason
    -- (a subquery: `model` can itself be one, with its alias, when the test is scoped by a where)
    from (select * from {{ model }}) as tested
    left anti join {{ ref('quarantine_reasons') }} as reasons
        on
            reasons.feed = '{{ feed }}'
            and tested.{{ column_name }} = reasons.quarantine_reason
    where tested.{{ column_name }} is not null
    group by tested.{{ column_name }}
{% endmacro %}
