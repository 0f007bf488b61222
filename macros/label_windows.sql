{#-
    The last snapshot of `source_system` whose label window [as_of_date, as_of_date + label_horizon_days)
    has closed: the window must end by the source's last complete day (`dim_sources.last_complete_date`:
    each source's own range, so a source whose data ended years before another's is not labelled with
    days it never delivered). A scalar subquery (a map from source to date), not a join: used in a
    projection it adds none, so Spark can still drop ml_user_item_features' label join for a reader of
    dates only. The one definition of `is_label_complete` (ml_user_item_features) and of monitoring's
    labelled range (ml_conversion_monitoring).
-#}
{% macro last_label_complete_snapshot(source_system='source_system') -%}
    element_at(
        (
            select
                map_from_entries(
                    collect_list(
                        struct(
                            sources.source_system,
                            date_sub(sources.last_complete_date, {{ var('label_horizon_days') | int - 1 }})
                        )
                    )
                )
            from {{ ref('dim_sources') }} as sources
        ),
        {{ source_system }}
    )
{%- endmacro %}


{#- The newest label-complete snapshot over every source (a bound that prunes the labels' partitions). -#}
{% macro newest_label_complete_snapshot() -%}
    (
        select max(date_sub(sources.last_complete_date, {{ var('label_horizon_days') | int - 1 }}))
        from {{ ref('dim_sources') }} as sources
    )
{%- endmacro %}

{#- The ranking column of marketing's targeting list (ml_targeting_daily), from var `targeting_rank_by`. -#}
{% macro targeting_rank_column() -%}
    {%- set rank_by = var('targeting_rank_by') -%}
    {%- if rank_by not in ('expected_revenue', 'probability') -%}
        {{ exceptions.raise_compiler_error(
            "var targeting_rank_by must be 'expected_revenue' or 'probability', got '" ~ rank_by ~ "'"
        ) }}
    {%- endif -%}
    {{ rank_by }}_rank
{%- endmacro %}
