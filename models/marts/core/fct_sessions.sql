{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='user_session_id',
        on_schema_change='append_new_columns',
        liquid_clustered_by=databricks_only(['session_date']),
        partition_by=local_only(['session_date']),
        tblproperties=large_table_properties(),
        pre_hook=["{{ add_missing_mark_column() }}", "{{ delete_vanished_sessions('user_session_id') }}"],
    )
}}
{#- Gold: one row per session (delivered by the web shop, derived from inactivity where none was): its
    span, activity, revenue (known only when every purchase in it has a known price) and conversion.
    Incremental: a run recomputes the sessions the events written since its last run belong to, from all of
    their events; a derived session that no longer exists is deleted first (see the yml). Laid out by
    session_date (partitions locally, liquid clustering on Databricks): the sessions a day changes are
    recent, so the merge rewrites the last days' files, not every session. -#}

with events as (

    select * from {{ ref('fct_events') }}
    {%- if is_incremental() %}
        -- every event of each session an event written since the last run belongs to (a delivered session
        -- can hold other users' events), read from the first day such a session can have an event on
        where
            user_session_id in (select changed.user_session_id from ({{ session_events_since_last_run() }}) as changed)
            and event_date >= ({{ first_day_of_changed_sessions() }})
    {%- endif %}

),

final as (

    select
        user_session_id,
        max(source_system) as source_system,
        max(user_id) as user_id,
        min(event_at) as session_started_at,
        max(event_at) as session_ended_at,
        cast(min(event_at) as date) as session_date,
        unix_timestamp(max(event_at)) - unix_timestamp(min(event_at)) as duration_seconds,
        count(*) as events_count,
        sum(case when event_type = 'view' then 1 else 0 end) as views,
        sum(case when event_type = 'cart' then 1 else 0 end) as carts,
        sum(case when event_type = 'remove_from_cart' then 1 else 0 end) as removes,
        sum(case when event_type = 'purchase' then 1 else 0 end) as purchases,
        count(distinct product_id) as products_count,
        -- revenue is 0 for events other than purchases and null for a purchase of unknown price
        case when count(revenue) = count(*) then cast(sum(revenue) as decimal(18, 2)) end as revenue,
        count(revenue) = count(*) as is_value_known,
        max(case when event_type = 'cart' then 1 else 0 end) = 1 as has_cart,
        max(case when event_type = 'purchase' then 1 else 0 end) = 1 as is_converting,
        max(case when event_type = 'cart' then 1 else 0 end) = 1
        and max(case when event_type = 'purchase' then 1 else 0 end) = 0 as is_cart_abandoned,
        max(is_session_derived) as is_session_derived,
        -- the newest fct_events write among the session's events: the next run's mark
        max(updated_at) as events_updated_at
    from events
    group by user_session_id

)

select * from final
