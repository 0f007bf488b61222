{%- set columns = [
    'event_time', 'event_type', 'product_id', 'category_id', 'category_code',
    'brand', 'price', 'user_id', 'user_session',
] -%}
-- Silver staging: every Bronze line parsed, typed and renamed, with the first validation rule it breaks
-- (null when it breaks none) and, for valid rows, its rank among duplicates of the same event
-- (same source, user, product, event type and second; 1 = the earliest delivered, the one kept).
-- Row count equals Bronze: nothing is dropped here.

with bronze as (

    select * from {{ ref('brz_rees46__events') }}

),

event_types as (

    select event_type from {{ ref('event_types') }}

),

parsed as (

    select
        {{ parse_csv_line('raw_line', columns) }} as fields,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from bronze

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
        fields._corrupt_record is not null as is_malformed,
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

ranked as (

    select
        *,
        row_number() over (
            partition by quarantine_reason is null, source_system, user_id, product_id, event_type, event_at
            order by ingested_at, source_file_name, raw_line
        ) as rank_in_key
    from validated

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
        raw_event_time,
        raw_price,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from ranked

)

select * from final
