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


{#- Each source's snapshot range (sources can be years apart): its first snapshot has `min_history_days`
    of its history, its last is the day after its data ends. A source with less history than that has no
    snapshot (no row here) rather than a range that ends before it starts. The one definition for the
    feature mart's snapshots (ml_feature_snapshot_inputs, ml_user_item_feature_snapshots) and their labels. -#}
{% macro source_snapshot_range() -%}
    select
        source_system,
        date_add(first_event_date, {{ var('min_history_days') | int }}) as first_snapshot,
        date_add(last_event_date, 1) as last_snapshot
    from {{ ref('dim_sources') }}
    where date_add(first_event_date, {{ var('min_history_days') | int }}) <= date_add(last_event_date, 1)
{%- endmacro %}
