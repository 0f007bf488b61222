{#- Gold: product history (SCD type 2), one row per product and version, from each source's own record
    of change: the web shop's catalog snapshot (snp_catalog_products), the app's item properties
    (int_retailrocket_items_historized). A product seen in events but in neither feed (the public REES46
    files come without a catalog) gets one version built from its events.
    valid_from is inclusive, valid_to exclusive and null for the current version. -#}

with catalog_versions as (

    select * from {{ ref('snp_catalog_products') }}

),

app_versions as (

    select * from {{ ref('int_retailrocket_items_historized') }}

),

app_categories as (

    select * from {{ ref('int_retailrocket_categories_flattened') }}

),

product_days as (

    select * from {{ ref('agg_daily_product_stats') }}

),

from_catalog as (

    select
        product_id,
        source_system,
        source_product_id,
        category_id,
        category_code,
        brand,
        price,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        'catalog_snapshot' as version_source
    from catalog_versions

),

from_app as (

    select
        {{ namespaced_id("'retailrocket'", 'app_versions.product_id') }} as product_id,
        'retailrocket' as source_system,
        cast(app_versions.product_id as string) as source_product_id,
        {{ namespaced_id("'retailrocket'", 'app_versions.category_id') }} as category_id,
        coalesce(app_categories.category_path, cast(app_versions.category_id as string)) as category_code,
        cast(null as string) as brand,
        app_versions.price,
        app_versions.valid_from,
        app_versions.valid_to,
        'item_properties' as version_source
    from app_versions
    -- many-to-one: one row per category
    left join app_categories
        on app_versions.category_id = app_categories.category_id

),

with_feed as (

    select * from from_catalog
    union all
    select * from from_app

),

event_latest as (

    -- per product its first event and the attributes of its latest one (ties by event id within a day,
    -- where agg_daily_product_stats keeps them; the days' last events are at distinct times)
    select
        product_id,
        min(first_event_at) as first_seen_at,
        max_by(last_event, last_event_at) as latest
    from product_days
    group by product_id

),

from_events as (

    select
        event_latest.product_id,
        event_latest.latest.source_system,
        substring_index(event_latest.product_id, ':', -1) as source_product_id,
        event_latest.latest.category_id,
        event_latest.latest.category_code,
        event_latest.latest.brand,
        event_latest.latest.price,
        event_latest.first_seen_at as valid_from,
        cast(null as timestamp) as valid_to,
        'events' as version_source
    from event_latest
    left anti join with_feed
        on event_latest.product_id = with_feed.product_id

),

versions as (

    select * from with_feed
    union all
    select * from from_events

),

final as (

    select
        sha2(concat_ws('|', product_id, cast(valid_from as string)), 256) as product_version_id,
        product_id,
        source_system,
        source_product_id,
        category_id,
        category_code,
        split_part(category_code, '.', 1) as category_level_1,
        nullif(split_part(category_code, '.', 2), '') as category_level_2,
        nullif(split_part(category_code, '.', 3), '') as category_level_3,
        brand,
        price,
        valid_from,
        valid_to,
        valid_to is null as is_current,
        version_source
    from versions

)

select * from final
