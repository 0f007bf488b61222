-- Silver audit: valid rows of every source removed as duplicates of an event already kept
-- (duplicate_rank > 1), with the batch and file they came in, so every Bronze row stays accounted for.

with events as (

    select * from {{ ref('int_events_unioned') }}
    where quarantine_reason is null and duplicate_rank > 1

),

final as (

    select
        source_system,
        event_at,
        event_type,
        user_id,
        product_id,
        user_session_id,
        duplicate_rank,
        source_file_name,
        batch_id,
        ingested_at
    from events

)

select * from final
