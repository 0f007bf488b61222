{{
    config(
        materialized='incremental',
        incremental_strategy=databricks_only('merge') or 'insert_overwrite',
        unique_key=['event_date', 'source_system', 'category_level_1', 'brand'],
        liquid_clustered_by=databricks_only(['event_date']),
        partition_by=local_only(['event_date']),
        on_schema_change='fail',
    )
}}
{#- Gold KPI mart: the funnel per day, source, top-level category and brand: users who viewed, carted and
    bought, and the step rates between them; missing categories and brands are '(unknown)'. Incremental by
    day: the days fct_events merged since the last run are recomputed and replace the stored days (see the yml). -#}

with events as (

    select * from {{ ref('fct_events') }}
    -- on an incremental run, the days fct_events merged
    where {{ days_fct_events_merged() }}

),

labelled as (

    select
        event_date,
        source_system,
        coalesce(nullif(category_level_1, ''), '(unknown)') as category_level_1,
        coalesce(nullif(brand, ''), '(unknown)') as brand,
        user_id,
        event_type,
        price,
        updated_at
    from events

),

final as (

    select
        event_date,
        source_system,
        category_level_1,
        brand,
        count(distinct case when event_type = 'view' then user_id end) as viewing_users,
        count(distinct case when event_type = 'cart' then user_id end) as carting_users,
        count(distinct case when event_type = 'purchase' then user_id end) as purchasing_users,
        sum(case when event_type = 'purchase' and price is null then 1 else 0 end) as purchases_unknown_price,
        {{ known_revenue() }} as revenue,
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
        ) as view_to_purchase_rate,
        max(updated_at) as events_updated_at
    from labelled
    group by event_date, source_system, category_level_1, brand

)

select * from final
