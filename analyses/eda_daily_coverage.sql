{#- EDA: one row per source and day between the source's own first and last event day, with its events
    (0 for a gap). Each source is judged on its own range: sources can be years apart. -#}

with events as (

    select * from {{ ref('int_events_validated') }}

),

days as (

    select
        source_system,
        explode(sequence(min(event_date), max(event_date), interval 1 day)) as event_date
    from events
    group by source_system

),

daily as (

    select
        source_system,
        event_date,
        count(*) as events
    from events
    group by source_system, event_date

),

final as (

    select
        days.source_system,
        days.event_date,
        coalesce(daily.events, 0) as events
    from days
    -- one-to-one: daily is grouped by source and day
    left join daily
        on
            days.source_system = daily.source_system
            and days.event_date = daily.event_date

)

select * from final
