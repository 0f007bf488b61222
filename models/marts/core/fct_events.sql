{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='event_id',
        on_schema_change='append_new_columns',
        liquid_clustered_by=databricks_only(['event_date', 'event_type']),
        partition_by=local_only(['event_date']),
        tblproperties=large_table_properties(),
    )
}}
{%- set lookback = var('fct_events_lookback_days') | int -%}

-- Gold: one row per valid, deduplicated event, with the weight and funnel stage of its type.
-- Incremental: a run merges (on event_id) the Silver events of the last {{ lookback }} days before the
-- newest event already here, so events that arrive late (up to that many days) are picked up and
-- re-delivered ones update in place instead of doubling.

with events as (

    select * from {{ ref('int_events_validated') }}
    {% if is_incremental() -%}
        where event_date >= (
                select date_sub(coalesce(max(this_run.event_date), date '1900-01-01'), {{ lookback }})
                from {{ this }} as this_run
            )
    {%- endif %}

),

event_types as (

    select * from {{ ref('event_types') }}

),

final as (

    select
        events.event_id,
        events.source_system,
        events.event_at,
        events.event_date,
        events.event_type,
        events.user_id,
        events.user_session_id,
        events.product_id,
        events.category_id,
        events.category_code,
        events.category_level_1,
        events.category_level_2,
        events.category_level_3,
        events.brand,
        events.price,
        event_types.interaction_weight,
        event_types.funnel_stage,
        case when events.event_type = 'purchase' then events.price else 0 end as revenue,
        events.transaction_id,
        events.is_session_derived
    from events
    -- many-to-one: each event type appears once in the seed (tested unique), so no fan-out
    inner join event_types
        on events.event_type = event_types.event_type

)

select * from final
