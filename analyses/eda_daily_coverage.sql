-- EDA: one row per day between the first and the last event day, with its events (0 for a gap).

with events as (

    select * from {{ ref('int_events_validated') }}

),

days as (

    select explode(sequence(min(event_date), max(event_date), interval 1 day)) as event_date
    from events

),

daily as (

    select
        event_date,
        count(*) as events
    from events
    group by event_date

),

final as (

    select
        days.event_date,
        coalesce(daily.events, 0) as events
    from days
    -- one-to-one: daily is grouped by event_date
    left join daily
        on days.event_date = daily.event_date

)

select * from final
