-- Gold KPI mart: one row per day. Rates are ratios of the day's own counts.

with events as (

    select * from {{ ref('fct_events') }}

),

daily as (

    select
        event_date,
        count(distinct user_id) as active_users,
        count(distinct user_session_id) as sessions,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        count(distinct case when event_type = 'purchase' then user_session_id end) as converting_sessions,
        sum(revenue) as revenue
    from events
    group by event_date

),

final as (

    select
        event_date,
        active_users,
        sessions,
        views,
        carts,
        purchases,
        converting_sessions,
        cast(revenue as decimal(18, 2)) as revenue,
        converting_sessions / nullif(sessions, 0) as session_conversion_rate,
        cast(revenue / nullif(purchases, 0) as decimal(18, 2)) as average_order_value
    from daily

)

select * from final
