{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns') }}

{#- Silver quarantine: event rows of every source that broke a validation rule, with the reason, their
    raw values and, where they are not UTF-8, their delivered bytes. Incremental: each run appends the
    rows of the batches delivered since the last. -#}

with events as (

    select * from {{ ref('int_events_ranked') }}
    where quarantine_reason is not null and {{ delivered_since_last_run() }}

),

final as (

    select
        source_system,
        quarantine_reason,
        raw_event_time,
        event_type,
        product_id,
        user_id,
        raw_price,
        user_session_id,
        raw_line,
        raw_bytes,
        source_file_name,
        batch_id,
        ingested_at
    from events

)

select * from final
