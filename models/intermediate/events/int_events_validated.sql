-- Silver: valid events, one row per (source, user, product, event type, second).
-- Exact duplicates and the same event repeated within one second collapse to the earliest delivered row
-- (duplicate_rank = 1 in staging). The removed rows are kept, for audit, in int_events_duplicates.

with events as (

    select * from {{ ref('stg_rees46__events') }}
    where quarantine_reason is null and duplicate_rank = 1

),

final as (

    select
        sha2(
            concat_ws(
                '|', source_system, cast(user_id as string), cast(product_id as string),
                event_type, cast(event_at as string)
            ),
            256
        ) as event_id,
        source_system,
        event_at,
        event_date,
        event_type,
        product_id,
        category_id,
        category_code,
        split_part(category_code, '.', 1) as category_level_1,
        nullif(split_part(category_code, '.', 2), '') as category_level_2,
        nullif(split_part(category_code, '.', 3), '') as category_level_3,
        brand,
        price,
        user_id,
        user_session_id,
        source_file_name,
        batch_id
    from events

)

select * from final
