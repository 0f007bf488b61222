-- Silver: valid events, one row per (source, user, product, event type, second).
-- Exact duplicates and the same event repeated within one second collapse to the earliest delivered row
-- (duplicate_rank = 1 in staging). The removed rows are kept, for audit, in int_events_duplicates.
-- Events delivered without a session id get one derived from the user's activity: a new session starts
-- after `session_inactivity_minutes` without an event.

with deduplicated as (

    select * from {{ ref('stg_rees46__events') }}
    where quarantine_reason is null and duplicate_rank = 1

),

sessionless as (

    select
        *,
        coalesce(
            event_at > lag(event_at) over (partition by source_system, user_id order by event_at)
            + make_interval(0, 0, 0, 0, 0, {{ var('session_inactivity_minutes') | int }}, 0),
            true
        ) as starts_session
    from deduplicated
    where user_session_id is null

),

sessionised as (

    select
        *,
        max(case when starts_session then event_at end) over (
            partition by source_system, user_id
            order by event_at
            rows between unbounded preceding and current row
        ) as session_started_at
    from sessionless

),

events as (

    select
        * except (user_session_id),
        user_session_id,
        false as is_session_derived
    from deduplicated
    where user_session_id is not null

    union all

    select
        * except (user_session_id, starts_session, session_started_at),
        concat_ws(
            '-', 'derived', source_system, cast(user_id as string), cast(unix_timestamp(session_started_at) as string)
        ) as user_session_id,
        true as is_session_derived
    from sessionised

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
        is_session_derived,
        source_file_name,
        batch_id
    from events

)

select * from final
