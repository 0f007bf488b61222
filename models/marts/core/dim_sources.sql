{#- Gold: one row per source system with events: its own time range (sources can be years apart, and each
    is judged on its own range: snapshots, label completeness, daily KPIs, gaps) and whether its first and
    last day are partial (the data starts more than an hour after midnight, or ends more than an hour
    before it), so a daily chart does not read a cut-off day as a bad one. -#}

with events as (

    select * from {{ ref('fct_events') }}

),

ranges as (

    select
        source_system,
        min(event_at) as first_event_at,
        max(event_at) as last_event_at,
        count(*) as events_count
    from events
    group by source_system

),

final as (

    select
        source_system,
        {{ source_label('source_system') }} as source_label,
        first_event_at,
        last_event_at,
        cast(first_event_at as date) as first_event_date,
        cast(last_event_at as date) as last_event_date,
        first_event_at > cast(cast(first_event_at as date) as timestamp) + interval 1 hour as is_first_day_partial,
        last_event_at < cast(cast(last_event_at as date) as timestamp) + interval 23 hours as is_last_day_partial,
        -- the last day with the whole day's data: labels that look at later days are not complete
        case
            when last_event_at < cast(cast(last_event_at as date) as timestamp) + interval 23 hours
                then date_sub(cast(last_event_at as date), 1)
            else cast(last_event_at as date)
        end as last_complete_date,
        events_count
    from ranges

)

select * from final
