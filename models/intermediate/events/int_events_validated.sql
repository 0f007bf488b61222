{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='event_id',
        on_schema_change='append_new_columns',
        liquid_clustered_by=databricks_only(['event_date']),
        partition_by=local_only(['event_date']),
        tblproperties=large_table_properties(),
    )
}}

{%- set columns = [
    'event_id',
    'source_system',
    'event_at',
    'event_date',
    'event_type',
    'user_id',
    'product_id',
    'source_user_id',
    'source_product_id',
    'category_id',
    'category_code',
    'category_level_1',
    'category_level_2',
    'category_level_3',
    'brand',
    'price',
    'is_price_missing',
    'user_session_id',
    'is_session_derived',
    'transaction_id',
    'extra_columns',
    'source_file_name',
    'batch_id',
    'ingested_at',
] -%}

{#- Silver: the valid events of every source, deduplicated (duplicate_rank 1), app events enriched from
    their item's history, sessions derived where none was delivered. Incremental: merges the batches
    delivered since the last run and re-derives the sessions of the users they touch (see the yml). -#}

with deduplicated as (

    select * from {{ ref('int_events_ranked') }}
    where quarantine_reason is null and duplicate_rank = 1 and {{ delivered_since_last_run() }}

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

new_events as (

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
        ingested_at,
        cast(null as string) as session_before
    from events

),

to_sessionise as (

    select
        {% for column in columns if column != 'user_session_id' -%}
            {{ column }},
        {% endfor -%}
        user_session_id,
        session_before
    from new_events
    where is_session_derived
    {%- if is_incremental() %}

        union all

        -- the earlier sessionless events of the users this batch touches
        select
            {% for column in columns if column != 'user_session_id' -%}
                this_run.{{ column }},
            {% endfor -%}
            cast(null as string) as user_session_id,
            this_run.user_session_id as session_before
        from {{ this }} as this_run
        where
            is_session_derived
            and exists (
                select 1 from new_events
                where
                    new_events.is_session_derived
                    and new_events.source_system = this_run.source_system
                    and new_events.user_id = this_run.user_id
            )
    {%- endif %}

),

session_starts as (

    select
        *,
        coalesce(
            event_at > lag(event_at) over (partition by source_system, user_id order by event_at)
            + make_interval(0, 0, 0, 0, 0, {{ var('session_inactivity_minutes') | int }}, 0),
            true
        ) as starts_session
    from to_sessionise

),

sessionised as (

    select
        * except (user_session_id, starts_session),
        concat_ws(
            '-',
            'derived',
            user_id,
            cast(unix_timestamp(max(case when starts_session then event_at end) over (
                partition by source_system, user_id
                order by event_at
                rows between unbounded preceding and current row
            )) as string)
        ) as user_session_id
    from session_starts

),

written as (

    select {{ columns | join(', ') }} from new_events
    where not is_session_derived

    union all

    -- new events, and earlier ones whose session changed
    select {{ columns | join(', ') }} from sessionised
    where session_before is null or session_before != user_session_id

),

final as (

    select
        *,
        current_timestamp() as updated_at
    from written

)

select * from final
