-- EDA: event mix per day and the view -> cart -> purchase funnel, from the Silver events.
-- Compile with `lakehouse dbt compile --select event_mix_and_funnel` and run the SQL in any SQL client.

with events as (

    select * from {{ ref('int_events_validated') }}

),

daily as (

    select
        event_date,
        count(*) as events,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removes,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases
    from events
    group by event_date

),

final as (

    select
        event_date,
        events,
        views,
        carts,
        removes,
        purchases,
        carts / nullif(views, 0) as cart_per_view,
        purchases / nullif(carts, 0) as purchase_per_cart
    from daily

)

select * from final
order by event_date
