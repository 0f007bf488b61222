{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns') }}

{#- Silver audit: valid rows of every source removed as duplicates of an event already kept
    (duplicate_rank > 1), with the batch and file they came in, so every Bronze row stays accounted for.
    Incremental: each run appends the rows of the batches delivered since the last. -#}

with events as (

    select * from {{ ref('int_events_ranked') }}
    where quarantine_reason is null and duplicate_rank > 1 and {{ delivered_since_last_run() }}

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
