{{
    config(
        materialized='incremental',
        incremental_strategy=databricks_only('merge') or 'insert_overwrite',
        unique_key=['event_date', 'category_level_1', 'brand'],
        liquid_clustered_by=databricks_only(['event_date']),
        partition_by=local_only(['event_date']),
        on_schema_change='fail',
    )
}}
-- Gold KPI mart: the funnel per day, top-level category and brand: how many users viewed, carted and
-- bought there, and the step rates between them. Missing categories and brands are grouped as
-- '(unknown)' so the grain has no nulls.
-- Incremental: a run recomputes the days fct_events merged (the last `fct_events_lookback_days` before the
-- newest day here, and the new ones) and each replaces the stored day whole: locally by overwriting its
-- event_date partition, on Databricks by a merge on the grain (events are only added to a day).

with events as (

    select * from {{ ref('fct_events') }}
    -- on an incremental run, the days fct_events merged
    where {{ days_fct_events_merged() }}

),

labelled as (

    select
        event_date,
        coalesce(nullif(category_level_1, ''), '(unknown)') as category_level_1,
        coalesce(nullif(brand, ''), '(unknown)') as brand,
        user_id,
        event_type,
        revenue
    from events

),

final as (

    select
        event_date,
        category_level_1,
        brand,
        count(distinct case when event_type = 'view' then user_id end) as viewing_users,
        count(distinct case when event_type = 'cart' then user_id end) as carting_users,
        count(distinct case when event_type = 'purchase' then user_id end) as purchasing_users,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        cast(
            count(distinct case when event_type = 'cart' then user_id end)
            / nullif(count(distinct case when event_type = 'view' then user_id end), 0) as double
        ) as view_to_cart_rate,
        cast(
            count(distinct case when event_type = 'purchase' then user_id end)
            / nullif(count(distinct case when event_type = 'cart' then user_id end), 0) as double
        ) as cart_to_purchase_rate,
        cast(
            count(distinct case when event_type = 'purchase' then user_id end)
            / nullif(count(distinct case when event_type = 'view' then user_id end), 0) as double
        ) as view_to_purchase_rate
    from labelled
    group by event_date, category_level_1, brand

)

select * from final
