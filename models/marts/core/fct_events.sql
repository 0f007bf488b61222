{{
    config(
        liquid_clustered_by=databricks_only(['event_date', 'event_type']),
        tblproperties=large_table_properties(),
    )
}}

-- Gold: one row per valid, deduplicated event, with the weight and funnel stage of its type.

with events as (

    select * from {{ ref('int_events_validated') }}

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
        case when events.event_type = 'purchase' then events.price else 0 end as revenue
    from events
    -- many-to-one: each event type appears once in the seed (tested unique), so no fan-out
    inner join event_types
        on events.event_type = event_types.event_type

)

select * from final
