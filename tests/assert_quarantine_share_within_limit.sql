{{ config(severity='error', store_failures=true) }}
{#- Critical gate: each source's latest batch must not have more than var `max_quarantine_share` (default
    0.2) of its event rows quarantined; above that it is a broken delivery, and failing here stops Gold, the
    feature mart, training and scoring. Older batches are not re-judged: a past incident must not block
    every later run. -#}

with events as (

    select
        source_system,
        batch_id,
        ingested_at,
        quarantine_reason
    from {{ ref('int_events_ranked') }}

),

per_batch as (

    select
        source_system,
        batch_id,
        max(ingested_at) as ingested_at,
        count(*) as event_rows,
        count(quarantine_reason) as quarantined_rows
    from events
    group by source_system, batch_id

),

latest as (

    select
        *,
        row_number() over (partition by source_system order by ingested_at desc, batch_id desc) as recency_rank
    from per_batch

)

select
    source_system,
    batch_id,
    ingested_at,
    event_rows,
    quarantined_rows,
    quarantined_rows / event_rows as quarantined_share
from latest
where
    recency_rank = 1
    and quarantined_rows / event_rows > {{ var('max_quarantine_share', 0.2) }}
