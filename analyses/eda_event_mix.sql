{#- EDA: the mix of event types per source, over the valid Silver events.
    `lakehouse eda` runs it (and every eda_*.sql here); or compile it with
    `lakehouse dbt compile --select eda_event_mix` and run the SQL in any SQL client. -#}

with events as (

    select * from {{ ref('int_events_validated') }}

),

final as (

    select
        source_system,
        event_type,
        count(*) as events,
        count(*) / sum(count(*)) over (partition by source_system) as share_of_source
    from events
    group by source_system, event_type

)

select * from final
