{#- EDA: when people shop: events per UTC hour of day and weekday (1 = Monday), and the days covered. -#}

with events as (

    select * from {{ ref('int_events_validated') }}

),

final as (

    select
        weekday(event_at) + 1 as day_of_week,
        hour(event_at) as hour_of_day,
        count(*) as events,
        count(distinct event_date) as days
    from events
    group by weekday(event_at) + 1, hour(event_at)

)

select * from final
