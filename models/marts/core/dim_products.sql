{#- Gold: the current view of dim_products_history, one row per product (every product a feed or an event
    has named), with its first and last activity in the events. -#}

with history as (

    select * from {{ ref('dim_products_history') }}
    where is_current

),

product_days as (

    select * from {{ ref('agg_daily_product_stats') }}

),

activity as (

    select
        product_id,
        min(first_event_at) as first_seen_at,
        max(last_event_at) as last_seen_at,
        sum(events) as events_count,
        sum(purchases) as purchases_count
    from product_days
    group by product_id

),

final as (

    select
        history.product_id,
        history.source_system,
        history.source_product_id,
        history.category_id,
        history.category_code,
        history.category_level_1,
        history.category_level_2,
        history.category_level_3,
        {{ category_display_name('history.source_system', 'history.category_code') }} as category_display_name,
        history.brand,
        history.price as current_price,
        history.valid_from as current_since,
        history.version_source,
        activity.first_seen_at,
        activity.last_seen_at,
        coalesce(activity.events_count, 0) as events_count,
        coalesce(activity.purchases_count, 0) as purchases_count
    from history
    -- many-to-one: activity is grouped by product_id
    left join activity
        on history.product_id = activity.product_id

)

select * from final
