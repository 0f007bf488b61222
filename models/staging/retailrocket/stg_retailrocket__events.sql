{{ config(materialized='view') }}
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
{#- Silver staging (a view): every Bronze line of the app's RetailRocket-layout events decoded, parsed,
    typed, flagged and renamed to the canonical event vocabulary (addtocart -> cart, transaction ->
    purchase). Ids stay in the app's own id space. Same rows as Bronze. -#}

with bronze as (

    select * from {{ ref('brz_retailrocket__events') }}

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

final as (

    select
        source_system,
        event_at,
        cast(event_at as date) as event_date,
        event_type,
        product_id,
        user_id,
        transaction_id,
        line_text is null as is_undecodable,
        is_malformed,
        has_long_field,
        missing_columns,
        extra_columns,
        raw_event_time,
        raw_event_type,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from typed

)

select * from final
