{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='event_id',
        on_schema_change='append_new_columns',
        liquid_clustered_by=databricks_only(['event_date', 'event_type']),
        partition_by=local_only(['event_date']),
        tblproperties=large_table_properties(
            ['event_date', 'event_type', 'event_at', 'user_id', 'product_id', 'updated_at'],
            local_only(['event_date']),
        ),
    )
}}
{#- Delta's file statistics only on what runs and analysts filter on, with the clustering keys (Databricks
    clusters only on columns with statistics), not on the first 32 columns -#}
{#- Gold: one row per valid, deduplicated event, with the weight and funnel stage of its type.
    Incremental: a run merges (on event_id) the Silver rows written since its last run (their `updated_at`
    is newer than the newest here): new events of any age, and earlier ones whose derived session
    changed, which update their row in place. -#}

with events as (

    select * from {{ ref('int_events_validated') }}
    where {{ delivered_since_last_run('updated_at') }}

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
        events.is_price_missing,
        event_types.interaction_weight,
        event_types.funnel_stage,
        -- a purchase's revenue is its price, unknown (null) when the price is; other events bring none
        case when events.event_type = 'purchase' then events.price else 0 end as revenue,
        events.transaction_id,
        events.is_session_derived,
        events.updated_at
    from events
    -- many-to-one: each event type appears once in the seed (tested unique), so no fan-out
    inner join event_types
        on events.event_type = event_types.event_type

)

select * from final
