{#- EDA: what Silver set aside, per source and reason, against the source's Bronze rows. -#}

with quarantined as (

    select * from {{ ref('int_events_quarantined') }}

),

duplicates as (

    select * from {{ ref('int_events_duplicates') }}

),

delivered as (

    select * from {{ ref('int_events_ranked') }}

),

set_aside as (

    select
        source_system,
        quarantine_reason as reason
    from quarantined
    union all
    select
        source_system,
        'duplicate' as reason
    from duplicates

),

source_rows as (

    select
        source_system,
        count(*) as source_rows
    from delivered
    group by source_system

),

final as (

    select
        set_aside.source_system,
        set_aside.reason,
        count(*) as set_aside_rows,
        max(source_rows.source_rows) as source_rows,
        count(*) / max(source_rows.source_rows) as share_of_source
    from set_aside
    -- many-to-one: source_rows has one row per source
    inner join source_rows
        on set_aside.source_system = source_rows.source_system
    group by set_aside.source_system, set_aside.reason

)

select * from final
