{#- Gold KPI mart: one row per source and day with activity. Every metric is defined once, here, and
    documented in models/marts/kpis/_kpis__docs.md: event counts by the event's day, sessions by the day
    they started, orders by the day they were placed. Money adds known values only: purchases of unknown
    price and orders of unknown value are counted apart, never as zero. -#}

with events as (

    select * from {{ ref('fct_events') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

orders as (

    select * from {{ ref('fct_orders') }}

),

sources as (

    select * from {{ ref('dim_sources') }}

),

daily_events as (

    select
        source_system,
        event_date,
        count(distinct user_id) as active_users,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removes,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        sum(case when event_type = 'purchase' and price is null then 1 else 0 end) as purchases_unknown_price,
        {{ known_revenue() }} as revenue
    from events
    group by source_system, event_date

),

daily_sessions as (

    select
        source_system,
        session_date,
        count(*) as sessions,
        sum(case when is_converting then 1 else 0 end) as converting_sessions,
        sum(case when has_cart then 1 else 0 end) as cart_sessions,
        sum(case when is_cart_abandoned then 1 else 0 end) as abandoned_cart_sessions,
        sum(case when is_value_known then 1 else 0 end) as sessions_known_value,
        sum(case when is_value_known then revenue end) as known_session_revenue
    from sessions
    group by source_system, session_date

),

daily_orders as (

    select
        source_system,
        order_date,
        count(*) as orders,
        sum(case when is_value_known then 0 else 1 end) as orders_unknown_value,
        sum(case when is_value_known then 1 else 0 end) as orders_known_value,
        sum(order_revenue) as known_order_revenue
    from orders
    group by source_system, order_date

),

final as (

    select
        daily_events.source_system,
        daily_events.event_date,
        daily_events.active_users,
        coalesce(daily_sessions.sessions, 0) as sessions,
        daily_events.views,
        daily_events.carts,
        daily_events.removes,
        daily_events.purchases,
        daily_events.purchases_unknown_price,
        coalesce(daily_orders.orders, 0) as orders,
        coalesce(daily_orders.orders_unknown_value, 0) as orders_unknown_value,
        coalesce(daily_sessions.converting_sessions, 0) as converting_sessions,
        coalesce(daily_sessions.cart_sessions, 0) as cart_sessions,
        coalesce(daily_sessions.abandoned_cart_sessions, 0) as abandoned_cart_sessions,
        daily_events.revenue,
        cast(coalesce(daily_orders.known_order_revenue, 0) as decimal(18, 2)) as order_revenue,
        cast(daily_sessions.converting_sessions / nullif(daily_sessions.sessions, 0) as double)
            as session_conversion_rate,
        cast(daily_sessions.abandoned_cart_sessions / nullif(daily_sessions.cart_sessions, 0) as double)
            as cart_abandonment_rate,
        cast(daily_orders.known_order_revenue / nullif(daily_orders.orders_known_value, 0) as decimal(18, 2))
            as average_order_value,
        cast(
            daily_sessions.known_session_revenue / nullif(daily_sessions.sessions_known_value, 0) as decimal(18, 2)
        ) as revenue_per_session,
        (daily_events.event_date = sources.first_event_date and sources.is_first_day_partial)
        or (daily_events.event_date = sources.last_event_date and sources.is_last_day_partial) as is_partial_day
    from daily_events
    -- one-to-one: each side is grouped by its source and day
    left join daily_sessions
        on
            daily_events.source_system = daily_sessions.source_system
            and daily_events.event_date = daily_sessions.session_date
    left join daily_orders
        on
            daily_events.source_system = daily_orders.source_system
            and daily_events.event_date = daily_orders.order_date
    -- many-to-one: one row per source
    inner join sources
        on daily_events.source_system = sources.source_system

)

select * from final
