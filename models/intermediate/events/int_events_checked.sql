{{ config(materialized='view') }}

{#- Silver validation (a view): every event row of every source with the first rule it breaks
    (`quarantine_reason`, null for a valid row); one rule set for all sources (macro
    event_quarantine_reason, the `quarantine_reasons` seed's order). -#}

with events as (

    select * from {{ ref('int_events_unioned') }}

),

event_types as (

    select event_type from {{ ref('event_types') }}

),

checked as (

    select
        events.*,
        {{ event_quarantine_reason('events', 'event_types.event_type is not null') }} as quarantine_reason
    from events
    -- many-to-one: event_type is unique in the seed (tested)
    left join event_types
        on events.event_type = event_types.event_type

)

select * from checked  -- noqa: AM04
