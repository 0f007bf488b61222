{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='append_new_columns',
        tblproperties=data_skipping_properties(['ingested_at', 'event_date', 'event_at']),
    )
}}
{#- Delta's file statistics only on what runs filter on (the run stamp, the day, the event time): by default it
    collects them on the first 32 columns, the delivered line among them, a tenth of the write -#}
{#- the same event: one source, user, product and event type in one second (the app's clock has
    milliseconds, the web shop's seconds) -#}
{%- set duplicate_key = [
    'source_system', 'source_user_id', 'source_product_id', 'event_type', "date_trunc('second', event_at)",
] -%}

{#- Silver deduplication: every delivered event row, checked, with its valid rows ranked among the
    duplicates of the same event (1 = the earliest delivered, the one kept). The one stored copy of the
    delivered rows; quarantine, duplicates and valid events are split from it. Incremental: appends the
    batches delivered since its last run, ranked after the copies already stored. -#}

with checked as (

    select * from {{ ref('int_events_checked') }}
    where {{ delivered_since_last_run() }}

),

{% if is_incremental() -%}
    delivered as (

        -- valid rows of earlier batches, per duplicate key of this batch (see macros/incremental.sql)
        {{ earlier_deliveries(duplicate_key, 'checked') }}

    ),
{%- endif %}

ranked as (

    select
        checked.*,
        case
            when checked.quarantine_reason is null
                then row_number() over (
                        partition by checked.quarantine_reason is null, {{ duplicate_key | join(', ') }}
                        order by checked.ingested_at, checked.source_file_name, checked.raw_line
                    ){% if is_incremental() %} + coalesce(delivered.rows_delivered, 0){% endif %}
        end as duplicate_rank
    from checked
    {%- if is_incremental() %}
    -- many-to-one: delivered has one row per key
    left join delivered
        on checked.quarantine_reason is null and {{ earlier_deliveries_match(duplicate_key) }}
    {%- endif %}

)

select * from ranked  -- noqa: AM04
