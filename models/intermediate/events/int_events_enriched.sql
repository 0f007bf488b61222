{{ config(materialized='view') }}

{#- Silver enrichment (a view): the valid events kept by deduplication (duplicate_rank 1) in their final
    shape: app events with the category and price their item had at the event's time (item properties)
    and a category code of the category tree's ids; ids and category levels; no session derived yet. -#}

with deduplicated as (

    select * from {{ ref('int_events_ranked') }}
    where quarantine_reason is null and duplicate_rank = 1

),

item_history as (

    select * from {{ ref('int_retailrocket_items_historized') }}

),

categories as (

    select * from {{ ref('int_retailrocket_categories_flattened') }}

),

app_enriched as (

    select
        deduplicated.* except (category_id, category_code, price),
        {{ namespaced_id('deduplicated.source_system', 'item_history.category_id') }} as category_id,
        -- a category missing from the tree is its own one-level path
        coalesce(categories.category_path, cast(item_history.category_id as string)) as category_code,
        item_history.price
    from deduplicated
    -- many-to-one: an item's versions do not overlap, so at most one is valid at the event's time
    left join item_history
        on
            deduplicated.source_product_id = item_history.product_id
            and (item_history.is_first_version or deduplicated.event_at >= item_history.valid_from)
            and (item_history.valid_to is null or deduplicated.event_at < item_history.valid_to)
    -- many-to-one: one row per category
    left join categories
        on item_history.category_id = categories.category_id
    where deduplicated.source_system = 'retailrocket'

),

events as (

    select
        * except (category_id, category_code, price),
        category_id,
        category_code,
        price
    from deduplicated
    where source_system != 'retailrocket'

    union all

    select * from app_enriched

),

final as (

    select
        sha2(concat_ws('|', source_system, user_id, product_id, event_type, cast(event_at as string)), 256)
            as event_id,
        source_system,
        event_at,
        event_date,
        event_type,
        user_id,
        product_id,
        source_user_id,
        source_product_id,
        category_id,
        category_code,
        split_part(category_code, '.', 1) as category_level_1,
        nullif(split_part(category_code, '.', 2), '') as category_level_2,
        nullif(split_part(category_code, '.', 3), '') as category_level_3,
        brand,
        price,
        price is null as is_price_missing,
        user_session_id,
        user_session_id is null as is_session_derived,
        transaction_id,
        extra_columns,
        source_file_name,
        batch_id,
        ingested_at
    from events

)

select * from final
