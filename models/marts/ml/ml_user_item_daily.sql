{{
    config(
        materialized='incremental',
        incremental_strategy=databricks_only('merge') or 'insert_overwrite',
        unique_key=['event_date', 'user_id', 'product_id'],
        liquid_clustered_by=databricks_only(['event_date']),
        partition_by=local_only(['event_date']),
        on_schema_change='fail',
        tblproperties=data_skipping_properties(
            ['event_date', 'user_id', 'product_id', 'events_updated_at'], local_only(['event_date'])
        ),
    )
}}
{#- Delta's file statistics only on the keys and the run stamp, not on all 17 columns -#}
{#- The feature mart's input: one row per (user, product, day) with an interaction, the day's counts and
    latest values, and `day_fingerprint` (one hash of the day's rows: the mart recomputes only the snapshots
    whose windows hold a changed day). Incremental by day, like the daily Gold aggregates (see the yml). -#}

with events as (

    select * from {{ ref('fct_events') }}
    -- on an incremental run, the days fct_events merged
    where {{ days_fct_events_merged() }}

),

aggregated as (

    select
        event_date,
        user_id,
        product_id,
        -- keys are namespaced by source: one source per pair
        max(source_system) as source_system,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removes,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        sum(interaction_weight) as interaction_score,
        max(funnel_stage) as funnel_stage,
        count(distinct user_session_id) as sessions,
        max(case when event_type = 'view' then event_at end) as last_view_at,
        max(event_at) as last_event_at,
        max_by(price, event_at) as last_price,
        -- the top-level category of the day's latest interaction, as a 64-bit hash of its name: a fixed-width
        -- key the mart's aggregates keep in hash-aggregation buffers (a string buffer makes Spark sort every
        -- group), and the same key on every run
        max_by(xxhash64(coalesce(category_level_1, '(unknown)')), event_at) as category_key,
        max(updated_at) as events_updated_at
    from events
    group by event_date, user_id, product_id

),

final as (

    select
        aggregated.*,
        -- order-free (a sum of the rows' hashes, exact in decimal) and the same on every run of the same rows
        xxhash64(
            sum(
                cast(
                    xxhash64(
                        aggregated.user_id,
                        aggregated.product_id,
                        aggregated.views,
                        aggregated.carts,
                        aggregated.removes,
                        aggregated.purchases,
                        aggregated.interaction_score,
                        aggregated.funnel_stage,
                        aggregated.sessions,
                        aggregated.last_view_at,
                        aggregated.last_event_at,
                        aggregated.last_price,
                        aggregated.category_key
                    ) as decimal(38, 0)
                )
            ) over (partition by aggregated.event_date)
        ) as day_fingerprint
    from aggregated

)

select * from final
