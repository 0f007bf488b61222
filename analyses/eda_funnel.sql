{#- EDA: the funnel per source: users who viewed, carted, removed and purchased, and events per step. -#}

with events as (

    select * from {{ ref('int_events_validated') }}

),

final as (

    select
        source_system,
        count(distinct case when event_type = 'view' then user_id end) as viewing_users,
        count(distinct case when event_type = 'cart' then user_id end) as carting_users,
        count(distinct case when event_type = 'remove_from_cart' then user_id end) as removing_users,
        count(distinct case when event_type = 'purchase' then user_id end) as purchasing_users,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases
    from events
    group by source_system

)

select * from final
