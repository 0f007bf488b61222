{{ config(materialized='view') }}
{%- set columns = [
    'event_time', 'event_type', 'product_id', 'category_id', 'category_code',
    'brand', 'price', 'user_id', 'user_session',
] -%}
{#- the columns an event cannot be without (a file lacking one has no event in it); price is not one -#}
{%- set required = ['event_time', 'event_type', 'product_id', 'user_id'] -%}
{#- header names accepted for a renamed column (after normalisation: lower case, `_` separators) -#}
{%- set aliases = {
    'event_time': ['event_timestamp', 'timestamp', 'event_ts'],
    'event_type': ['event', 'type'],
    'product_id': ['productid', 'product', 'item_id', 'itemid'],
    'category_id': ['categoryid'],
    'category_code': ['category'],
    'price': ['unit_price', 'product_price'],
    'user_id': ['userid', 'user', 'customer_id'],
    'user_session': ['session_id', 'user_session_id', 'session'],
} -%}
{#- Silver staging (a view): every Bronze line of the web shop's events decoded, parsed by its file's
    header names, typed, renamed and flagged; the rules that judge the flags live in int_events_checked.
    Same rows as Bronze (see the yml). -#}

with bronze as (

    select * from {{ ref('brz_rees46__events') }}

),

lines as (

    {{ landed_csv_lines('bronze', 'rees46') }}

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
        'rees46' as source_system,
        try_to_timestamp(trim(fields.event_time), 'yyyy-MM-dd HH:mm:ss z') as event_at,
        lower(trim(fields.event_type)) as event_type,
        try_cast(trim(fields.product_id) as bigint) as product_id,
        try_cast(trim(fields.category_id) as decimal(20, 0)) as category_id,
        nullif(trim(fields.category_code), '') as category_code,
        nullif(trim(fields.brand), '') as brand,
        {{ known_price('fields.price') }} as price,
        try_cast(trim(fields.user_id) as bigint) as user_id,
        nullif(trim(fields.user_session), '') as user_session_id,
        parsed.line_text,
        parsed.is_malformed,
        parsed.has_long_field,
        parsed.missing_columns,
        parsed.extra_columns,
        fields.event_time as raw_event_time,
        fields.price as raw_price,
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
        category_id,
        category_code,
        brand,
        price,
        price is null as is_price_missing,
        user_id,
        user_session_id,
        line_text is null as is_undecodable,
        is_malformed,
        has_long_field,
        missing_columns,
        extra_columns,
        raw_event_time,
        raw_price,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from typed

)

select * from final
