-- Gold KPI mart: one row per day with activity. Every metric is defined once, here, and documented in
-- models/marts/kpis/_kpis__docs.md: event counts by the event's day, sessions by the day they started,
-- orders by the day they were placed.

with events as (

    select * from {{ ref('fct_events') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

daily_events as (

    select
        event_date,
        count(distinct user_id) as active_users,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removes,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        sum(revenue) as revenue
    from events
    group by event_date

),

daily_sessions as (

    select
        session_date,
        count(*) as sessions,
        sum(case when is_converting then 1 else 0 end) as converting_sessions,
        sum(case when has_cart then 1 else 0 end) as cart_sessions,
        sum(case when is_cart_abandoned then 1 else 0 end) as abandoned_cart_sessions
    from sessions
    group by session_date

),

daily_orders as (

    select
        order_date,
        count(*) as orders,
        sum(order_revenue) as order_revenue
    from orders
    group by order_date

),

final as (

    select
        daily_events.event_date,
        daily_events.active_users,
        coalesce(daily_sessions.sessions, 0) as sessions,
        daily_events.views,
        daily_events.carts,
        daily_events.removes,
        daily_events.purchases,
        coalesce(daily_orders.orders, 0) as orders,
        coalesce(daily_sessions.converting_sessions, 0) as converting_sessions,
        coalesce(daily_sessions.cart_sessions, 0) as cart_sessions,
        coalesce(daily_sessions.abandoned_cart_sessions, 0) as abandoned_cart_sessions,
        cast(daily_events.revenue as decimal(18, 2)) as revenue,
        cast(daily_sessions.converting_sessions / nullif(daily_sessions.sessions, 0) as double)
            as session_conversion_rate,
        cast(daily_sessions.abandoned_cart_sessions / nullif(daily_sessions.cart_sessions, 0) as double)
            as cart_abandonment_rate,
        cast(daily_orders.order_revenue / nullif(daily_orders.orders, 0) as decimal(18, 2))
            as average_order_value,
        cast(daily_events.revenue / nullif(daily_sessions.sessions, 0) as decimal(18, 2)) as revenue_per_session
    from daily_events
    -- one-to-one: each side is grouped by its day
    left join daily_sessions
        on daily_events.event_date = daily_sessions.session_date
    left join daily_orders
        on daily_events.event_date = daily_orders.order_date

)

select * from final
