{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns') }}
{%- set duplicate_key = ['source_system', 'user_id', 'product_id', 'event_type', 'event_at'] -%}
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
{#- Silver staging: every Bronze line decoded, parsed by its file's header names, typed and renamed, with
    the first validation rule it breaks and, for valid rows, its rank among duplicates (see the yml). Row
    count equals Bronze: nothing is dropped here. -#}

with bronze as (

    select * from {{ ref('brz_rees46__events') }}
    where {{ delivered_since_last_run() }}

),

event_types as (

    select event_type from {{ ref('event_types') }}

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

validated as (

    select
        typed.*,
        {{ event_quarantine_reason('typed', 'event_types.event_type is not null', 'shop_opened_at') }}
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
        category_id,
        category_code,
        brand,
        price,
        price is null as is_price_missing,
        user_id,
        user_session_id,
        quarantine_reason,
        case when quarantine_reason is null then rank_in_key end as duplicate_rank,
        missing_columns,
        extra_columns,
        raw_event_time,
        raw_price,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from ranked

)

select * from final
