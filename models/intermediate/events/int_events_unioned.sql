{{ config(materialized="view") }}

{#- Silver (a view, not a copy): every staged event row of every source in one canonical shape, keys
    namespaced by source (`rees46:512345`) next to the source's own ids. Every row, flags and all: the
    rules that judge them are int_events_checked's. -#}

with rees46 as (

    select * from {{ ref('stg_rees46__events') }}

),

retailrocket as (

    select * from {{ ref('stg_retailrocket__events') }}

),

unioned as (

    select
        source_system,
        event_at,
        event_date,
        event_type,
        user_id as source_user_id,
        product_id as source_product_id,
        {{ namespaced_id('source_system', 'category_id') }} as category_id,
        category_code,
        brand,
        price,
        user_session_id,
        cast(null as string) as source_transaction_id,
        is_undecodable,
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
    from rees46

    union all

    select
        source_system,
        event_at,
        event_date,
        event_type,
        user_id as source_user_id,
        product_id as source_product_id,
        cast(null as string) as category_id,  -- an item property: joined in int_events_validated
        cast(null as string) as category_code,
        cast(null as string) as brand,
        cast(null as decimal(12, 2)) as price,
        cast(null as string) as user_session_id,
        transaction_id as source_transaction_id,
        is_undecodable,
        is_malformed,
        has_long_field,
        missing_columns,
        extra_columns,
        raw_event_time,
        cast(null as string) as raw_price,
        raw_bytes,
        raw_line,
        source_file_name,
        batch_id,
        ingested_at
    from retailrocket

),

final as (

    select
        source_system,
        event_at,
        event_date,
        event_type,
        {{ namespaced_id('source_system', 'source_user_id') }} as user_id,
        {{ namespaced_id('source_system', 'source_product_id') }} as product_id,
        source_user_id,
        source_product_id,
        category_id,
        category_code,
        brand,
        price,
        user_session_id,
        {{ namespaced_id('source_system', 'source_transaction_id') }} as transaction_id,
        is_undecodable,
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
    from unioned

)

select * from final
