-- Gold: one row per product and day with activity: views, carts, removes, purchases, revenue, users.

with events as (

    select * from {{ ref('fct_events') }}

),

final as (

    select
        event_date,
        product_id,
        max(category_level_1) as category_level_1,
        max(brand) as brand,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removes,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        count(distinct user_id) as users,
        avg(price) as average_price
    from events
    group by event_date, product_id

)

select * from final
