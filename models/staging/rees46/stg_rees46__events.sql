{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns') }}
{%- set duplicate_key = ['source_system', 'user_id', 'product_id', 'event_type', 'event_at'] -%}
{%- set columns = [
    'event_time', 'event_type', 'product_id', 'category_id', 'category_code',
    'brand', 'price', 'user_id', 'user_session',
] -%}
{%- set required = ['event_time', 'event_type', 'product_id', 'price', 'user_id'] -%}
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
-- Silver staging: every Bronze line parsed by its file's header names, typed and renamed, with the first
-- validation rule it breaks (null when it breaks none) and, for valid rows, its rank among duplicates of
-- the same event (same source, user, product, event type and second; 1 = the earliest delivered, the one
-- kept). Columns the layout does not know are kept in `extra_columns`. Row count equals Bronze: nothing
-- is dropped here.

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
        try_cast(trim(fields.price) as decimal(12, 2)) as price,
        try_cast(trim(fields.user_id) as bigint) as user_id,
        nullif(trim(fields.user_session), '') as user_session_id,
        parsed.is_malformed,
        parsed.missing_columns,
        parsed.extra_columns,
        fields.event_time as raw_event_time,
        fields.price as raw_price,
        parsed.raw_line,
        parsed.source_file_name,
        parsed.batch_id,
        parsed.ingested_at
    from parsed

),

validated as (

    select
        typed.*,
        case
            when typed.missing_columns is not null then 'missing_required_column'
            when typed.is_malformed then 'malformed_line'
            when typed.event_at is null then 'invalid_event_time'
            when typed.event_at > typed.ingested_at then 'future_event_time'
            when typed.event_at < timestamp '{{ var("shop_opened_at") }}' then 'before_shop_opened'
            when event_types.event_type is null then 'unknown_event_type'
            when typed.user_id is null then 'missing_user_id'
            when typed.product_id is null then 'missing_product_id'
            when typed.price is null then 'invalid_price'
            when typed.price <= 0 then 'non_positive_price'
        end as quarantine_reason
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
        user_id,
        user_session_id,
        quarantine_reason,
        case when quarantine_reason is null then rank_in_key end as duplicate_rank,
        missing_columns,
        extra_columns,
        raw_event_time,
        raw_price,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from ranked

)

select * from final
