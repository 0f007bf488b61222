-- Gold: one row per product with its latest observed attributes and first/last activity.

with events as (

    select * from {{ ref('fct_events') }}

),

latest as (

    select
        product_id,
        category_id,
        category_code,
        brand,
        price,
        row_number() over (partition by product_id order by event_at desc, event_id desc) as recency_rank
    from events

),

activity as (

    select
        product_id,
        min(event_at) as first_seen_at,
        max(event_at) as last_seen_at,
        count(*) as events_count,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases_count
    from events
    group by product_id

),

final as (

    select
        latest.product_id,
        latest.category_id,
        latest.category_code,
        split_part(latest.category_code, '.', 1) as category_level_1,
        latest.brand,
        latest.price as current_price,
        activity.first_seen_at,
        activity.last_seen_at,
        activity.events_count,
        activity.purchases_count
    from latest
    -- one-to-one: activity is grouped by product_id
    inner join activity
        on latest.product_id = activity.product_id
    where latest.recency_rank = 1

)

select * from final
