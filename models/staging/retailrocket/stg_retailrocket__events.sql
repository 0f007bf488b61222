{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns') }}
{%- set duplicate_key = ['user_id', 'product_id', 'event_type', "date_trunc('second', event_at)"] -%}
{%- set columns = ['timestamp', 'visitorid', 'event', 'itemid', 'transactionid'] -%}
{%- set required = ['timestamp', 'visitorid', 'event', 'itemid'] -%}
{#- header names accepted for a renamed column (after normalisation: lower case, `_` separators) -#}
{%- set aliases = {
    'timestamp': ['event_time', 'time'],
    'visitorid': ['visitor_id', 'user_id', 'userid'],
    'event': ['event_type'],
    'itemid': ['item_id', 'product_id', 'productid'],
    'transactionid': ['transaction_id'],
} -%}
{#- Silver staging: every Bronze line of the app's RetailRocket-layout events decoded, parsed, typed and
    renamed to the canonical event vocabulary (addtocart -> cart, transaction -> purchase), with the first
    validation rule it breaks and, for valid rows, its rank among duplicates (see the yml). Row count
    equals Bronze. Ids stay in the app's own id space. -#}

with bronze as (

    select * from {{ ref('brz_retailrocket__events') }}
    where {{ delivered_since_last_run() }}

),

event_types as (

    select event_type from {{ ref('event_types') }}

),

lines as (

    {{ landed_csv_lines('bronze', 'retailrocket') }}

),

parsed as (

    select
        {{ landed_csv_fields(columns, required, aliases) }},
        line_text,
        has_long_field,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from lines

),

typed as (

    select
        'retailrocket' as source_system,
        timestamp_millis(try_cast(trim(fields.timestamp) as bigint)) as event_at,
        case lower(trim(fields.event))
            when 'addtocart' then 'cart'
            when 'transaction' then 'purchase'
            else lower(trim(fields.event))
        end as event_type,
        try_cast(trim(fields.itemid) as bigint) as product_id,
        try_cast(trim(fields.visitorid) as bigint) as user_id,
        nullif(trim(fields.transactionid), '') as transaction_id,
        parsed.line_text,
        parsed.is_malformed,
        parsed.has_long_field,
        parsed.missing_columns,
        parsed.extra_columns,
        fields.timestamp as raw_event_time,
        fields.event as raw_event_type,
        parsed.raw_bytes,
        parsed.raw_line,
        parsed.source_file_name,
        parsed.batch_id,
        parsed.ingested_at
    from parsed

),

validated as (

    select
        typed.*,
        {{ event_quarantine_reason('typed', 'event_types.event_type is not null', 'app_opened_at') }}
            as quarantine_reason
    from typed
    -- many-to-one: event_type is unique in the seed (tested)
    left join event_types
        on typed.event_type = event_types.event_type

),

{% if is_incremental() -%}
    delivered as (

        -- valid rows of earlier batches, per duplicate key of this batch (see macros/incremental.sql)
        {{ staged_deliveries(duplicate_key, 'validated') }}

    ),
{%- endif %}

ranked as (

    select
        validated.*,
        row_number() over (
            partition by validated.quarantine_reason is null, {{ duplicate_key | join(', ') }}
            order by validated.ingested_at, validated.source_file_name, validated.raw_line
        ){% if is_incremental() %} + coalesce(delivered.rows_delivered, 0){% endif %} as rank_in_key
    from validated
    {%- if is_incremental() %}
    -- many-to-one: delivered has one row per key
    left join delivered
        on validated.quarantine_reason is null and {{ staged_deliveries_match(duplicate_key) }}
    {%- endif %}

),

final as (

    select
        source_system,
        event_at,
        cast(event_at as date) as event_date,
        event_type,
        product_id,
        user_id,
        transaction_id,
        quarantine_reason,
        case when quarantine_reason is null then rank_in_key end as duplicate_rank,
        missing_columns,
        extra_columns,
        raw_event_time,
        raw_event_type,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from ranked

)

select * from final
